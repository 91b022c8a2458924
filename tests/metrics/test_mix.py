"""Tests of the mix-shift decomposition (docs/metrics.md "Mix shift", with "Logo churn" pooled over
the "Churn window", and "NRR and GRR").

Expected values are worked out by hand with fractions; the arithmetic is in the comments.
"""

from __future__ import annotations

import math
from fractions import Fraction as F

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import segwork
from segwork.metrics.mix import MIX_COLUMNS, TOTAL_LABEL, mix_shift
from segwork.metrics.segments import segment_table

A, B = "2024-02-29", "2024-03-31"


def hand_data() -> segwork.Dataset:
    """Plans a, b, c, d; MRR in Jan..Mar 2024 (window 1 month: at risk = active last month).

    cust plan   Jan  Feb  Mar
    1    a      10   10   10
    2    a      10   10    -
    3    a      10   10    -
    4    a      10    -    -
    5    b      20   20   30
    6    b      20   20   20
    7    b       -   20   20
    8    b       -   20    -
    9    d      50    -    -      (plan d: only at risk at date A)
    10   c       -   40    -      (plan c: signed up in Feb, only at risk at date B)
    """
    customers = pd.DataFrame(
        {
            "customer_id": list(range(1, 11)),
            "signup_date": ["2023-06-01"] * 9 + ["2024-02-01"],
            "plan": ["a", "a", "a", "a", "b", "b", "b", "b", "d", "c"],
        }
    )
    rows = {
        1: (10, 10, 10), 2: (10, 10, 0), 3: (10, 10, 0), 4: (10, 0, 0),
        5: (20, 20, 30), 6: (20, 20, 20), 7: (0, 20, 20), 8: (0, 20, 0),
        9: (50, 0, 0), 10: (0, 40, 0),
    }  # fmt: skip
    months = ["2024-01-01", "2024-02-01", "2024-03-01"]
    mrr = pd.DataFrame(
        [{"customer_id": c, "month": m, "mrr": float(v)}
         for c, vals in rows.items() for m, v in zip(months, vals, strict=True) if v]
    )
    return segwork.load({"customers": customers, "mrr": mrr})


@pytest.fixture(scope="module")
def hand() -> segwork.Dataset:
    return hand_data()


def _f(x: F) -> float:
    return float(x)


def test_churn_hand_worked(hand: segwork.Dataset) -> None:
    m = mix_shift(hand, "plan", A, B, window_months=1)
    assert list(m.columns) == ["plan", *MIX_COLUMNS]
    assert m["plan"].tolist() == ["a", "b", "c", "d", TOTAL_LABEL]
    r = m.set_index("plan")
    # Date A (window = Feb): at risk = active in Jan.  a: 4 at risk, 1 churned (c4); b: 2, 0;
    # d: 1, 1; c: 0 -> overall 2 / 7.   Date B (window = Mar): a: 3, 2 (c2, c3); b: 4, 1 (c8);
    # c: 1, 1 (c10); d: 0 -> overall 4 / 8 = 1/2.   Change = 1/2 - 2/7 = 3/14.
    wa = {"a": F(4, 7), "b": F(2, 7), "c": F(0), "d": F(1, 7)}
    wb = {"a": F(3, 8), "b": F(4, 8), "c": F(1, 8), "d": F(0)}
    ra = {"a": F(1, 4), "b": F(0), "d": F(1)}
    rb = {"a": F(2, 3), "b": F(1, 4), "c": F(1)}
    # mix_i = (wb - wa)(ra + rb)/2, rate_i = (rb - ra)(wa + wb)/2 (a missing rate takes the other):
    # a: mix = (-11/56)(11/12)/2 = -121/1344, rate = (5/12)(53/56)/2 = 265/1344 (sum 3/28)
    # b: mix = (3/14)(1/4)/2 = 3/112, rate = (1/4)(11/14)/2 = 11/112 (sum 1/8)
    # c: (absent at A, r_a := r_b = 1) mix = (1/8)(2)/2 = 1/8, rate 0
    # d: (absent at B, r_b := r_a = 1) mix = (-1/7)(2)/2 = -1/7, rate 0
    mix = {"a": F(-121, 1344), "b": F(3, 112), "c": F(1, 8), "d": F(-1, 7)}
    rate = {"a": F(265, 1344), "b": F(11, 112), "c": F(0), "d": F(0)}
    for s in "abcd":
        assert r.loc[s, "weight_a"] == pytest.approx(_f(wa[s]), abs=1e-15)
        assert r.loc[s, "weight_b"] == pytest.approx(_f(wb[s]), abs=1e-15)
        assert r.loc[s, "mix_effect"] == pytest.approx(_f(mix[s]), abs=1e-15)
        assert r.loc[s, "rate_effect"] == pytest.approx(_f(rate[s]), abs=1e-15)
        assert r.loc[s, "total_effect"] == pytest.approx(_f(wb[s] * rb.get(s, 0)
                                                            - wa[s] * ra.get(s, 0)), abs=1e-15)
    for s, v in ra.items():
        assert r.loc[s, "rate_a"] == pytest.approx(_f(v))
    for s, v in rb.items():
        assert r.loc[s, "rate_b"] == pytest.approx(_f(v))
    assert math.isnan(r.loc["c", "rate_a"]) and math.isnan(r.loc["d", "rate_b"])
    # totals: sum of mix = -109/1344, sum of rate = 397/1344, together 288/1344 = 3/14
    tot = r.loc[TOTAL_LABEL]
    assert sum(mix.values()) == F(-109, 1344) and sum(rate.values()) == F(397, 1344)
    assert sum(mix.values()) + sum(rate.values()) == F(3, 14)
    assert tot["mix_effect"] == pytest.approx(-109 / 1344, abs=1e-15)
    assert tot["rate_effect"] == pytest.approx(397 / 1344, abs=1e-15)
    assert tot["total_effect"] == pytest.approx(3 / 14, abs=1e-15)
    assert tot["mix_effect"] + tot["rate_effect"] == pytest.approx(tot["total_effect"], abs=1e-15)
    assert (tot["rate_a"], tot["rate_b"]) == (pytest.approx(2 / 7), pytest.approx(0.5))
    assert tot["weight_a"] == pytest.approx(1.0) and tot["weight_b"] == pytest.approx(1.0)
    assert m.attrs["overall_a"] == pytest.approx(2 / 7) and m.attrs["overall_b"] == 0.5
    assert m.attrs["metric"] == "churn"


def test_nrr_hand_worked(hand: segwork.Dataset) -> None:
    m = mix_shift(hand, ["plan"], A, B, metric="nrr", window_months=1)
    r = m.set_index("plan")
    # NRR over 1 month (docs/metrics.md "NRR and GRR", k = 1): base = MRR in the previous month of
    # the customers active then, end = their MRR in the as-of month.
    # A (Jan -> Feb): a 30/40, b 40/40, d 0/50, c no base -> overall 70/130 = 7/13
    # B (Feb -> Mar): a 10/30, b (30+20+20)/80 = 7/8, c 0/40, d no base -> overall 80/150 = 8/15
    # weights = shares of the base MRR: A a 4/13, b 4/13, d 5/13; B a 1/5, b 8/15, c 4/15
    # a: mix = (1/5 - 4/13)(3/4 + 1/3)/2 = -7/120, rate = (1/3 - 3/4)(4/13 + 1/5)/2 = -11/104
    # b: total = 8/15 * 7/8 - 4/13 * 1 = 31/195;  c, d: 0 (their only rate is 0)
    # change = 8/15 - 7/13 = -1/195 = -32/195 + 31/195
    assert r.loc["a", "weight_a"] == pytest.approx(4 / 13)
    assert r.loc["b", "weight_b"] == pytest.approx(8 / 15)
    assert r.loc["a", "rate_a"] == pytest.approx(0.75) and r.loc["a", "rate_b"] == pytest.approx(1 / 3)
    assert r.loc["a", "mix_effect"] == pytest.approx(-7 / 120, abs=1e-15)
    assert r.loc["a", "rate_effect"] == pytest.approx(-11 / 104, abs=1e-15)
    assert r.loc["b", "total_effect"] == pytest.approx(31 / 195, abs=1e-15)
    assert r.loc["c", "total_effect"] == 0.0 and r.loc["d", "total_effect"] == 0.0
    tot = r.loc[TOTAL_LABEL]
    assert tot["rate_a"] == pytest.approx(7 / 13) and tot["rate_b"] == pytest.approx(8 / 15)
    assert tot["total_effect"] == pytest.approx(-1 / 195, abs=1e-15)
    assert tot["mix_effect"] + tot["rate_effect"] == pytest.approx(-1 / 195, abs=1e-15)


def test_same_date_is_no_change(hand: segwork.Dataset) -> None:
    m = mix_shift(hand, "plan", B, B, window_months=1)
    assert (m[["mix_effect", "rate_effect", "total_effect"]].to_numpy() == 0).all()


def test_errors(hand: segwork.Dataset) -> None:
    with pytest.raises(ValueError, match="metric='grr' is not allowed; choose one of: churn, nrr"):
        mix_shift(hand, "plan", A, B, metric="grr")
    with pytest.raises(ValueError, match="at least one segment column"):
        mix_shift(hand, [], A, B)
    with pytest.raises(ValueError, match="window_months must be an integer >= 1"):
        mix_shift(hand, "plan", A, B, window_months=0)
    with pytest.raises(ValueError, match="unknown segment column 'colour'; available: plan"):
        mix_shift(hand, "colour", A, B)
    with pytest.raises(ValueError, match="as_of_b="):
        mix_shift(hand, "plan", A, "not a date")


def test_sample_matches_segment_table() -> None:
    data = segwork.load_sample()
    a, b = "2023-12-31", "2024-12-31"
    m = mix_shift(data, ["billing_interval"], a, b)
    for day, col in ((a, "rate_a"), (b, "rate_b")):
        t = segment_table(data, "billing_interval", day).set_index("billing_interval")
        overall = segment_table(data, None, day)
        rates = m.set_index("billing_interval")[col]
        # rates are the segment table's pooled churn rates; the overall is its overall row
        assert rates["annual"] == pytest.approx(t.loc["annual", "churn_rate"])
        assert rates["monthly"] == pytest.approx(t.loc["monthly", "churn_rate"])
        assert rates[TOTAL_LABEL] == pytest.approx(overall["churn_rate"].iloc[0])
    tot = m.iloc[-1]
    assert tot["mix_effect"] + tot["rate_effect"] == pytest.approx(tot["total_effect"], abs=1e-15)
    nrr = mix_shift(data, "plan", a, b, metric="nrr")
    t = segment_table(data, "plan", b).set_index("plan")
    got = nrr.set_index("plan")["rate_b"]
    for plan in ("starter", "pro", "enterprise"):
        # docs/metrics.md "NRR and GRR", k = 12
        assert got[plan] == pytest.approx(t.loc[plan, "nrr_12m"])


# -- property: the parts always add up to the change ----------------------------------------------
@st.composite
def random_case(draw: st.DrawFn) -> segwork.Dataset:
    n = draw(st.integers(min_value=2, max_value=10))
    plans = draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n))
    rows = []
    for c in range(1, n + 1):
        active = draw(st.lists(st.booleans(), min_size=4, max_size=4))
        value = draw(st.sampled_from([5.0, 10.0, 40.0]))
        rows += [{"customer_id": c, "month": f"2024-0{i + 1}-01", "mrr": value * (1 + i % 2)}
                 for i, on in enumerate(active) if on]
    if not rows:
        rows = [{"customer_id": 1, "month": "2024-01-01", "mrr": 1.0}]
    customers = pd.DataFrame(
        {"customer_id": range(1, n + 1), "signup_date": ["2023-12-01"] * n, "plan": plans}
    )
    return segwork.load({"customers": customers, "mrr": pd.DataFrame(rows)})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_case(), st.sampled_from(["churn", "nrr"]))
def test_parts_add_up_property(data: segwork.Dataset, metric: str) -> None:
    m = mix_shift(data, "plan", "2024-02-29", "2024-04-30", metric=metric, window_months=1)
    seg, tot = m.iloc[:-1], m.iloc[-1]
    if np.isnan(tot["rate_a"]) or np.isnan(tot["rate_b"]):
        assert np.isnan(tot["total_effect"])
        return
    # each segment: mix + rate = w_b r_b - w_a r_a; all segments: the change of the overall rate
    np.testing.assert_allclose(seg["mix_effect"] + seg["rate_effect"], seg["total_effect"],
                               atol=1e-15)
    assert seg["total_effect"].sum() == pytest.approx(tot["rate_b"] - tot["rate_a"], abs=1e-12)
    assert tot["mix_effect"] + tot["rate_effect"] == pytest.approx(tot["total_effect"], abs=1e-12)
    assert seg["weight_a"].sum() == pytest.approx(1.0) and seg["weight_b"].sum() == pytest.approx(1.0)
