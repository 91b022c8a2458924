"""Pooling a cohort table: the weighted-average curve and "this year's cohorts vs last year's".

Both work on the small long table of :func:`segwork.cohort_retention` (pandas, no engine work):
sums of counts over cohorts, then a ratio, and for logo retention a Wilson interval
(docs/metrics.md "Cohort comparison", "Confidence intervals").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segwork.metrics.stats import safe_ratio, wilson_interval

__all__ = ["CohortComparison", "compare_cohort_years", "weighted_average_retention"]

_LOGO = ("cohort_customers", "active_customers", "retention")


def _kind(long: pd.DataFrame) -> tuple[list[str], tuple[str, str, str]]:
    """(segment columns, (base column, at-age column, ratio column)) of a cohort_retention table."""
    cols = list(long.columns)
    if "cohort" not in cols or "age" not in cols:
        raise ValueError(
            "expected a cohort_retention() table with 'cohort' and 'age' columns; got columns "
            f"{cols}"
        )
    by_names = cols[: cols.index("cohort")]
    if all(c in cols for c in _LOGO):
        return by_names, _LOGO
    for metric in ("nrr", "grr"):
        if all(c in cols for c in ("mrr_base", "mrr_at_age", metric)):
            return by_names, ("mrr_base", "mrr_at_age", metric)
    raise ValueError(
        "expected a cohort_retention() table (logo: cohort_customers, active_customers, "
        f"retention; or revenue: mrr_base, mrr_at_age, nrr/grr); got columns {cols}"
    )


def weighted_average_retention(long: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """The average retention curve of a cohort table, weighted by cohort size.

    docs/metrics.md "Cohort comparison": at each age the cohorts observed at that age (cells after
    as_of do not exist, docs/metrics.md "Cohorts") are pooled: for logo retention sum of active
    customers / sum of cohort customers, which is the mean of the cohorts' retention
    (docs/metrics.md "Logo retention") weighted by cohort size; for NRR/GRR sum of revenue at age
    / sum of base revenue (docs/metrics.md "Revenue retention"), i.e. weighted by the cohorts'
    base revenue.  The set of cohorts shrinks with age: older ages
    average older cohorts only.

    Parameters
    ----------
    long : pandas.DataFrame
        A :func:`segwork.cohort_retention` result (any metric, any period, with or without
        segment columns).
    confidence : float, default 0.95
        Level of the Wilson interval (logo retention only).

    Returns
    -------
    pandas.DataFrame
        Logo: ``[*by], age, cohorts, cohort_customers, active_customers, retention, ci_low,
        ci_high``; revenue: ``[*by], age, cohorts, mrr_base, mrr_at_age, nrr`` (or ``grr``).
        ``cohorts`` (the number pooled) and customer counts are int64; a zero denominator gives
        NaN (docs/metrics.md "Conventions").  Sorted by segment and age.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"]),
    ...     "age": [0, 1, 0], "cohort_customers": [10, 10, 30], "active_customers": [10, 5, 30],
    ...     "retention": [1.0, 0.5, 1.0]})
    >>> weighted_average_retention(long)[["age", "cohorts", "cohort_customers", "retention"]]
       age  cohorts  cohort_customers  retention
    0    0        2                40        1.0
    1    1        1                10        0.5
    """
    by_names, (base, at_age, ratio) = _kind(long)
    keys = [*by_names, "age"]
    if long.empty:
        cols = [*keys, "cohorts", base, at_age, ratio]
        cols += ["ci_low", "ci_high"] if ratio == "retention" else []
        return pd.DataFrame(columns=cols)
    g = long.groupby(keys, dropna=False, sort=True)
    out = g.agg(cohorts=("cohort", "size"), **{base: (base, "sum"), at_age: (at_age, "sum")})
    out = out.reset_index()
    out["cohorts"] = out["cohorts"].astype("int64")
    out[ratio] = safe_ratio(out[at_age], out[base])
    if ratio == "retention":
        for col in (base, at_age):
            out[col] = out[col].astype("int64")
        low, high = wilson_interval(out[at_age], out[base], confidence)
        out["ci_low"], out["ci_high"] = low, high
    else:
        for col in (base, at_age):
            out[col] = out[col].astype("float64")
    out = out.sort_values(keys, na_position="last", kind="stable").reset_index(drop=True)
    return out


@dataclass(frozen=True)
class CohortComparison:
    """Result of :func:`compare_cohort_years`: the pooled figures and the sentence."""

    table: pd.DataFrame
    sentence: str


def _pct(v: float) -> str:
    return "n/a" if pd.isna(v) else f"{100 * v:.1f} %"


def compare_cohort_years(
    long: pd.DataFrame,
    year_a: int,
    year_b: int,
    age: int = 12,
    *,
    confidence: float = 0.95,
    label: str | None = None,
) -> CohortComparison:
    """Retention at one age of the cohorts of one year vs another, pooled, with intervals.

    For each year the cohorts starting in that calendar year that are observed at ``age`` (their
    period c + age is on or before as_of; docs/metrics.md "Cohorts") are pooled (docs/metrics.md
    "Cohort comparison"): logo retention = sum of active customers / sum of cohort customers at
    that age (docs/metrics.md "Logo retention"), with a Wilson score interval on those pooled
    counts (docs/metrics.md "Confidence intervals"; 95 % unless ``confidence`` says otherwise).
    For an NRR/GRR table: sum of revenue at age / sum of base
    revenue, without an interval (a revenue ratio is not a binomial rate).  Segment columns, if
    any, are pooled too (the comparison is over all customers of the table).

    Parameters
    ----------
    long : pandas.DataFrame
        A :func:`segwork.cohort_retention` result.
    year_a, year_b : int
        The two cohort years, named in that order in the sentence ("year_a vs year_b").
    age : int, default 12
        The age in the table's periods (12 for months; 4 for quarters; 1 for years).
    confidence : float, default 0.95
        Level of the Wilson interval.
    label : str, optional
        How the age is named in the sentence; default ``"{age}-period"``, e.g. pass
        ``"12-month"``.

    Returns
    -------
    CohortComparison
        ``table``: one row per year (``year_a`` first): ``year, cohorts (in the table),
        cohorts_observed (old enough), customers, retained, retention, ci_low, ci_high`` (logo)
        or ``year, cohorts, cohorts_observed, mrr_base, mrr_at_age, nrr`` (revenue);
        ``sentence``: e.g. ``"12-month retention of the 2024 cohorts vs the 2023 cohorts: 81.0 %
        (95 % CI 77.2-84.3 %) vs 78.4 % (95 % CI 75.0-81.5 %)."``, saying which cohorts are
        not old enough yet.

    Examples
    --------
    >>> import pandas as pd
    >>> long = pd.DataFrame({
    ...     "cohort": pd.to_datetime(["2023-01-01", "2023-02-01", "2024-01-01"]),
    ...     "age": [1, 1, 1], "cohort_customers": [40, 60, 50],
    ...     "active_customers": [30, 50, 45], "retention": [0.75, 50 / 60, 0.9]})
    >>> cmp = compare_cohort_years(long, 2024, 2023, age=1, label="1-month")
    >>> cmp.table[["year", "customers", "retained", "retention"]]
       year  customers  retained  retention
    0  2024         50        45        0.9
    1  2023        100        80        0.8
    >>> cmp.sentence
    '1-month retention of the 2024 cohorts vs the 2023 cohorts: 90.0 % (95 % CI 78.6-95.7 %) vs 80.0 % (95 % CI 71.1-86.7 %).'
    """  # noqa: E501
    _, (base, at_age, ratio) = _kind(long)
    if isinstance(age, bool) or not isinstance(age, int | np.integer) or age < 0:
        raise ValueError(f"age must be a whole number of periods >= 0, got {age!r}")
    years = pd.to_datetime(long["cohort"]).dt.year
    label = label or f"{age}-period"
    rows = []
    for year in (int(year_a), int(year_b)):
        in_year = long[years == year]
        at = in_year[in_year["age"] == age]
        rows.append(
            {
                "year": year,
                "cohorts": int(in_year["cohort"].nunique()),
                "cohorts_observed": int(at["cohort"].nunique()),
                base: at[base].sum(),
                at_age: at[at_age].sum(),
            }
        )
    table = pd.DataFrame(rows)
    table[ratio] = safe_ratio(table[at_age], table[base])
    logo = ratio == "retention"
    if logo:
        table = table.rename(columns={base: "customers", at_age: "retained"})
        table["customers"] = table["customers"].astype("int64")
        table["retained"] = table["retained"].astype("int64")
        low, high = wilson_interval(table["retained"], table["customers"], confidence)
        table["ci_low"], table["ci_high"] = low, high
    else:
        table[base] = table[base].astype("float64")
        table[at_age] = table[at_age].astype("float64")
    table["year"] = table["year"].astype("int64")

    level = f"{100 * confidence:g} %"
    parts, notes = [], []
    for row in table.itertuples(index=False):
        d = row._asdict()
        if d["cohorts_observed"] == 0:
            parts.append("not observed yet")
            notes.append(f"no {d['year']} cohort is old enough")
            continue
        text = _pct(d[ratio])
        if logo:
            text += f" ({level} CI {100 * d['ci_low']:.1f}-{100 * d['ci_high']:.1f} %)"
        parts.append(text)
        if d["cohorts_observed"] < d["cohorts"]:
            notes.append(
                f"{d['year']}: {d['cohorts_observed']} of {d['cohorts']} cohorts old enough"
            )
    what = "retention" if logo else ratio.upper()
    sentence = (
        f"{label} {what} of the {int(year_a)} cohorts vs the {int(year_b)} cohorts: "
        f"{parts[0]} vs {parts[1]}"
    )
    sentence += f" ({'; '.join(notes)})." if notes else "."
    return CohortComparison(table=table, sentence=sentence)
