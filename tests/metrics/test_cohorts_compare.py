"""Tests of segwork.metrics.cohorts_compare (pooling a cohort_retention table).

Rules checked (sections of docs/metrics.md, summarised; the pooling itself is "Cohort comparison"):
- (L) "Logo retention": customers of c active in period c+k / customers of c.
- (V) "Revenue retention": revenue of c's customers in c+k / their revenue in c.
- (F) "Cohorts": cells after the as-of date do not exist: missing and drawn blank, never 0.
- (W) "Confidence intervals": a rate (churn, retention, conversion) gets the Wilson score
  interval, 95 % unless set otherwise.
- (R) "Conventions": a ratio whose denominator is 0 is missing (NaN), never 0 or infinite.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork.metrics.cohorts_compare import compare_cohort_years, weighted_average_retention

Z = 1.959963984540054  # the 97.5 % normal quantile


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval written out (W, docs/metrics.md "Confidence intervals")."""
    p = k / n
    denom = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


# Monthly cohorts (logo), as_of 2024-02-29 so later cells are absent (F):
#   2023-12: 40 customers; age 1: 30, age 2: 24
#   2024-01: 60 customers; age 1: 48
#   2024-02: 50 customers
LONG = pd.DataFrame(
    {
        "cohort": pd.to_datetime(["2023-12-01"] * 3 + ["2024-01-01"] * 2 + ["2024-02-01"]),
        "age": [0, 1, 2, 0, 1, 0],
        "cohort_customers": [40, 40, 40, 60, 60, 50],
        "active_customers": [40, 30, 24, 60, 48, 50],
    }
)
LONG["retention"] = LONG["active_customers"] / LONG["cohort_customers"]


def test_weighted_average_pools_the_observed_cohorts() -> None:
    # age 0: (40 + 60 + 50) / (40 + 60 + 50) = 1, 3 cohorts
    # age 1: (30 + 48) / (40 + 60) = 0.78, 2 cohorts (the mean of 0.75 and 0.8 weighted 40:60)
    # age 2: 24 / 40 = 0.6, 1 cohort
    out = weighted_average_retention(LONG)
    assert list(out.columns) == [
        "age", "cohorts", "cohort_customers", "active_customers", "retention", "ci_low", "ci_high"
    ]
    assert out["cohorts"].tolist() == [3, 2, 1]
    assert out["cohort_customers"].tolist() == [150, 100, 40]
    np.testing.assert_allclose(out["retention"], [1.0, 0.78, 0.6])
    assert out["cohorts"].dtype == "int64" and out["active_customers"].dtype == "int64"
    low, high = wilson(78, 100)
    assert out["ci_low"][1] == pytest.approx(low) and out["ci_high"][1] == pytest.approx(high)


def test_weighted_average_by_segment_and_revenue() -> None:
    # Revenue table with a segment (V): plan a: base 100 + 300, at age 1: 90 + 330 -> 420/400
    # = 1.05; plan b: base 0 -> NaN (R).
    long = pd.DataFrame(
        {
            "plan": ["a", "a", "a", "a", "b", "b"],
            "cohort": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-02-01",
                                      "2024-01-01", "2024-01-01"]),
            "age": [0, 1, 0, 1, 0, 1],
            "mrr_base": [100.0, 100.0, 300.0, 300.0, 0.0, 0.0],
            "mrr_at_age": [100.0, 90.0, 300.0, 330.0, 0.0, 5.0],
        }
    )
    long["nrr"] = long["mrr_at_age"] / long["mrr_base"].where(long["mrr_base"] > 0)
    out = weighted_average_retention(long)
    assert list(out.columns) == ["plan", "age", "cohorts", "mrr_base", "mrr_at_age", "nrr"]
    np.testing.assert_allclose(out["nrr"], [1.0, 1.05, math.nan, math.nan])


def test_compare_years_logo_with_wilson_intervals() -> None:
    # age 1: 2023 cohorts: 2023-12 -> 30 of 40; 2024 cohorts: 2024-01 -> 48 of 60 (2024-02 is not
    # old enough: 1 of 2 cohorts observed).
    cmp = compare_cohort_years(LONG, 2024, 2023, age=1, label="1-month")
    t = cmp.table
    assert list(t.columns) == [
        "year", "cohorts", "cohorts_observed", "customers", "retained", "retention", "ci_low",
        "ci_high",
    ]
    assert t["year"].tolist() == [2024, 2023]
    assert t["cohorts"].tolist() == [2, 1] and t["cohorts_observed"].tolist() == [1, 1]
    assert t["customers"].tolist() == [60, 40] and t["retained"].tolist() == [48, 30]
    np.testing.assert_allclose(t["retention"], [0.8, 0.75])
    lo24, hi24 = wilson(48, 60)
    lo23, hi23 = wilson(30, 40)
    np.testing.assert_allclose(t["ci_low"], [lo24, lo23])
    np.testing.assert_allclose(t["ci_high"], [hi24, hi23])
    assert cmp.sentence == (
        f"1-month retention of the 2024 cohorts vs the 2023 cohorts: 80.0 % (95 % CI "
        f"{100 * lo24:.1f}-{100 * hi24:.1f} %) vs 75.0 % (95 % CI {100 * lo23:.1f}-"
        f"{100 * hi23:.1f} %) (2024: 1 of 2 cohorts old enough)."
    )


def test_compare_years_not_observed_yet() -> None:
    cmp = compare_cohort_years(LONG, 2024, 2023, age=2)
    assert cmp.table["cohorts_observed"].tolist() == [0, 1]
    assert math.isnan(cmp.table["retention"][0]) and math.isnan(cmp.table["ci_low"][0])
    assert cmp.sentence.startswith("2-period retention of the 2024 cohorts vs the 2023 cohorts: ")
    assert "not observed yet vs 60.0 %" in cmp.sentence
    assert "no 2024 cohort is old enough" in cmp.sentence


def test_compare_on_cohort_retention_output() -> None:
    # Transactions, quarterly (a real cohort_retention table, segments pooled):
    #   c1 (a): orders 2023-02 and 2024-02 -> cohort 2023-Q1, active at age 4
    #   c2 (b): order 2023-03 only          -> cohort 2023-Q1, not active at age 4
    #   c3 (a): orders 2024-01, 2025-01     -> cohort 2024-Q1, active at age 4
    # as_of 2025-03-31: 2023: 1 of 2 retained at age 4; 2024: 1 of 1.
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "plan": ["a", "b", "a"],
                              "signup_date": ["2023-01-01", "2023-01-01", "2024-01-01"]})
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3], "order_id": [1, 2, 3, 4, 5],
                       "date": ["2023-02-01", "2024-02-01", "2023-03-01", "2024-01-05",
                                "2025-01-05"], "amount": [5.0] * 5})
    data = segwork.load({"customers": customers, "transactions": tx})
    long = segwork.cohort_retention(data, "2025-03-31", period="quarter", by="plan")
    cmp = compare_cohort_years(long, 2024, 2023, age=4, label="12-month")
    assert cmp.table["customers"].tolist() == [1, 2] and cmp.table["retained"].tolist() == [1, 1]
    assert cmp.sentence.startswith("12-month retention of the 2024 cohorts vs the 2023 cohorts: 100.0 %")
    nrr = segwork.cohort_retention(data, "2025-03-31", period="quarter", metric="nrr")
    rev = compare_cohort_years(nrr, 2024, 2023, age=4, label="12-month")
    assert list(rev.table.columns) == ["year", "cohorts", "cohorts_observed", "mrr_base",
                                       "mrr_at_age", "nrr"]
    # 2023: base 5 + 5, at age 4: 5 -> 0.5; 2024: 5 / 5 = 1
    np.testing.assert_allclose(rev.table["nrr"], [1.0, 0.5])
    assert rev.sentence == "12-month NRR of the 2024 cohorts vs the 2023 cohorts: 100.0 % vs 50.0 %."


def test_errors() -> None:
    with pytest.raises(ValueError, match="cohort_retention"):
        weighted_average_retention(pd.DataFrame({"x": [1]}))
    with pytest.raises(ValueError, match="cohort_retention"):
        compare_cohort_years(LONG.drop(columns="retention"), 2024, 2023)
    with pytest.raises(ValueError, match="age must be"):
        compare_cohort_years(LONG, 2024, 2023, age=-1)
