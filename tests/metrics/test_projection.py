"""Tests of the sBG retention projection (segwork/metrics/projection.py).

Golden numbers: Fader, P. S. and Hardie, B. G. S. (2007), "How to project customer retention",
Journal of Interactive Marketing 21(1), 76-90 (Table 1 data; the fitted parameters in the text):
"High End" alpha = 0.668, beta = 3.806 (LL = -1611.2); "Regular" alpha = 0.704, beta = 1.182
(LL = -1680.3).

Rules checked (docs/metrics.md "Retention projection" and the sections it builds on, summarised):
- (S) "Survival": with A the as-of month, s a customer's first month with MRR > 0 and T the number
  of consecutive active months from s (active in s .. s+T-1), an event at tenure T when
  s + T <= A, else censored at tenure A - s; a comeback after the first run plays no part;
  S(t) = product over j <= t of (1 - d(j)/n(j)), S(0) = 1 -- the data the sBG model is fitted to,
  and the ``observed`` column.
- (C1) "Cohorts": a customer's cohort is the period (week / month / quarter / year) of its first
  activity (first order for transaction data), or of its signup_date with cohort="signup".
- (P) "Conventions": data dated after as_of is ignored; the population is the customers with
  signup_date <= as_of.
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
from segwork.metrics.lifetimes import Durations
from segwork.metrics.projection import (
    SBGFit,
    fit_sbg,
    fit_sbg_censored,
    project_retention,
    retention_fits,
)
from segwork.metrics.survival import survival

HIGH_END = [869, 743, 653, 593, 551, 517, 491]
REGULAR = [631, 468, 382, 326, 289, 262, 241]
COLUMNS = ["age", "observed", "projected", "projected_low", "projected_high"]


def month(offset: int) -> str:
    """First day of the month ``offset`` months after January 2024."""
    y, m = divmod(offset, 12)
    return dt.date(2024 + y, m + 1, 1).isoformat()


def mrr_rows(active: dict[int, list[int]]) -> pd.DataFrame:
    rows = [(c, month(m), 10.0) for c, months in active.items() for m in months]
    return pd.DataFrame(rows, columns=["customer_id", "month", "mrr"])


@pytest.fixture(scope="module")
def sample() -> segwork.Dataset:
    return segwork.load_sample()


# -- golden numbers ------------------------------------------------------------------------------
def test_golden_high_end() -> None:
    fit = fit_sbg(HIGH_END, n0=1000)
    assert (round(fit.alpha, 3), round(fit.beta, 3)) == (0.668, 3.806)
    assert round(fit.log_likelihood, 1) == -1611.2
    assert fit.n == 1000 and fit.events == 1000 - 491 and fit.converged


def test_golden_regular() -> None:
    fit = fit_sbg(REGULAR, n0=1000)
    assert (round(fit.alpha, 3), round(fit.beta, 3)) == (0.704, 1.182)
    assert round(fit.log_likelihood, 1) == -1680.3


def test_n0_none_takes_the_first_count_as_the_cohort_size() -> None:
    a = fit_sbg([1000, *HIGH_END])
    b = fit_sbg(HIGH_END, n0=1000)
    assert (a.alpha, a.beta, a.log_likelihood) == (b.alpha, b.beta, b.log_likelihood)


def test_high_end_projection_matches_the_paper_curve() -> None:
    # Fader & Hardie project High End to year 12; with alpha = 0.668, beta = 3.806 the formula
    # r(t) = (beta + t - 1) / (alpha + beta + t - 1) gives r(8) = 10.806 / 11.474 = 0.9418.
    fit = fit_sbg(HIGH_END, n0=1000)
    assert fit.retention_rate(8) == pytest.approx(0.9418, abs=5e-4)
    # and the fitted survival at the observed years stays within 2 points of the data (the
    # largest gap is year 1: 1000 x S(1) = 1000 x 3.806 / 4.474 = 850.7 vs 869 observed)
    fitted = fit.survival(np.arange(1, 8)) * 1000
    assert fitted[0] == pytest.approx(850.7, abs=0.1)
    assert np.abs(fitted - np.array(HIGH_END)).max() < 20


# -- the model's formulas, hand-worked ----------------------------------------------------------
def test_sbg_formulas_alpha_beta_one() -> None:
    # alpha = beta = 1: B(1, 1 + t) / B(1, 1) = (1 / (1 + t)) / 1, so S(t) = 1 / (1 + t):
    # S(0) = 1, S(1) = 1/2, S(3) = 1/4.  P(T = 1) = alpha / (alpha + beta) = 1/2,
    # P(T = 2) = S(1) - S(2) = 1/2 - 1/3 = 1/6.  r(2) = (1 + 2 - 1) / (1 + 1 + 2 - 1) = 2/3.
    fit = SBGFit(alpha=1.0, beta=1.0, log_likelihood=0.0, n=1.0, events=1.0)
    np.testing.assert_allclose(fit.survival([0, 1, 3]), [1.0, 0.5, 0.25])
    np.testing.assert_allclose(fit.churn_probability([0, 1, 2]), [0.0, 0.5, 1 / 6])
    assert float(fit.retention_rate(2)) == pytest.approx(2 / 3)


def test_pooled_censored_likelihood_is_the_sum_over_cohorts() -> None:
    # Cohort A (100): 20 churn at age 1, 12 at age 2, 68 censored at 2.
    # Cohort B (100): 25 churn at age 1, 75 censored at 1.
    # Pooled counts: events = [0, 20 + 25, 12], censored = [0, 75, 68].
    fit = fit_sbg_censored([0, 45, 12], [0, 75, 68])

    def ll(events: list[int], censored: list[int]) -> float:
        p = fit.churn_probability(np.arange(len(events)))
        s = fit.survival(np.arange(len(events)))
        return float(
            sum(e * math.log(q) for e, q in zip(events, p, strict=True) if e)
            + sum(c * math.log(v) for c, v in zip(censored, s, strict=True) if c)
        )

    assert fit.log_likelihood == pytest.approx(ll([0, 20, 12], [0, 0, 68]) + ll([0, 25], [0, 75]))
    assert fit.n == 200 and fit.events == 57


def test_fit_errors() -> None:
    with pytest.raises(ValueError, match="must not increase"):
        fit_sbg([100, 90, 95])
    with pytest.raises(ValueError, match="no churn event"):
        fit_sbg([100, 100, 100])
    with pytest.raises(ValueError, match="at least one"):
        fit_sbg([100])
    with pytest.raises(ValueError, match="events\\[0\\] must be 0"):
        fit_sbg_censored([1, 2], [0, 3])
    with pytest.raises(ValueError, match="same length"):
        fit_sbg_censored([0, 2], [0, 3, 4])


@settings(max_examples=30, deadline=None)
@given(
    n0=st.integers(50, 5000),
    drops=st.lists(st.floats(0.0, 0.5), min_size=1, max_size=10).filter(lambda d: max(d) > 0.01),
)
def test_fit_is_a_maximum(n0: int, drops: list[float]) -> None:
    # Any survivor curve with some churn: the fitted (alpha, beta) is a maximum of the likelihood
    # (no nearby point is better) and the fitted curve is a survival curve (1 at 0, decreasing).
    counts = [float(n0)]
    for q in drops:
        counts.append(round(counts[-1] * (1 - q)))
    if counts[-1] == counts[0]:
        return
    fit = fit_sbg(counts)
    t = np.arange(len(counts))
    events = np.concatenate([[0.0], -np.diff(counts)])

    def ll(a: float, b: float) -> float:
        f = SBGFit(a, b, 0.0, 0.0, 0.0)
        p = f.churn_probability(t)
        with np.errstate(divide="ignore"):
            return float(
                np.sum(np.where(events > 0, events * np.log(np.where(p > 0, p, 1.0)), 0.0))
                + counts[-1] * np.log(f.survival(t[-1]))
            )

    best = ll(fit.alpha, fit.beta)
    assert best == pytest.approx(fit.log_likelihood, rel=1e-9, abs=1e-6)
    for fa, fb in [(1.05, 1), (0.95, 1), (1, 1.05), (1, 0.95)]:
        a, b = fit.alpha * fa, fit.beta * fb
        if max(a, b) < math.exp(12) and min(a, b) > math.exp(-12):
            assert ll(a, b) <= best + 1e-6 * max(1.0, abs(best))
    s = fit.survival(np.arange(0, 30))
    assert s[0] == pytest.approx(1.0) and (np.diff(s) <= 1e-12).all()


# -- project_retention on hand-made data --------------------------------------------------------
# as_of 2024-06-30: A = June = offset 5 (offsets from January 2024).
#   c1 (pro):     Jan..Jun, still active        -> s=0, censored at 5
#   c2 (pro):     Jan, Feb                      -> s=0, run of 2, 0+2 <= 5: event at 2
#   c3 (starter): Jan                           -> s=0, event at 1
#   c4 (starter): Mar, Apr, (gap), Jun          -> s=2, first run Mar-Apr: event at 2
#                 (the June reactivation does not matter, (S))
#   c5 (starter): signs up in July              -> not in the population (P)
# Pooled durations: 1 (event), 2 (event), 2 (event), 5 (censored).
#   KM: n(1)=4, d=1: S(1) = 3/4;  n(2)=3, d=2: S(2) = 3/4 * 1/3 = 1/4;  n(3)=n(4)=n(5)=1, no events:
#   S stays 1/4 to age 5; beyond 5 nobody is at risk: observed NaN.
def hand_data() -> segwork.Dataset:
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "signup_date": ["2024-01-01"] * 4 + ["2024-07-02"],
            "plan": ["pro", "pro", "starter", "starter", "starter"],
        }
    )
    mrr = mrr_rows({1: [0, 1, 2, 3, 4, 5, 6], 2: [0, 1], 3: [0], 4: [2, 3, 5], 5: [6]})
    return segwork.load({"customers": customers, "mrr": mrr})


def test_observed_is_the_pooled_kaplan_meier() -> None:
    out = project_retention(hand_data(), "2024-06-30", horizon=7, n_boot=0)
    assert list(out.columns) == COLUMNS
    assert out["age"].dtype == "int64" and out["age"].tolist() == list(range(8))
    want = [1.0, 0.75, 0.25, 0.25, 0.25, 0.25, math.nan, math.nan]
    np.testing.assert_allclose(out["observed"].to_numpy(), want)
    # the projection is the sBG fit of those counts: events [0, 1, 2], censored at 5: [.., 1]
    fit = fit_sbg_censored([0, 1, 2, 0, 0, 0], [0, 0, 0, 0, 0, 1])
    np.testing.assert_allclose(out["projected"].to_numpy(), fit.survival(np.arange(8)))
    assert out["projected_low"].isna().all() and out["projected_high"].isna().all()  # n_boot=0


def test_by_segment_and_a_segment_without_churn() -> None:
    # pro: c1 censored at 5, c2 event at 2 -> S(1) = 1, S(2) = 1 - 1/2 = 0.5 (n(2) = 2).
    # starter: c3 event at 1, c4 event at 2 -> S(1) = 1/2, S(2) = 1/2 * (1 - 1/1) = 0.
    out = project_retention(hand_data(), "2024-06-30", by="plan", horizon=3, n_boot=20)
    assert list(out.columns) == ["plan", *COLUMNS]
    assert out["plan"].tolist() == ["pro"] * 4 + ["starter"] * 4
    np.testing.assert_allclose(out["observed"].to_numpy(), [1, 1, 0.5, 0.5, 1, 0.5, 0.0, math.nan])
    # where: only pro customers, and c1 alone never churns: no fit, projection NaN
    only_c1 = project_retention(
        hand_data(), "2024-06-30", where={"plan": "pro"}, horizon=3, n_boot=0
    )
    assert only_c1["observed"].tolist()[:2] == [1.0, 1.0]
    quiet = project_retention(hand_data(), "2024-01-31", horizon=2, n_boot=5)
    # as of January every active customer is still in its first month: censored at 0, no event
    assert quiet["projected"].isna().all() and quiet["observed"].tolist()[0] == 1.0


def test_signup_cohort_counts_age_from_signup() -> None:
    # One customer signs up in January 2024 but first pays in March, active Mar-Apr (as_of June):
    # first_active: origin March, run Mar-Apr -> event at 2 -> S(1) = 1, S(2) = 0.
    # signup: origin January, last active April -> event at April - January + 1 = 4:
    #   S(1..3) = 1, S(4) = 0.
    customers = pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-10"]})
    data = segwork.load({"customers": customers, "mrr": mrr_rows({1: [2, 3]})})
    first = project_retention(data, "2024-06-30", horizon=4, n_boot=0)
    signup = project_retention(data, "2024-06-30", horizon=4, n_boot=0, cohort="signup")
    np.testing.assert_allclose(first["observed"], [1, 1, 0, math.nan, math.nan])
    np.testing.assert_allclose(signup["observed"], [1, 1, 1, 1, 0])


def test_quarters_and_transactions() -> None:
    # Transactions only, period quarter, as_of 2024-09-30 (A = Q3 2024):
    #   c1 orders in Q1, Q2, Q3 -> origin Q1, run to Q3 = A: censored at 2
    #   c2 orders in Q1 only     -> event at 1
    #   c3 orders in Q1, Q3      -> first run Q1 only: event at 1
    # KM: n(1) = 3, d = 2: S(1) = 1/3; S(2) = 1/3 (c1 censored at 2).
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "signup_date": ["2024-01-01"] * 3})
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 3, 3],
            "order_id": [1, 2, 3, 4, 5, 6],
            "date": [
                "2024-01-05",
                "2024-04-05",
                "2024-07-05",
                "2024-02-01",
                "2024-03-01",
                "2024-08-01",
            ],
            "amount": [10.0] * 6,
        }
    )
    data = segwork.load({"customers": customers, "transactions": tx})
    out = project_retention(data, "2024-09-30", period="quarter", horizon=3, n_boot=0)
    np.testing.assert_allclose(out["observed"], [1, 1 / 3, 1 / 3, math.nan])
    weekly = project_retention(data, "2024-09-30", period="week", horizon=2, n_boot=0)
    assert weekly["observed"].tolist()[0] == 1.0


def test_errors() -> None:
    data = hand_data()
    with pytest.raises(ValueError, match=r"period='day'.*allowed: 'week', 'month'"):
        project_retention(data, "2024-06-30", period="day")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cohort='x'"):
        project_retention(data, "2024-06-30", cohort="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs transactions data"):
        project_retention(data, "2024-06-30", period="week")
    with pytest.raises(ValueError, match="horizon"):
        project_retention(data, "2024-06-30", horizon=0)
    with pytest.raises(ValueError, match="confidence"):
        project_retention(data, "2024-06-30", confidence=1.5)
    with pytest.raises(ValueError, match="unknown segment column 'nope'; available: plan"):
        project_retention(data, "2024-06-30", by="nope")


# -- the sample ------------------------------------------------------------------------------------
def test_observed_equals_survival_on_the_sample(sample: segwork.Dataset) -> None:
    # period month + first_active: the fitted data are exactly survival()'s counts (S)
    out = project_retention(sample, "2024-12-31", by="plan", horizon=36, n_boot=0)
    km = survival(sample, "2024-12-31", by="plan")
    merged = km.merge(out, left_on=["plan", "tenure"], right_on=["plan", "age"])
    assert len(merged) == len(km)
    np.testing.assert_allclose(merged["observed"], merged["survival"], atol=1e-12)


def test_band_is_seeded_and_contains_the_curve(sample: segwork.Dataset) -> None:
    a = project_retention(sample, "2024-12-31", by="billing_interval", horizon=24, n_boot=60)
    b = project_retention(sample, "2024-12-31", by="billing_interval", horizon=24, n_boot=60)
    pd.testing.assert_frame_equal(a, b)
    c = project_retention(
        sample, "2024-12-31", by="billing_interval", horizon=24, n_boot=60, random_state=1
    )
    assert not np.allclose(a["projected_low"], c["projected_low"])
    assert (a["projected_low"] <= a["projected_high"]).all()
    inside = (a["projected"] >= a["projected_low"] - 0.01) & (
        a["projected"] <= a["projected_high"] + 0.01
    )
    assert inside.all()


def test_projection_from_an_earlier_as_of_covers_later_data(sample: segwork.Dataset) -> None:
    # Sanity (loose): fit on the data up to 2023-12-31, project 24 months; the Kaplan-Meier curve
    # observed a year later (as_of 2024-12-31, more customers and longer follow-up) stays within
    # the band, give or take 3 points, at every age.
    early = project_retention(sample, "2023-12-31", horizon=24, n_boot=100)
    late = project_retention(sample, "2024-12-31", horizon=24, n_boot=0)
    later = late["observed"].to_numpy()
    assert np.all(later >= early["projected_low"].to_numpy() - 0.03)
    assert np.all(later <= early["projected_high"].to_numpy() + 0.03)
    # ages 13..24 were not observed for most of the early customers: that is the projection
    assert np.abs(later[13:] - early["projected"].to_numpy()[13:]).max() < 0.05


def test_retention_fits_table(sample: segwork.Dataset) -> None:
    fits = retention_fits(sample, "2024-12-31", by="plan")
    assert list(fits.columns) == [
        "plan",
        "alpha",
        "beta",
        "log_likelihood",
        "customers",
        "events",
        "max_age",
    ]
    assert fits["plan"].tolist() == ["enterprise", "pro", "starter"]
    assert fits["customers"].sum() == 2000 and fits["customers"].dtype == "int64"


def test_generated_data_recovers_plan_order() -> None:
    # make_saas_data plants monthly churn starter 5 % > pro 3 % > enterprise 1.5 %
    # (PLANTED_EFFECTS["base_monthly_churn"]): the projected 24-month retention is ordered the
    # other way round.
    data = segwork.make_saas_data(1500, random_state=3)
    out = project_retention(data, "2024-12-31", by="plan", horizon=24, n_boot=0)
    at24 = out[out["age"] == 24].set_index("plan")["projected"]
    assert at24["starter"] < at24["pro"] < at24["enterprise"]


def test_lifetimes_are_computed_once_and_shared() -> None:
    """Each customer's lifetime is a customer-level fact: computed once per (as_of, period,
    cohort) in the engine and reused by the fits, another split or filter (monthly
    first-activity lifetimes are survival's own); the numbers equal a fresh Dataset's."""
    data = segwork.Engine(segwork.load_sample())
    project_retention(data, "2024-12-31", by="plan", horizon=6, n_boot=0)
    built = set(data.table_keys())
    assert Durations(dt.date(2024, 12, 31), "month", "first_active") in built
    fits = retention_fits(data, "2024-12-31", by="billing_interval", where={"plan": ["pro"]})
    survival(data, "2024-12-31", by="plan")
    assert set(data.table_keys()) == built
    fresh = segwork.load_sample()
    pd.testing.assert_frame_equal(
        fits, retention_fits(fresh, "2024-12-31", by="billing_interval", where={"plan": ["pro"]})
    )
    project_retention(data, "2024-12-31", period="quarter", cohort="signup", n_boot=0)
    quarter = set(data.table_keys()) - built
    assert quarter == {Durations(dt.date(2024, 12, 31), "quarter", "signup")}
    pd.testing.assert_frame_equal(
        project_retention(data, "2024-12-31", period="quarter", cohort="signup", by="plan",
                          n_boot=0),
        project_retention(fresh, "2024-12-31", period="quarter", cohort="signup", by="plan",
                          n_boot=0),
    )  # fmt: skip


def test_bootstrap_refits_at_once_equal_the_fitter_one_by_one():
    """The bootstrap's refits made at once by Newton's method (projection._fit_many) are the
    MLE that the general fitter finds for each data set alone (SLSQP, tight tolerance): data
    drawn from sBG models of low and high churn, small and large cohorts
    observed for different lengths; rows it does not settle go to that fitter."""
    from segwork.metrics import projection as P

    rng = np.random.default_rng(7)
    settled = 0
    for alpha, beta, size, length in ((0.7, 1.9, 40, 4), (3.0, 12.0, 800, 9), (0.2, 5.0, 30_000, 14)):
        model = P.SBGFit(alpha, beta, 0.0, 0.0, 0.0)
        t = np.arange(1, length + 1)
        d = np.zeros((50, length + 1))
        c = np.zeros((50, length + 1))
        for follow in range(1, length + 1):  # one cohort per observation length
            p = np.append(model.churn_probability(t[:follow]), model.survival(follow))
            draws = rng.multinomial(size, p / p.sum(), size=50)
            d[:, 1 : follow + 1] += draws[:, :follow]
            c[:, follow] += draws[:, follow]
        d, c = d[d.sum(axis=1) > 0], c[d.sum(axis=1) > 0]
        x, ok = P._fit_many(d, c, model)  # from the model, as the bootstrap starts from its fit
        settled += int(ok.sum())
        for row in np.flatnonzero(ok):  # the fitter alone, to its tight tolerance
            alone = P._fit(d[row], c[row])
            np.testing.assert_allclose(np.exp(x[row]), [alone.alpha, alone.beta], rtol=2e-5)
    assert settled >= 140  # nearly all of the 150
    # the likelihood's maximum on a bound (no churn after age 1): not settled, left to SLSQP
    start = P.fit_sbg_censored([0, 45, 12, 8, 5], [0, 75, 68, 50, 40])
    _, ok = P._fit_many(np.array([[0.0, 5.0, 0.0, 0.0]]), np.array([[0.0, 0.0, 0.0, 900.0]]), start)
    assert not ok[0]


@pytest.mark.parametrize("n", [1_000, 1_000_000, 50_000_000])
def test_the_fit_recovers_the_model_of_a_large_population(n):
    """Counts that are exactly the model's expectation (cohorts followed 1..24 periods) give
    back its alpha and beta at any size.  With a million customers SLSQP on the raw likelihood
    stopped at its start (alpha = beta = 1) and reported success: the fit now maximises the
    likelihood per customer, which has the same maximum."""
    model = SBGFit(5.0, 190.0, 0.0, 0.0, 0.0)
    d, c = np.zeros(25), np.zeros(25)
    for follow in range(1, 25):
        t = np.arange(1, follow + 1)
        d[1 : follow + 1] += n / 24 * model.churn_probability(t)
        c[follow] += n / 24 * float(model.survival(follow))
    fit = fit_sbg_censored(d, c)
    assert fit.converged
    np.testing.assert_allclose([fit.alpha, fit.beta], [5.0, 190.0], rtol=1e-4)
