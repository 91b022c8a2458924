"""Tests of segwork.metrics.survival (docs/metrics.md "Survival").

The rule under test, summarised: with A the as-of month, s a customer's first month with MRR > 0
and T the number of consecutive active months from s (active in s .. s+T-1), an event at
duration T when s + T <= A, else censored at duration A - s; a comeback after the first run plays
no part.  For t = 1, 2, ...: at risk n(t) = customers with duration >= t, events d(t) = events at
duration t, S(t) = product over j <= t of (1 - d(j)/n(j)); S(0) = 1.  The interval is the log-log
(exponential Greenwood) one, as lifelines'.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwork
from segwork.metrics.survival import median_lifetime, survival

COLUMNS = ["tenure", "n_at_risk", "n_events", "n_censored", "survival", "ci_low", "ci_high"]
BASE = dt.date(2024, 1, 1)


def month(offset: int) -> str:
    """First day of the month ``offset`` months after January 2024."""
    y, m = divmod(BASE.month - 1 + offset, 12)
    return dt.date(BASE.year + y, m + 1, 1).isoformat()


def mrr_rows(active: dict[int, list[int]], value: float = 10.0) -> pd.DataFrame:
    rows = [(c, month(m), value) for c, months in active.items() for m in months]
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])


# -- the hand-worked case ------------------------------------------------------------------------
# as_of = 2024-06-30, so A = June = offset 5 (months are offsets from January 2024 = 0).
#   c1: Jan, Feb, (Mar explicit mrr 0), Apr, May -> s=0, T=2, s+T=2 <= 5: event at 2
#       (the reactivation in April does not matter: a comeback after the first run plays no part)
#   c2: Mar..Jun (still active)           -> s=2, T=4, s+T=6 > 5: censored at A-s = 3
#   c3: Feb only                          -> s=1, T=1, s+T=2 <= 5: event at 1 (churns in 1st month)
#   c4: Jan..Apr                          -> s=0, T=4, s+T=4 <= 5: event at 4
#   c5: Jan..Jun (still active)           -> s=0, T=6, s+T=6 > 5: censored at 5
#   c6: signed up, never active           -> not in the survival population
#   c7: signs up in July, after as_of     -> not in the population
#   c2 also has MRR in July (after as_of) -> ignored
# Durations: 1 (event), 2 (event), 3 (censored), 4 (event), 5 (censored).
#   t=0: n=5, d=0, c=0, S=1
#   t=1: n=5, d=1, c=0, S = 1 * (1 - 1/5) = 0.8
#   t=2: n=4, d=1, c=0, S = 0.8 * (1 - 1/4) = 0.6
#   t=3: n=3, d=0, c=1, S = 0.6
#   t=4: n=2, d=1, c=0, S = 0.6 * (1 - 1/2) = 0.3
#   t=5: n=1, d=0, c=1, S = 0.3
HAND_EXPECTED = pd.DataFrame(
    {
        "tenure": [0, 1, 2, 3, 4, 5],
        "n_at_risk": [5, 5, 4, 3, 2, 1],
        "n_events": [0, 1, 1, 0, 1, 0],
        "n_censored": [0, 0, 0, 1, 0, 1],
        "survival": [1.0, 0.8, 0.6, 0.6, 0.3, 0.3],
    }
)


@pytest.fixture(scope="module")
def hand_data() -> segwork.Dataset:
    mrr = mrr_rows(
        {
            1: [0, 1, 3, 4],
            2: [2, 3, 4, 5, 6],
            3: [1],
            4: [0, 1, 2, 3],
            5: [0, 1, 2, 3, 4, 5],
            7: [6],
        }
    )
    mrr = pd.concat(
        [mrr, pd.DataFrame({"customer_id": [1], "month": [month(2)], "mrr": [0.0]})],
        ignore_index=True,
    )
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6, 7],
            "signup_date": ["2024-01-01"] * 6 + ["2024-07-01"],
            "plan": ["a", "b", "a", "b", "a", "a", "b"],
        }
    )
    return segwork.load({"customers": customers, "mrr": mrr})


def test_hand_case(hand_data: segwork.Dataset) -> None:
    # docs/metrics.md "Survival": the worked durations and n(t), d(t), S(t) above.
    out = survival(hand_data, "2024-06-30")
    assert list(out.columns) == COLUMNS
    pd.testing.assert_frame_equal(out[HAND_EXPECTED.columns], HAND_EXPECTED, check_exact=False)
    for col in ("tenure", "n_at_risk", "n_events", "n_censored"):
        assert out[col].dtype == np.int64
    # S = 1 -> interval 1..1 (row t=0); otherwise the log-log interval contains S.
    assert out.loc[0, "ci_low"] == 1.0 and out.loc[0, "ci_high"] == 1.0
    assert (out["ci_low"] <= out["survival"]).all() and (out["survival"] <= out["ci_high"]).all()
    # t=1 by hand: V = d/(n(n-d)) = 1/(5*4) = 0.05, L = log S = log 0.8, z = 1.959964;
    # bounds = exp(-exp(log(-L) -/+ z sqrt(V) / L)).
    z, v, lg = 1.959963984540054, 0.05, math.log(0.8)
    assert out.loc[1, "ci_low"] == pytest.approx(
        math.exp(-math.exp(math.log(-lg) - z * v**0.5 / lg))
    )
    assert out.loc[1, "ci_high"] == pytest.approx(
        math.exp(-math.exp(math.log(-lg) + z * v**0.5 / lg))
    )


def test_hand_case_median(hand_data: segwork.Dataset) -> None:
    # smallest t with S(t) <= 0.5: S(3) = 0.6, S(4) = 0.3 -> 4.
    med = median_lifetime(survival(hand_data, "2024-06-30"))
    assert list(med.columns) == ["median_tenure"]
    assert med["median_tenure"].tolist() == [4.0]


def test_hand_case_by_plan(hand_data: segwork.Dataset) -> None:
    # plan a: c1 (event 2), c3 (event 1), c5 (censored 5)
    #   t=0 n=3; t=1 n=3 d=1 S=2/3; t=2 n=2 d=1 S=2/3*1/2=1/3; t=3,4 n=1 S=1/3; t=5 n=1 c=1
    # plan b: c2 (censored 3), c4 (event 4)
    #   t=0..3 n=2 S=1 (c2 censored at 3); t=4 n=1 d=1 S=0
    out = survival(hand_data, "2024-06-30", by=["plan"])
    assert list(out.columns) == ["plan", *COLUMNS]
    a = out[out.plan == "a"]
    b = out[out.plan == "b"]
    assert a["tenure"].tolist() == [0, 1, 2, 3, 4, 5]
    assert a["n_at_risk"].tolist() == [3, 3, 2, 1, 1, 1]
    np.testing.assert_allclose(a["survival"], [1, 2 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3])
    assert b["tenure"].tolist() == [0, 1, 2, 3, 4]
    assert b["n_at_risk"].tolist() == [2, 2, 2, 2, 1]
    assert b["n_censored"].tolist() == [0, 0, 0, 1, 0]
    np.testing.assert_allclose(b["survival"], [1, 1, 1, 1, 0])
    # S = 0: interval 0..0 (lifelines convention)
    assert b["ci_low"].iloc[-1] == 0.0 and b["ci_high"].iloc[-1] == 0.0
    med = median_lifetime(out)
    assert med.to_dict("list") == {"plan": ["a", "b"], "median_tenure": [2.0, 4.0]}
    # where= gives the same curve as the segment
    only_a = survival(hand_data, "2024-06-30", where={"plan": "a"})
    pd.testing.assert_frame_equal(only_a, a.drop(columns="plan").reset_index(drop=True))


def test_median_not_reached() -> None:
    curves = pd.DataFrame({"tenure": [0, 1, 2], "survival": [1.0, 0.7, 0.51]})
    assert median_lifetime(curves)["median_tenure"].isna().all()


def test_derived_from_subscriptions() -> None:
    # A subscription ending 2024-03-15 is active Jan..Mar (docs/metrics.md "MRR"):
    # s = Jan, T = 3, as_of June: s+T = Mar+1 = Apr <= Jun -> event at 3.
    customers = pd.DataFrame({"customer_id": [1, 2], "signup_date": ["2024-01-10", "2024-01-10"]})
    subs = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "start_date": ["2024-01-10", "2024-01-10"],
            "end_date": ["2024-03-15", None],
            "amount": [100.0, 100.0],
            "billing_interval": ["month", "month"],
        }
    )
    data = segwork.load({"customers": customers, "subscriptions": subs})
    out = survival(data, "2024-06-30")
    # c1 event at 3, c2 censored at 5: t=3 n=2 d=1 S=0.5
    assert out["n_events"].tolist() == [0, 0, 0, 1, 0, 0]
    assert out["survival"].tolist() == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5]


# -- cross-check against lifelines ---------------------------------------------------------------
def random_mrr(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, str]:
    """Customers with a first run, a gap and a second run; the oracle durations from the draw."""
    rng = np.random.default_rng(seed)
    a = 23  # as_of month offset (December 2025)
    s = rng.integers(0, a + 3, n)  # some start after as_of: not in the population
    t = rng.geometric(0.12, n)
    gap = rng.geometric(0.3, n)
    second = rng.geometric(0.2, n)
    rows = []
    for i in range(n):  # test data construction only
        months = list(range(s[i], s[i] + t[i])) + list(
            range(s[i] + t[i] + gap[i], s[i] + t[i] + gap[i] + second[i])
        )
        rows += [
            (i + 1, month(int(m)), float(rng.integers(1, 5) * 10)) for m in months if m < a + 6
        ]
    mrr = pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])
    customers = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "signup_date": [month(int(x)) for x in s],
            "plan": rng.choice(["starter", "pro", "enterprise"], n),
        }
    )
    event = s + t <= a
    oracle = pd.DataFrame(
        {
            "plan": customers["plan"],
            "duration": np.where(event, t, a - s),
            "event": event,
        }
    )[s <= a]
    return customers, mrr, oracle, "2025-12-31"


@pytest.fixture(scope="module")
def random_case() -> tuple[segwork.Dataset, pd.DataFrame, str]:
    customers, mrr, oracle, as_of = random_mrr(200, seed=7)
    return segwork.load({"customers": customers, "mrr": mrr}), oracle, as_of


def _lifelines_curve(durations: pd.Series, events: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    lifelines = pytest.importorskip("lifelines")
    kmf = lifelines.KaplanMeierFitter(alpha=0.05)
    timeline = np.arange(int(durations.max()) + 1)
    kmf.fit(durations, events, timeline=timeline)
    return kmf.survival_function_.to_numpy()[:, 0], kmf.confidence_interval_.to_numpy()


def test_matches_lifelines(random_case: tuple[segwork.Dataset, pd.DataFrame, str]) -> None:
    # docs/metrics.md "Survival": S(t) = prod (1 - d/n); interval log-log = lifelines' default.
    data, oracle, as_of = random_case
    out = survival(data, as_of)
    assert out["tenure"].tolist() == list(range(int(oracle.duration.max()) + 1))
    assert out.loc[0, "n_at_risk"] == len(oracle)
    assert out["n_events"].sum() == oracle.event.sum()
    assert out["n_censored"].sum() == (~oracle.event).sum()
    surv, ci = _lifelines_curve(oracle.duration, oracle.event)
    np.testing.assert_allclose(out["survival"], surv, rtol=1e-9)
    np.testing.assert_allclose(out["ci_low"], ci[:, 0], rtol=1e-6)
    np.testing.assert_allclose(out["ci_high"], ci[:, 1], rtol=1e-6)


def test_by_plan_matches_lifelines(random_case: tuple[segwork.Dataset, pd.DataFrame, str]) -> None:
    data, oracle, as_of = random_case
    out = survival(data, as_of, by=["plan"])
    assert list(out.columns) == ["plan", *COLUMNS]
    assert sorted(out.plan.unique()) == sorted(oracle.plan.unique())
    assert out["plan"].tolist() == sorted(out["plan"].tolist())  # sorted by segment
    for plan, curve in out.groupby("plan"):
        o = oracle[oracle.plan == plan]
        assert curve["tenure"].tolist() == list(range(int(o.duration.max()) + 1))
        surv, ci = _lifelines_curve(o.duration, o.event)
        np.testing.assert_allclose(curve["survival"], surv, rtol=1e-9)
        np.testing.assert_allclose(curve["ci_low"], ci[:, 0], rtol=1e-6)
        np.testing.assert_allclose(curve["ci_high"], ci[:, 1], rtol=1e-6)


def test_confidence_level(random_case: tuple[segwork.Dataset, pd.DataFrame, str]) -> None:
    data, oracle, as_of = random_case
    lifelines = pytest.importorskip("lifelines")
    out = survival(data, as_of, confidence=0.8)
    kmf = lifelines.KaplanMeierFitter(alpha=0.2).fit(
        oracle.duration, oracle.event, timeline=np.arange(int(oracle.duration.max()) + 1)
    )
    np.testing.assert_allclose(out["ci_low"], kmf.confidence_interval_.iloc[:, 0], rtol=1e-6)
    wide = survival(data, as_of)
    assert (wide["ci_high"] - wide["ci_low"] >= out["ci_high"] - out["ci_low"] - 1e-12).all()


# -- properties ----------------------------------------------------------------------------------
activity = st.lists(st.lists(st.booleans(), min_size=8, max_size=8), min_size=1, max_size=12)


@settings(max_examples=30, deadline=None)
@given(activity)
def test_properties(patterns: list[list[bool]]) -> None:
    active = {i + 1: [m for m, on in enumerate(p) if on] for i, p in enumerate(patterns)}
    if not any(x <= 5 for m in active.values() for x in m):
        # nobody active by as_of has no curve (a clear error, tested below): keep one active
        active[1] = sorted({0, *active[1]})
    customers = pd.DataFrame(
        {"customer_id": list(active), "signup_date": ["2024-01-01"] * len(active)}
    )
    data = segwork.load({"customers": customers, "mrr": mrr_rows(active)})
    out = survival(data, month(5))  # as_of = 2024-06-01; months 6, 7 are after it
    s = out["survival"].to_numpy()
    assert out.loc[0, "survival"] == 1.0
    assert ((s >= 0) & (s <= 1)).all()
    assert (np.diff(s) <= 1e-15).all()
    assert (out["ci_low"] <= s + 1e-12).all() and (s <= out["ci_high"] + 1e-12).all()
    assert ((out["ci_low"] >= 0) & (out["ci_high"] <= 1)).all()
    # n(t+1) = n(t) - d(t) - c(t); everyone leaves by the end
    n, d, c = (out[k].to_numpy() for k in ("n_at_risk", "n_events", "n_censored"))
    np.testing.assert_array_equal(n[1:], (n - d - c)[:-1])
    assert n[-1] == d[-1] + c[-1]
    assert n[0] == sum(1 for m in active.values() if any(x <= 5 for x in m))


# -- errors --------------------------------------------------------------------------------------
def test_transactions_only_refused() -> None:
    data = segwork.load(
        {
            "customers": pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]}),
            "transactions": pd.DataFrame(
                {"customer_id": [1], "order_id": ["o1"], "date": ["2024-01-02"], "amount": [5.0]}
            ),
        }
    )
    with pytest.raises(ValueError, match="survival needs MRR"):
        survival(data, "2024-06-30")


def test_errors(hand_data: segwork.Dataset) -> None:
    with pytest.raises(ValueError, match="confidence"):
        survival(hand_data, "2024-06-30", confidence=1.5)
    with pytest.raises(ValueError, match="unknown segment column 'nope'"):
        survival(hand_data, "2024-06-30", by="nope")
    with pytest.raises(ValueError, match="before all data"):
        survival(hand_data, "2023-06-30")
    with pytest.raises(ValueError, match="as_of"):
        survival(hand_data, None)
    # the only customer's first MRR month (April) is after as_of (February): nobody to follow
    late = segwork.load(
        {
            "customers": pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]}),
            "mrr": mrr_rows({1: [3]}),
        }
    )
    with pytest.raises(ValueError, match="no customer in the population had MRR"):
        survival(late, "2024-02-15")
    with pytest.raises(ValueError, match="tenure"):
        median_lifetime(pd.DataFrame({"x": [1]}))


# -- planted effect in the synthetic sample ------------------------------------------------------
def test_planted_annual_vs_monthly() -> None:
    generate = pytest.importorskip("segwork.data.generate")
    data = generate.make_saas_data(1500, random_state=3)
    out = survival(data, "2024-12-31", by="billing_interval")
    at12 = out[out.tenure == 12].set_index("billing_interval")["survival"]
    # PLANTED_EFFECTS: annual customers churn at 0.4 x the monthly hazard (and only at renewals)
    assert at12["annual"] > at12["monthly"]
