"""Customer lifetimes (docs/metrics.md "Survival", "Retention projection"): the engine's
durations against a plain-Python reading of the same months, and the Kaplan-Meier estimate."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwork
from segwork.metrics.lifetimes import customer_durations, kaplan_meier, lifetime_counts

AS_OF = dt.date(2024, 12, 31)
MONTHS = pd.date_range("2023-01-01", "2024-12-01", freq="MS")
PER = {"month": 1, "quarter": 3, "year": 12}


def _reference(active: dict[int, list[int]], signup: dict[int, int], period: str, cohort: str):
    """Plain Python: per customer, its active periods (month k // periods), the first unbroken
    run from its origin (first active period, or signup period and later), and the event."""
    k = PER[period]
    a = (len(MONTHS) - 1) // k  # as_of's period (as_of is in the last month)
    out = {}
    for cid, months in active.items():
        ps = sorted({m // k for m in months})
        if cohort == "signup":
            ps = [p for p in ps if p >= signup[cid] // k]
        if not ps:
            continue
        end = ps[0]
        while end + 1 in ps:
            end += 1
        origin = signup[cid] // k if cohort == "signup" else ps[0]
        event = end < a
        out[cid] = (origin, end - origin + 1 if event else a - origin, int(event))
    return out


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 23), st.lists(st.integers(0, 23), min_size=1, max_size=12)),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["month", "quarter", "year"]),
    st.sampled_from(["first_active", "signup"]),
)
def test_durations_equal_a_plain_reading(customers, period, cohort) -> None:
    signup = {i: min(s, *ms) for i, (s, ms) in enumerate(customers)}
    active = {i: ms for i, (_, ms) in enumerate(customers)}
    frames = {
        "customers": pd.DataFrame(
            {"customer_id": list(signup), "signup_date": [MONTHS[signup[i]] for i in signup]}
        ),
        "mrr": pd.DataFrame(
            [{"customer_id": i, "month": MONTHS[m], "mrr": 10.0}
             for i, ms in active.items() for m in sorted(set(ms))]
        ),
    }  # fmt: skip
    want = _reference(active, signup, period, cohort)
    # the engine's faster path (the window only over customers with a gap, first_runs_fast) and
    # the definition (fast_paths=False: the window over every customer) both read it
    for fast in (True, False):
        engine = segwork.Engine(segwork.load(frames), fast_paths=fast)
        got = customer_durations(engine, AS_OF, period, cohort).to_pandas()
        got = {
            int(r.customer_id): (int(r.o) - (MONTHS[0].year * 12) // PER[period], int(r.duration),
                                 int(r.event))
            for r in got.itertuples()
        }  # fmt: skip
        assert got == want, fast


def test_kaplan_meier_by_hand() -> None:
    # 4 lifetimes: ended at 1, ended at 2, censored at 2, censored at 3
    d, c = lifetime_counts([1, 2, 2, 3], [1, 1, 0, 0], [1, 1, 1, 1])
    km = kaplan_meier(d, c)
    assert km.n_at_risk.tolist() == [4, 4, 3, 1]
    np.testing.assert_allclose(km.survival, [1.0, 0.75, 0.5, 0.5])
    np.testing.assert_allclose(km.greenwood, [0.0, 1 / 12, 1 / 12 + 1 / 6, 1 / 12 + 1 / 6])
    assert np.isnan(kaplan_meier([0, 0], [1, 0]).survival[1])  # nobody left at risk


@pytest.mark.parametrize("period", ["month", "quarter"])
def test_sample_durations_are_one_per_customer(period: str) -> None:
    sample = segwork.load_sample()
    got = customer_durations(sample, AS_OF, period).to_pandas()
    assert got["customer_id"].is_unique and (got["duration"] >= 0).all()
