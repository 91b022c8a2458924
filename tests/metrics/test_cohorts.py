"""Tests of cohort retention (segwork/metrics/cohorts.py) against docs/metrics.md "Cohorts".

Every expected value below is worked out by hand from the tiny tables, with the arithmetic in a
comment.  Rules cited (sections of docs/metrics.md, summarised):

- (C1) "Cohorts": a customer's cohort is a period (week / month / quarter / year): by default that
  of its first activity (first month with MRR > 0 for subscription data, first order for
  transaction data), with cohort="signup" that of its signup_date.
- (C2) "Cohorts": age k counts complete periods from the cohort period, which is age 0.
- (C3) "Logo retention": customers of c active in period c+k / customers of c; active means
  MRR > 0 (subscriptions) or at least one order in the period (transactions).
- (C4) "Revenue retention": revenue of c's customers in c+k / their revenue in c.
- (C5) "Cohorts": cells after the as-of date do not exist: missing and drawn blank, never 0.
- (G) "Revenue retention", "NRR and GRR": GRR caps each customer's revenue at its base value.
- (P) "Conventions": data dated after as_of is ignored; the population is the customers with
  signup_date <= as_of.
- (R) "Conventions": a ratio whose denominator is 0 is missing (NaN), never 0 or infinite.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwork
from segwork.metrics.cohorts import FirstActiveMonth, cohort_matrix, cohort_retention
from segwork.metrics.page_months import ActiveMonths

LOGO = ["cohort", "age", "cohort_customers", "active_customers", "retention"]
NAN = float("nan")


Columns = dict[str, list[Any]]


def _load(
    customers: Columns, mrr: Columns | None = None, transactions: Columns | None = None
) -> segwork.Dataset:
    frames = {"customers": pd.DataFrame(customers)}
    if mrr is not None:
        frames["mrr"] = pd.DataFrame(mrr)
    if transactions is not None:
        frames["transactions"] = pd.DataFrame(transactions)
    return segwork.load(frames)


def _matrix(long: pd.DataFrame, value: str = "retention") -> dict[Any, list[float]]:
    """{cohort 'YYYY-MM-DD': [value at age 0, 1, ...]} with NaN cells dropped from the end."""
    m = cohort_matrix(long, value)
    out: dict[Any, list[float]] = {}
    for cohort, row in m.iterrows():
        vals = [float(v) for v in row.to_numpy()]
        while vals and math.isnan(vals[-1]):
            vals.pop()
        key = cohort if isinstance(cohort, tuple) else pd.Timestamp(cohort).strftime("%Y-%m-%d")
        out[key] = vals
    return out


def _close(got: list[float], want: list[float]) -> bool:
    return len(got) == len(want) and all(
        (math.isnan(g) and math.isnan(w)) or math.isclose(g, w, abs_tol=1e-12)
        for g, w in zip(got, want, strict=True)
    )


# -- the 4-customer monthly table --------------------------------------------------------------
# as_of 2024-04-30: months Jan..Apr 2024.
#   c1: Jan Feb Mar Apr          (pro)
#   c2: Jan  .   .  Apr          (starter; explicit 0 rows in Feb and Mar = not active)
#   c3:  .  Feb Mar  .           (pro)
#   c4:  .  Feb  .   .  (May: after as_of, ignored)   (no plan: null segment)
#   c5: signs up 2024-05-02 (after as_of): not in the population even with MRR in April
FOUR: dict[str, Columns] = {
    "customers": {
        "customer_id": [1, 2, 3, 4, 5],
        "signup_date": ["2024-01-02", "2024-01-15", "2024-02-01", "2024-02-20", "2024-05-02"],
        "plan": ["pro", "starter", "pro", None, "pro"],
    },
    "mrr": {
        "customer_id": [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 5],
        "month": [
            "2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01",
            "2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01",
            "2024-02-01", "2024-03-01",
            "2024-02-01", "2024-05-01",
            "2024-04-01",
        ],
        "mrr": [10.0, 10.0, 10.0, 10.0, 20.0, 0.0, 0.0, 20.0, 5.0, 5.0, 8.0, 8.0, 99.0],
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def four():
    return _load(FOUR["customers"], FOUR["mrr"])


def test_monthly_logo_retention_hand_matrix(four):
    # C1: cohorts by first month with MRR > 0: Jan = {c1, c2}, Feb = {c3, c4}; c5 excluded (P).
    # C3: Jan cohort: Jan 2/2 = 1, Feb {c1} 1/2, Mar {c1} 1/2, Apr {c1, c2} 2/2 = 1.
    #     Feb cohort: Feb 2/2 = 1, Mar {c3} 1/2, Apr {} 0/2 = 0, May is after as_of: absent (C5).
    long = cohort_retention(four, "2024-04-30")
    assert list(long.columns) == LOGO
    assert long.dtypes["cohort"] == "datetime64[ns]"
    for c in ("age", "cohort_customers", "active_customers"):
        assert long.dtypes[c] == "int64"
    assert _matrix(long) == {
        "2024-01-01": [1.0, 0.5, 0.5, 1.0],
        "2024-02-01": [1.0, 0.5, 0.0],
    }
    assert long["cohort_customers"].tolist() == [2] * 7
    assert long["active_customers"].tolist() == [2, 1, 1, 2, 2, 1, 0]
    # sorted by cohort, age (C2: age 0 = the cohort period)
    assert long["age"].tolist() == [0, 1, 2, 3, 0, 1, 2]


def test_future_cells_absent_zero_cells_present(four):
    # C5: with as_of 2024-03-31 April lies after as_of: Jan cohort has ages 0..2, Feb 0..1.
    long = cohort_retention(four, "2024-03-31")
    assert _matrix(long) == {"2024-01-01": [1.0, 0.5, 0.5], "2024-02-01": [1.0, 0.5]}
    assert len(long) == 5  # no rows for April at all (missing, not 0)
    # the current partial period is included: as_of 2024-04-01 shows April (Feb cohort at age 2
    # has a row with 0 active customers: a zero cell, not a missing one)
    long = cohort_retention(four, "2024-04-01")
    feb = long[long["cohort"] == pd.Timestamp("2024-02-01")]
    assert feb["age"].tolist() == [0, 1, 2]
    assert feb["active_customers"].tolist() == [2, 1, 0]
    assert feb["retention"].tolist() == [1.0, 0.5, 0.0]
    # cohort_matrix draws the future cell blank (NaN), the zero cell as 0
    m = cohort_matrix(long)
    assert m.loc[pd.Timestamp("2024-02-01"), 2] == 0.0
    assert math.isnan(m.loc[pd.Timestamp("2024-02-01"), 3])


# -- quarters and years ------------------------------------------------------------------------
# a: Nov 10, Dec 10 (2023)                              -> cohort 2023-Q4
# b: Dec 20, Jan 30, Feb 30, Mar 40, Apr 40 (2023/2024)  -> cohort 2023-Q4
# c: Feb 5, Jul 7 (2024)                                 -> cohort 2024-Q1
# as_of 2024-08-15: the current quarter is 2024-Q3 (partial; its revenue month is August)
QUARTERS: dict[str, Columns] = {
    "customers": {
        "customer_id": ["a", "b", "c"],
        "signup_date": ["2023-11-01", "2023-12-01", "2024-02-01"],
    },
    "mrr": {
        "customer_id": ["a", "a", "b", "b", "b", "b", "b", "c", "c"],
        "month": ["2023-11-01", "2023-12-01", "2023-12-01", "2024-01-01", "2024-02-01",
                  "2024-03-01", "2024-04-01", "2024-02-01", "2024-07-01"],
        "mrr": [10.0, 10.0, 20.0, 30.0, 30.0, 40.0, 40.0, 5.0, 7.0],
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def quarters():
    return _load(QUARTERS["customers"], QUARTERS["mrr"])


def test_quarterly_logo_retention(quarters):
    # C3 with quarters: active = MRR > 0 in at least one month of the quarter.
    # 2023-Q4 {a, b}: Q4 2/2, 2024-Q1 {b} 1/2, Q2 {b (Apr)} 1/2, Q3 {} 0/2.
    # 2024-Q1 {c}: Q1 1/1, Q2 0/1, Q3 {c (Jul)} 1/1.  2024-Q4 is after as_of: absent (C5).
    long = cohort_retention(quarters, "2024-08-15", period="quarter")
    assert _matrix(long) == {
        "2023-10-01": [1.0, 0.5, 0.5, 0.0],
        "2024-01-01": [1.0, 0.0, 1.0],
    }


def test_yearly_logo_retention(quarters):
    # 2023 {a, b}: 2023 2/2, 2024 {b} 1/2.  2024 {c}: 1/1.
    long = cohort_retention(quarters, "2024-08-15", period="year")
    assert _matrix(long) == {"2023-01-01": [1.0, 0.5], "2024-01-01": [1.0]}
    assert long["cohort_customers"].tolist() == [2, 2, 1]


def test_quarterly_nrr_uses_month_end_mrr(quarters):
    # C4, revenue of a quarter = MRR of its last month (as_of's month for the partial quarter):
    # 2023-Q4: base = Dec: a 10 + b 20 = 30; Q1 = Mar: b 40 -> 40/30; Q2 = Jun: 0 -> 0;
    #          Q3 = Aug (as_of month): 0 -> 0.
    # 2024-Q1: base = Mar: c had only Feb -> 0; every ratio is 0/0 -> NaN (R).
    long = cohort_retention(quarters, "2024-08-15", period="quarter", metric="nrr")
    assert list(long.columns) == ["cohort", "age", "mrr_base", "mrr_at_age", "nrr"]
    got = _matrix(long, "nrr")
    assert _close(got["2023-10-01"], [1.0, 40 / 30, 0.0, 0.0])
    q1 = long[long["cohort"] == pd.Timestamp("2024-01-01")]
    assert q1["mrr_base"].tolist() == [0.0, 0.0, 0.0]
    assert q1["mrr_at_age"].tolist() == [0.0, 0.0, 0.0]
    assert q1["nrr"].isna().all()


# -- signup vs first activity -------------------------------------------------------------------
# x signs up 2024-01-10 but first pays in March (50 in Mar, Apr); y pays 10 in Jan, Feb, Mar.
SIGNUP: dict[str, Columns] = {
    "customers": {"customer_id": [1, 2], "signup_date": ["2024-01-10", "2024-01-20"]},
    "mrr": {
        "customer_id": [1, 1, 2, 2, 2],
        "month": ["2024-03-01", "2024-04-01", "2024-01-01", "2024-02-01", "2024-03-01"],
        "mrr": [50.0, 50.0, 10.0, 10.0, 10.0],
    },
}


@pytest.fixture(scope="module")
def signup_data():
    return _load(SIGNUP["customers"], SIGNUP["mrr"])


def test_cohort_signup_vs_first_active(signup_data):
    # C1 first activity: y -> Jan cohort: Jan..Apr = 1, 1, 1, 0; x -> Mar cohort: 1, 1.
    first = cohort_retention(signup_data, "2024-04-30", cohort="first_active")
    assert _matrix(first) == {"2024-01-01": [1.0, 1.0, 1.0, 0.0], "2024-03-01": [1.0, 1.0]}
    # C1 with cohort="signup" (the signup period): both in the Jan cohort.
    # Jan {y} 1/2, Feb {y} 1/2, Mar {x, y} 2/2, Apr {x} 1/2.
    signup = cohort_retention(signup_data, "2024-04-30", cohort="signup")
    assert _matrix(signup) == {"2024-01-01": [0.5, 0.5, 1.0, 0.5]}


def test_signup_cohort_revenue_base_counts_only_cohort_period(signup_data):
    # C4 with signup cohorts: base = revenue in Jan = y 10 (x had none then).
    # NRR: Jan 10/10, Feb 10/10, Mar (50 + 10)/10 = 6, Apr 50/10 = 5.
    nrr = cohort_retention(signup_data, "2024-04-30", cohort="signup", metric="nrr")
    assert _matrix(nrr, "nrr") == {"2024-01-01": [1.0, 1.0, 6.0, 5.0]}
    # G: x capped at its Jan revenue 0, y at 10: Mar min(50,0)+min(10,10) = 10 -> 1, Apr 0 -> 0.
    grr = cohort_retention(signup_data, "2024-04-30", cohort="signup", metric="grr")
    assert list(grr.columns) == ["cohort", "age", "mrr_base", "mrr_at_age", "grr"]
    assert _matrix(grr, "grr") == {"2024-01-01": [1.0, 1.0, 1.0, 0.0]}


# -- the vendor NRR example ---------------------------------------------------------------------
# "A cohort going 1,000 -> 900 (-100 churn) -> 1,100 (+200 expansion) has NRR 110 %":
#   month 0: A 500 + B 400 + C 100 = 1000; month 1: C churns: 900; month 2: A expands +200: 1100.
VENDOR: dict[str, Columns] = {
    "customers": {"customer_id": [1, 2, 3], "signup_date": ["2024-01-01"] * 3},
    "mrr": {
        "customer_id": [1, 2, 3, 1, 2, 1, 2],
        "month": ["2024-01-01"] * 3 + ["2024-02-01"] * 2 + ["2024-03-01"] * 2,
        "mrr": [500.0, 400.0, 100.0, 500.0, 400.0, 700.0, 400.0],
    },
}


@pytest.fixture(scope="module")
def vendor():
    return _load(VENDOR["customers"], VENDOR["mrr"])


def test_vendor_nrr_example(vendor):
    # C4: 1000/1000 = 1, 900/1000 = 0.9, 1100/1000 = 1.1
    long = cohort_retention(vendor, "2024-03-31", metric="nrr")
    assert long["mrr_base"].tolist() == [1000.0] * 3
    assert long["mrr_at_age"].tolist() == [1000.0, 900.0, 1100.0]
    assert _close(long["nrr"].tolist(), [1.0, 0.9, 1.1])


def test_vendor_grr_capped(vendor):
    # G: month 2: min(700, 500) + min(400, 400) = 900 -> 0.9 (expansion does not count), <= 1.
    long = cohort_retention(vendor, "2024-03-31", metric="grr")
    assert long["mrr_at_age"].tolist() == [1000.0, 900.0, 900.0]
    assert _close(long["grr"].tolist(), [1.0, 0.9, 0.9])
    assert (long["grr"] <= 1).all()


def test_vendor_from_subscriptions():
    # The same cohort from subscriptions (mrr derived by docs/metrics.md "MRR"): A's plan grows in
    # March (old subscription ends 2024-03-01, so it does not count in March), C ends 2024-02-01.
    data = segwork.load(
        {
            "customers": pd.DataFrame(VENDOR["customers"]),
            "subscriptions": pd.DataFrame(
                {
                    "customer_id": [1, 1, 2, 3],
                    "start_date": ["2024-01-01", "2024-03-01", "2024-01-01", "2024-01-01"],
                    "end_date": ["2024-03-01", None, None, "2024-02-01"],
                    "amount": [500.0, 700.0, 400.0, 100.0],
                    "billing_interval": ["month"] * 4,
                }
            ),
        }
    )
    long = cohort_retention(data, "2024-03-31", metric="nrr")
    assert _close(long["nrr"].tolist(), [1.0, 0.9, 1.1])
    with pytest.raises(ValueError, match="period='week' needs transactions"):
        cohort_retention(data, "2024-03-31", period="week")


# -- transactions only -------------------------------------------------------------------------
# Weeks start on Monday: W0 = 2024-01-01 (a Monday), W1 = 01-08, W2 = 01-15, ..., W5 = 02-05.
#   t1 orders: Mon 01-01 (10), Sun 01-07 (5) [both W0], Mon 01-15 (20) [W2],
#              Sat 02-10 (99) [after as_of: ignored]
#   t2 orders: Tue 01-09 (7), Wed 01-10 (8) [W1], Mon 02-05 (30) [W5]
# as_of = Tue 2024-02-06 (in W5).
TX: dict[str, Columns] = {
    "customers": {"customer_id": [1, 2], "signup_date": ["2024-01-01", "2024-01-03"]},
    "transactions": {
        "customer_id": [1, 1, 1, 1, 2, 2, 2],
        "order_id": [1, 2, 3, 4, 5, 6, 7],
        "date": ["2024-01-01", "2024-01-07", "2024-01-15", "2024-02-10",
                 "2024-01-09", "2024-01-10", "2024-02-05"],
        "amount": [10.0, 5.0, 20.0, 99.0, 7.0, 8.0, 30.0],
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def tx():
    return _load(TX["customers"], transactions=TX["transactions"])


def test_transactions_weekly(tx):
    # C1: cohort = week of first order: t1 -> W0 (2024-01-01), t2 -> W1 (2024-01-08).
    # C3: t1 active W0, W2 -> ages 0..5 = 1,0,1,0,0,0 (Feb 10 after as_of, P);
    #     t2 active W1, W5 -> ages 0..4 = 1,0,0,0,1.
    long = cohort_retention(tx, "2024-02-06", period="week")
    assert _matrix(long) == {
        "2024-01-01": [1.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        "2024-01-08": [1.0, 0.0, 0.0, 0.0, 1.0],
    }
    # every cohort starts on a Monday
    assert (long["cohort"].dt.dayofweek == 0).all()
    # C4 with orders: t1 base W0 = 10 + 5 = 15, W2 = 20 -> 20/15
    nrr = cohort_retention(tx, "2024-02-06", period="week", metric="nrr")
    assert _close(_matrix(nrr, "nrr")["2024-01-01"], [1.0, 0.0, 20 / 15, 0.0, 0.0, 0.0])


def test_transactions_monthly(tx):
    # Jan cohort {t1, t2}: Jan 2/2, Feb {t2} 1/2.
    long = cohort_retention(tx, "2024-02-06")
    assert _matrix(long) == {"2024-01-01": [1.0, 0.5]}
    # C4: base Jan = 10 + 5 + 20 + 7 + 8 = 50; Feb = 30 (t1's 99 is after as_of) -> 0.6
    nrr = cohort_retention(tx, "2024-02-06", metric="nrr")
    assert nrr["mrr_base"].tolist() == [50.0, 50.0]
    assert _close(nrr["nrr"].tolist(), [1.0, 0.6])
    # G: t2 capped at its Jan 15 -> 15/50 = 0.3
    grr = cohort_retention(tx, "2024-02-06", metric="grr")
    assert _close(grr["grr"].tolist(), [1.0, 0.3])


# -- segments -----------------------------------------------------------------------------------
def test_by_plan_with_null_segment(four):
    # pro:     Jan {c1}: 1, 1, 1, 1;  Feb {c3}: 1, 1, 0
    # starter: Jan {c2}: 1, 0, 0, 1
    # null:    Feb {c4}: 1, 0, 0      (a null attribute value is its own segment, sorted last)
    long = cohort_retention(four, "2024-04-30", by=["plan"])
    assert list(long.columns) == ["plan", *LOGO]
    assert list(_matrix(long).values()) == [
        [1.0, 1.0, 1.0, 1.0],  # pro, Jan
        [1.0, 1.0, 0.0],  # pro, Feb
        [1.0, 0.0, 0.0, 1.0],  # starter, Jan
        [1.0, 0.0, 0.0],  # null, Feb
    ]
    assert long["plan"].iloc[:7].tolist() == ["pro"] * 4 + ["pro"] * 3
    assert long["plan"].iloc[7:11].tolist() == ["starter"] * 4
    assert long["plan"].iloc[11:].isna().all() and len(long) == 14
    mat = cohort_matrix(long)
    assert mat.index.names == ["plan", "cohort"]


def test_where_plan_pro(four):
    # where filters customers: {c1, c3} -> Jan {c1}: 1,1,1,1; Feb {c3}: 1,1,0
    long = cohort_retention(four, "2024-04-30", where={"plan": "pro"})
    assert list(long.columns) == LOGO
    assert _matrix(long) == {"2024-01-01": [1.0, 1.0, 1.0, 1.0], "2024-02-01": [1.0, 1.0, 0.0]}
    assert long["cohort_customers"].tolist() == [1] * 7


# -- errors -------------------------------------------------------------------------------------
def test_errors(four, tx):
    with pytest.raises(ValueError, match=r"period='fortnight'.*'week', 'month', 'quarter', 'year'"):
        cohort_retention(four, "2024-04-30", period="fortnight")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"metric='arr'.*'logo', 'nrr', 'grr'"):
        cohort_retention(four, "2024-04-30", metric="arr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"cohort='trial'.*'first_active', 'signup'"):
        cohort_retention(four, "2024-04-30", cohort="trial")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unknown segment column 'country'.*plan"):
        cohort_retention(four, "2024-04-30", by=["country"])
    with pytest.raises(ValueError, match="before all data"):
        cohort_retention(four, "2023-06-30")
    with pytest.raises(ValueError, match="as_of"):
        cohort_retention(four, None)
    with pytest.raises(ValueError, match="period='week' needs transactions"):
        cohort_retention(four, "2024-04-30", period="week")
    with pytest.raises(ValueError, match="no customer has any activity"):
        # as_of 2024-01-15: only x is in the population and it first pays in March
        cohort_retention(_load(SIGNUP["customers"], SIGNUP["mrr"]), "2024-01-15")
    long = cohort_retention(tx, "2024-02-06")
    with pytest.raises(ValueError, match=r"value='nrr'.*retention"):
        cohort_matrix(long, "nrr")
    with pytest.raises(ValueError, match="'cohort'"):
        cohort_matrix(long.drop(columns="cohort"))


def test_no_activity_signup_cohort(signup_data):
    # as_of 2024-01-15: only x (signed up 01-10) is in the population and has no MRR yet.
    # first_active: no cohort -> error (tested above); signup: Jan {x}: 0/1 at age 0 (C3).
    long = cohort_retention(signup_data, "2024-01-15", cohort="signup")
    assert long["cohort_customers"].tolist() == [1]
    assert long["retention"].tolist() == [0.0]


def test_sample_planted_cohort_effect():
    gen = pytest.importorskip("segwork.data.generate")
    assert gen.PLANTED_EFFECTS["cohort_quarter"] == "2023Q2"
    data = gen.make_saas_data(3000, random_state=0)
    long = cohort_retention(data, "2024-12-31", period="quarter", cohort="signup")
    m = cohort_matrix(long)
    # the planted 2023-Q2 signup cohort (churn hazard x 2) retains worse at age 2 and on
    # average over ages 1-3 than its neighbours 2023-Q1 and 2023-Q3
    q1, q2, q3 = (m.loc[pd.Timestamp(d)] for d in ("2023-01-01", "2023-04-01", "2023-07-01"))
    assert q2[2] < q1[2] and q2[2] < q3[2]
    assert q2[[1, 2, 3]].mean() < q1[[1, 2, 3]].mean()
    assert q2[[1, 2, 3]].mean() < q3[[1, 2, 3]].mean()


# -- property tests on random small mrr tables ---------------------------------------------------
@st.composite
def mrr_tables(draw):
    n = draw(st.integers(5, 30))
    months = draw(st.integers(1, 12))
    start = dt.date(2023, draw(st.integers(1, 12)), 1)
    month_starts = [
        dt.date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        for i in range(months)
    ]
    values = draw(
        st.lists(
            st.lists(
                st.sampled_from([0.0, 0.0, 10.0, 25.5, 100.0]), min_size=months, max_size=months
            ),
            min_size=n,
            max_size=n,
        )
    )
    signup_month = draw(st.lists(st.integers(0, months - 1), min_size=n, max_size=n))
    signup_day = draw(st.lists(st.integers(1, 28), min_size=n, max_size=n))
    # customer 1 signs up on the first day and pays in the first month: some cohort exists
    values[0][0], signup_month[0], signup_day[0] = 10.0, 0, 1
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype="int64"),
            "signup_date": pd.to_datetime(
                [
                    month_starts[m].replace(day=d)
                    for m, d in zip(signup_month, signup_day, strict=True)
                ]
            ),
            "plan": draw(st.lists(st.sampled_from(["a", "b"]), min_size=n, max_size=n)),
        }
    )
    rows = [
        (c + 1, month_starts[i], v)
        for c, vals in enumerate(values)
        for i, v in enumerate(vals)
        if v > 0 or i % 2 == 0
    ]
    mrr = pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])
    mrr["month"] = pd.to_datetime(mrr["month"])
    last = month_starts[-1]
    as_of = draw(st.sampled_from([last.replace(day=28), last.replace(day=5)]))
    return {"customers": customers, "mrr": mrr}, as_of


def _reference_monthly(frames: dict[str, pd.DataFrame], as_of: dt.date) -> pd.DataFrame:
    """A plain-Python reading of C1-C5, G, P (above) for monthly cohorts (loops are fine here)."""
    cust = frames["customers"]
    pop = set(cust.loc[cust["signup_date"].dt.date <= as_of, "customer_id"])
    a = as_of.year * 12 + as_of.month - 1
    mrr: dict[tuple[int, int], float] = {}
    for r in frames["mrr"].itertuples():
        m = r.month.year * 12 + r.month.month - 1
        if r.customer_id in pop and m <= a and r.mrr > 0:
            mrr[(r.customer_id, m)] = r.mrr
    first: dict[int, int] = {}
    for c, m in mrr:
        first[c] = min(m, first.get(c, m))
    rows = []
    for coh in sorted(set(first.values())):
        members = [c for c in first if first[c] == coh]
        base = sum(mrr[(c, coh)] for c in members)
        for k in range(a - coh + 1):
            act = [c for c in members if (c, coh + k) in mrr]
            at = sum(mrr[(c, coh + k)] for c in act)
            capped = sum(min(mrr[(c, coh + k)], mrr[(c, coh)]) for c in act)
            rows.append((coh, k, len(members), len(act), base, at, capped))
    return pd.DataFrame(rows, columns=["p", "age", "n", "active", "base", "at", "capped"])


@settings(max_examples=20, deadline=None)
@given(mrr_tables())
def test_property_reference_bounds_and_parquet(tmp_path_factory, table):
    frames, as_of = table
    data = segwork.Engine(segwork.load(frames))  # one engine: its tables shared by every as_of
    ref = _reference_monthly(frames, as_of)
    logo = cohort_retention(data, as_of)
    # C1/C3: first_active cohorts are fully active at age 0
    assert (logo.loc[logo["age"] == 0, "retention"] == 1.0).all()
    assert logo["retention"].between(0, 1).all()
    assert logo["active_customers"].tolist() == ref["active"].tolist()
    assert logo["cohort_customers"].tolist() == ref["n"].tolist()
    assert logo["age"].tolist() == ref["age"].tolist()
    # C4 against the reference
    nrr = cohort_retention(data, as_of, metric="nrr")
    np.testing.assert_allclose(nrr["mrr_base"], ref["base"], rtol=1e-12)
    np.testing.assert_allclose(nrr["mrr_at_age"], ref["at"], rtol=1e-12)
    np.testing.assert_allclose(nrr["nrr"], ref["at"] / ref["base"], rtol=1e-12)
    # G: 0 <= grr <= 1 in every segment; the segments' capped revenue adds up to the reference
    grr = cohort_retention(data, as_of, metric="grr", by="plan")
    g = grr["grr"].dropna()
    assert ((g >= 0) & (g <= 1 + 1e-12)).all()
    total = grr.groupby(["cohort", "age"])["mrr_at_age"].sum()
    np.testing.assert_allclose(total.to_numpy(), ref["capped"].to_numpy(), rtol=1e-12)
    # the same Dataset written to Parquet files and loaded from the directory gives equal results
    directory = tmp_path_factory.mktemp("cohorts")
    for name, frame in frames.items():
        frame.to_parquet(directory / f"{name}.parquet", index=False)
    from_files = cohort_retention(segwork.load(directory), as_of, metric="grr", by="plan")
    pd.testing.assert_frame_equal(grr, from_files)
    # an earlier as_of on the same Dataset: the engine's first-activity table is shared by every
    # as_of (rows after as_of exist now, customers first active later must not appear)
    months = sorted(frames["mrr"]["month"].unique())
    earlier = (pd.Timestamp(months[len(months) // 2]) + pd.Timedelta(days=14)).date()
    ref = _reference_monthly(frames, earlier)
    if len(ref):
        logo = cohort_retention(data, earlier)
        assert logo["active_customers"].tolist() == ref["active"].tolist()
        assert logo["cohort_customers"].tolist() == ref["n"].tolist()
        again = cohort_retention(data, earlier, metric="nrr")
        np.testing.assert_allclose(again["mrr_base"], ref["base"], rtol=1e-12)
        np.testing.assert_allclose(again["mrr_at_age"], ref["at"], rtol=1e-12)
        assert FirstActiveMonth() in data.table_keys()


def _reference_period(frames: dict[str, pd.DataFrame], as_of: dt.date, k: int) -> pd.DataFrame:
    """Plain Python, periods of k months (C1-C5 above): a customer is active in a period
    with MRR > 0 in one of its months up to as_of; its revenue there is the MRR in the period's
    last month, or in as_of's month for as_of's own (partial) period."""
    cust = frames["customers"]
    pop = set(cust.loc[cust["signup_date"].dt.date <= as_of, "customer_id"])
    a = as_of.year * 12 + as_of.month - 1
    mrr = {
        (r.customer_id, r.month.year * 12 + r.month.month - 1): r.mrr
        for r in frames["mrr"].itertuples()
        if r.customer_id in pop and r.mrr > 0
    }
    mrr = {key: v for key, v in mrr.items() if key[1] <= a}
    active = {(c, m // k) for c, m in mrr}
    first: dict[int, int] = {}
    for c, p in active:
        first[c] = min(p, first.get(c, p))

    def revenue(c: int, p: int) -> float:
        return mrr.get((c, min(p * k + k - 1, a)), 0.0)

    rows = []
    for coh in sorted(set(first.values())):
        members = [c for c in first if first[c] == coh]
        for age in range(a // k - coh + 1):
            act = [c for c in members if (c, coh + age) in active]
            rows.append(
                (
                    coh,
                    age,
                    len(members),
                    len(act),
                    sum(revenue(c, coh) for c in members),
                    sum(revenue(c, coh + age) for c in act),
                )
            )
    return pd.DataFrame(rows, columns=["p", "age", "n", "active", "base", "at"])


@settings(max_examples=8, deadline=None)
@given(mrr_tables())
def test_property_quarters_and_years_at_several_as_of(table):
    """Month, quarter and year cohorts at as_of dates early, inside and at the end of the data,
    on a one-off Dataset and on a page's (its periods of all time computed once for every as_of):
    the current partial period counts the months up to as_of and takes as_of's month's MRR."""
    frames, _ = table
    one_off = segwork.load(frames)
    # as an explorer's engine: the periods of all time
    page = segwork.Engine(segwork.load(frames), reuse_across_dates=True)
    months = sorted(pd.Timestamp(m).date() for m in frames["mrr"]["month"].unique())
    first_signup = frames["customers"]["signup_date"].min().date()
    picks = sorted({0, len(months) // 3, len(months) // 2, len(months) - 1})
    # mid-month and late in the month, alternating over the picks
    dates = [months[i].replace(day=(14, 28)[j % 2]) for j, i in enumerate(picks)]
    # months too: on a page the first active months come from the key numbers' bits
    for period, k in (("month", 1), ("quarter", 3), ("year", 12)):
        for as_of in dates:
            if as_of < first_signup:
                continue
            ref = _reference_period(frames, as_of, k)
            for data in (one_off, page):
                logo = cohort_retention(data, as_of, period=period)
                assert logo["age"].tolist() == ref["age"].tolist(), (period, as_of)
                assert logo["active_customers"].tolist() == ref["active"].tolist()
                assert logo["cohort_customers"].tolist() == ref["n"].tolist()
                nrr = cohort_retention(data, as_of, period=period, metric="nrr")
                np.testing.assert_allclose(nrr["mrr_base"], ref["base"], rtol=1e-12)
                np.testing.assert_allclose(nrr["mrr_at_age"], ref["at"], rtol=1e-12)
    if FirstActiveMonth() in page.table_keys():  # built from the bits, not a group-by
        assert any(isinstance(key, ActiveMonths) for key in page.table_keys())


def test_logo_and_nrr_share_one_engine_query(monkeypatch):
    """A page showing revenue retention also shows logo retention (cohort sizes, the 12-month
    comparison): both are finished from the same cells, queried once per Dataset; the numbers
    equal a fresh Dataset's."""
    import ibis.expr.types as ir

    data = segwork.Engine(segwork.load_sample())  # a page's engine
    queries: list[int] = []
    original = ir.Table.to_pandas
    monkeypatch.setattr(
        ir.Table, "to_pandas", lambda self, *a, **k: queries.append(1) or original(self, *a, **k)
    )
    kwargs = {"period": "quarter", "by": "plan", "where": {"billing_interval": ["annual"]}}
    nrr = cohort_retention(data, "2024-12-31", metric="nrr", **kwargs)
    n = len(queries)
    logo = cohort_retention(data, "2024-12-31", **kwargs)
    assert len(queries) == n
    logo["retention"] = -1.0  # a caller changing its result changes nothing cached
    monkeypatch.setattr(ir.Table, "to_pandas", original)
    fresh = segwork.load_sample()
    for metric, got in (("nrr", nrr), ("logo", cohort_retention(data, "2024-12-31", **kwargs))):
        pd.testing.assert_frame_equal(
            got, cohort_retention(fresh, "2024-12-31", metric=metric, **kwargs)
        )
