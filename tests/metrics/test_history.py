"""Tests of the segment history (segwork.metrics.history): the segment table's counts at any
as_of read from date-independent tables equal the per-customer query's (docs/metrics.md "Segment
table", "Churn window", "NRR and GRR", population = customers signed up by as_of).

Hand-worked counts are in the comments; a property test compares the two implementations on
random data with the awkward cases (MRR before the signup, signups later in as_of's month,
gaps, missing criteria, binned sizes).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import segwork
from segwork.market import ideal_customer_profile, penetration
from segwork.metrics.history import (
    ADDITIVE,
    HistoryPart,
    history_applies,
    kept_counts,
    rollup,
    segment_counts_over_time,
)
from segwork.metrics.segments import _segment_counts

INTS = ["customers", "active_customers", "at_risk_customer_months", "churned_customer_months"]


def _page(tables: dict[str, pd.DataFrame]) -> segwork.Engine:
    return segwork.Engine(segwork.load(tables), reuse_across_dates=True)  # a page's engine


def _sample_page() -> segwork.Engine:
    return segwork.Engine(segwork.load_sample(), reuse_across_dates=True)


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.sort_values(by, na_position="last", kind="mergesort").reset_index(drop=True)


def _assert_same_counts(got: pd.DataFrame, want: pd.DataFrame, by: list[str]) -> None:
    got, want = _sorted(got, by), _sorted(want, by)
    assert list(got.columns) == [*by, *ADDITIVE]
    assert sorted(want.columns) == sorted(got.columns)
    pd.testing.assert_frame_equal(got[by], want[by])
    pd.testing.assert_frame_equal(got[INTS], want[INTS])  # counts exactly, int64
    for col in ("mrr", "nrr_base", "nrr_end"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-12, atol=1e-9)
        assert got[col].dtype == "float64"


def hand_tables() -> dict[str, pd.DataFrame]:
    """Plans a / b; MRR Jan..Apr 2024 (as_of in March, window 2 months = Feb, Mar).

    cust plan signup      Jan  Feb  Mar  Apr
    1    a    2023-01-01  10   10   10   10
    2    a    2023-01-01  10   10    -    -     churned in Mar
    3    a    2024-03-20   -    -   30   30     signs up in March: in the population on 03-31 only
    4    b    2024-02-10   -   20    -    -     churned in Mar
    5    b    2024-04-02   5    -    -    -     MRR before its signup (counted only once signed up)
    """
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "signup_date": ["2023-01-01", "2023-01-01", "2024-03-20", "2024-02-10", "2024-04-02"],
            "plan": ["a", "a", "a", "b", "b"],
        }
    )
    rows = {1: (10, 10, 10, 10), 2: (10, 10, 0, 0), 3: (0, 0, 30, 30), 4: (0, 20, 0, 0),
            5: (5, 0, 0, 0)}  # fmt: skip
    months = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    mrr = pd.DataFrame(
        [{"customer_id": c, "month": m, "mrr": float(v)}
         for c, vals in rows.items() for m, v in zip(months, vals, strict=True) if v]
    )  # fmt: skip
    return {"customers": customers, "mrr": mrr}


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        # 03-15: c3 not yet signed up.  a: customers 1, 2; active in Mar: c1 (10); at risk in
        # Feb, Mar (active in Jan, Feb): c1 x2, c2 x2 = 4; churned: c2 in Mar = 1.  b: c4 only;
        # at risk in Mar (active Feb) 1, churned 1.
        ("2024-03-15", {"a": (2, 1, 4, 1, 10.0), "b": (1, 0, 1, 1, 0.0)}),
        # 03-31: c3 joins a: active 2, MRR 40; it was not active in Jan / Feb (nothing at risk).
        ("2024-03-31", {"a": (3, 2, 4, 1, 40.0), "b": (1, 0, 1, 1, 0.0)}),
        # 04-30 (window Mar, Apr): a: at risk in Mar c1, c2, in Apr c1, c3 = 4, churned c2 = 1;
        # active in Apr c1, c3 (MRR 40).  b: c4 at risk in Mar and churned; c5 is in b now, its
        # January row lies outside the window.  NRR bases: 2023 has no MRR (0).
        ("2024-04-30", {"a": (3, 2, 4, 1, 40.0), "b": (2, 0, 1, 1, 0.0)}),
    ],
)
def test_hand_worked_counts_and_population(as_of: str, expected: dict) -> None:
    data = _page(hand_tables())
    assert history_applies(data, ["plan"])
    got = segment_counts_over_time(data, ["plan"], dt.date.fromisoformat(as_of), 2)
    got = got.set_index("plan")
    for plan, (n, active, at_risk, churned, mrr) in expected.items():
        row = got.loc[plan]
        assert (row["customers"], row["active_customers"]) == (n, active)
        assert (row["at_risk_customer_months"], row["churned_customer_months"]) == (
            at_risk,
            churned,
        )
        assert row["mrr"] == mrr
        assert row["nrr_base"] == 0.0 and row["nrr_end"] == 0.0
    want, _ = _segment_counts(segwork.load(hand_tables()), ["plan"],
                              dt.date.fromisoformat(as_of), 2)  # fmt: skip
    _assert_same_counts(got.reset_index(), want, ["plan"])


def test_nrr_pairs_by_hand() -> None:
    """12-month NRR: base = MRR in A-12 of the customers then active, end = their MRR in A."""
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_date": ["2023-01-01"] * 3,
                              "plan": ["a"] * 3})  # fmt: skip
    mrr = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3],
            "month": ["2023-03-01", "2024-03-01", "2023-03-01", "2024-03-01"],
            "mrr": [100.0, 150.0, 50.0, 70.0],
        }
    )
    data = _page({"customers": customers, "mrr": mrr})
    got = segment_counts_over_time(data, ["plan"], dt.date(2024, 3, 31), 12).iloc[0]
    # base: c1 100 + c2 50 = 150; end: c1's 150 (c2 gone, c3 was not active in 2023-03)
    assert (got["nrr_base"], got["nrr_end"], got["mrr"]) == (150.0, 150.0, 220.0)


_DAY0 = dt.date(2023, 1, 1)


@st.composite
def random_tables(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    n = draw(st.integers(1, 14))
    customers, rows = [], []
    for cid in range(1, n + 1):
        signup = _DAY0 + dt.timedelta(days=draw(st.integers(0, 700)))
        plan = draw(st.sampled_from(["a", "b", None]))
        size = draw(st.one_of(st.none(), st.integers(1, 400)))
        customers.append({"customer_id": cid, "signup_date": signup.isoformat(), "plan": plan,
                          "region": draw(st.sampled_from(["EU", "US"])), "size": size})  # fmt: skip
        for k in sorted(draw(st.sets(st.integers(0, 25), max_size=12))):
            rows.append({"customer_id": cid, "month": f"{2023 + k // 12}-{k % 12 + 1:02d}-01",
                         "mrr": float(draw(st.integers(1, 50)))})  # fmt: skip
    if not rows:
        rows.append({"customer_id": 1, "month": "2023-01-01", "mrr": 1.0})
    frame = pd.DataFrame(customers)
    frame["size"] = frame["size"].astype("float64")
    mrr = pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])
    return {"customers": frame, "mrr": mrr}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tables=random_tables(),
    days=st.lists(st.integers(0, 790), min_size=1, max_size=3),
    window=st.integers(1, 13),
    by=st.sampled_from([["plan"], ["plan", "region"], ["size", "region"], [], ["region"]]),
)
def test_equals_the_per_customer_query_on_random_data(tables, days, window, by) -> None:
    """At several dates on one page Dataset (its history reused) the counts equal a fresh
    one-off Dataset's per-customer query: same segments, counts exactly, sums to rounding."""
    bins = {"size": [10, 100]} if "size" in by else None
    first = pd.to_datetime(tables["customers"]["signup_date"]).min().date()
    page, one_off = _page(tables), segwork.load(tables)
    for d in days:
        day = max(_DAY0 + dt.timedelta(days=d), first)
        got = segment_counts_over_time(page, by, day, window, bins=bins)
        want, _ = _segment_counts(one_off, by, day, window, bins=bins)
        _assert_same_counts(got, want, by)


def test_a_history_serves_fewer_columns_and_is_built_once() -> None:
    data = _sample_page()
    bins = {"company_size": [10, 50, 250]}
    day = dt.date(2024, 9, 30)
    segment_counts_over_time(data, ["industry", "company_size", "region"], day, 12, bins=bins)
    built = list(data.table_keys())
    for names, d in ((["region"], day), (["company_size"], dt.date(2024, 3, 31)), ([], day)):
        got = segment_counts_over_time(data, names, d, 12, bins=bins)
        want, _ = _segment_counts(segwork.load_sample(), names, d, 12, bins=bins)
        _assert_same_counts(got, want, names)
    assert [k for k in data.table_keys() if k not in built] == []  # no new engine table
    # cut another way: a history of its own
    segment_counts_over_time(data, ["company_size"], day, 12, bins={"company_size": [20]})
    assert len([k for k in data.table_keys() if k not in built]) == 3  # segments, customers, months


def test_where_derived_attributes_and_one_off_calls_use_the_per_customer_query() -> None:
    data = _sample_page()
    assert history_applies(data, ["plan", "region"])
    assert not history_applies(data, ["plan"], where={"region": "EU"})
    assert not history_applies(data, ["lifecycle_stage"])
    assert not history_applies(data, ["uses_api"])
    assert not history_applies(segwork.load_sample(), ["plan"])  # not a page
    sample = segwork.load_sample()
    page = _page(
        {n: sample.to_pandas(n) for n in ("customers", "subscriptions")}
    )  # MRR derived from subscriptions: it depends on the as_of date
    assert page.data.mrr_derived and not history_applies(page, ["plan"])


def test_rollup_sums_and_keeps_missing_values() -> None:
    fine = pd.DataFrame({"plan": ["a", "a", None], "region": ["x", "y", "x"],
                         **{c: [1, 2, 3] for c in ADDITIVE}})  # fmt: skip
    got = rollup(fine, ["plan"])
    assert got["plan"].tolist() == ["a", None]
    assert got["customers"].tolist() == [3, 3]
    assert rollup(fine, ["region"], values=["mrr"]).columns.tolist() == ["region", "mrr"]


def test_page_icp_and_penetration_equal_one_off_calls() -> None:
    """The market page's ideal customer profile and penetration, read from the history at
    several dates, equal one-off calls (per-customer query) on a fresh Dataset."""
    page = _sample_page()
    for day in ("2024-12-31", "2024-06-15", "2023-11-30"):
        icp = ideal_customer_profile(page, day, min_customers=20)
        pen = penetration(page, day)
        fresh = segwork.load_sample()
        want_icp = ideal_customer_profile(fresh, day, min_customers=20)
        want_pen = penetration(fresh, day)
        assert icp.statement == want_icp.statement
        pd.testing.assert_frame_equal(icp.segments, want_icp.segments, rtol=1e-12)
        pd.testing.assert_frame_equal(pen.segments, want_pen.segments, rtol=1e-12)
        pd.testing.assert_frame_equal(pen.unmatched, want_pen.unmatched, rtol=1e-12)
        pd.testing.assert_frame_equal(pen.totals, want_pen.totals, rtol=1e-12)
    histories = {k.columns for k in page.table_keys() if isinstance(k, HistoryPart)}
    assert len(histories) == 1  # penetration's market criteria read the profile's history


def test_counts_kept_at_a_date_serve_a_coarser_segmentation() -> None:
    """A segment table at a date keeps its segments' counts; a coarser segmentation at that date
    (penetration after the ideal customer profile) rolls up customers, active customers and MRR
    from them (any window: these do not depend on it), equal to its own query; another date,
    a column not kept or another cut of it is not served."""
    data = segwork.load_sample()
    engine = segwork.Engine(data)  # a one-off engine: no history, the per-customer query
    day = dt.date(2024, 12, 31)
    bins = {"company_size": [10.0, 50.0, 250.0]}
    segwork.segment_table(engine, ["plan", "company_size"], day, bins=bins, window_months=6)
    got = kept_counts(engine, ["company_size"], day, bins)
    assert got is not None
    want = segwork.segment_table(data, "company_size", day, bins=bins)
    cols = ["company_size", "customers", "active_customers", "mrr"]
    pd.testing.assert_frame_equal(
        got[cols].sort_values("company_size", ignore_index=True),
        want[cols].sort_values("company_size", ignore_index=True),
        check_exact=False,
        rtol=1e-12,
    )
    assert kept_counts(engine, ["company_size"], dt.date(2024, 6, 30), bins) is None
    assert kept_counts(engine, ["region"], day) is None
    assert kept_counts(engine, ["company_size"], day, {"company_size": [100.0]}) is None
