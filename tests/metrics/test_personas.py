"""Tests of the personas (k-means on per-customer features; docs/metrics.md "Personas", "ARPA",
"Churn window", "Logo churn", "Confidence intervals", "Engagement").

Expected values are worked out by hand; the arithmetic is in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import segwork
from segwork.metrics.personas import FEATURES, PROFILE_COLUMNS, Personas, _labels, personas
from segwork.metrics.segments import engagement, segment_table
from segwork.metrics.stats import wilson_interval

AS_OF = "2024-06-30"


def hand_data() -> segwork.Dataset:
    """Two obvious groups: established pro customers and new starter customers.

    month:   2024-03  04   05   06  | events (month: event x count)
    c1 pro     500   500  500  500  | 04 api 30, 05 api 30, 06 api 30 + reports 6
    c2 pro      -    450  450  450  | 05 api 10, 06 api 20
    c3 starter  -     -    20   20  | 06 dashboard 2
    c4 starter  -     -     -   25  | none
    c5 starter  30    30    -    -  | none  (churned in May: not clustered, used for churn)
    """
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "signup_date": ["2023-01-01", "2023-02-01", "2024-05-01", "2024-06-01", "2024-01-01"],
            "plan": ["pro", "pro", "starter", "starter", "starter"],
        }
    )
    months = {
        1: {"2024-03-01": 500, "2024-04-01": 500, "2024-05-01": 500, "2024-06-01": 500},
        2: {"2024-04-01": 450, "2024-05-01": 450, "2024-06-01": 450},
        3: {"2024-05-01": 20, "2024-06-01": 20},
        4: {"2024-06-01": 25},
        5: {"2024-03-01": 30, "2024-04-01": 30},
    }
    mrr = pd.DataFrame(
        [{"customer_id": c, "month": m, "mrr": float(v)} for c, ms in months.items()
         for m, v in ms.items()]
    )
    events = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1, 2, 2, 3],
            "timestamp": ["2024-04-10", "2024-05-10", "2024-06-10", "2024-06-11", "2024-05-03",
                          "2024-06-03", "2024-06-20"],
            "event": ["api", "api", "api", "reports", "api", "api", "dashboard"],
            "count": [30, 30, 30, 6, 10, 20, 2],
        }
    )
    return segwork.load({"customers": customers, "mrr": mrr, "events": events})


@pytest.fixture(scope="module")
def hand() -> segwork.Dataset:
    return hand_data()


@pytest.fixture(scope="module")
def sample() -> segwork.Dataset:
    return segwork.load_sample()


@pytest.fixture(scope="module")
def sample_p4(sample: segwork.Dataset) -> Personas:
    return personas(sample, "2024-12-31", k=4, random_state=0)


# -- hand-worked ----------------------------------------------------------------------------------
def test_hand_worked_profiles(hand: segwork.Dataset) -> None:
    p = personas(hand, AS_OF, k=2, window_months=3)
    prof = p.profiles
    assert list(prof.columns) == list(PROFILE_COLUMNS)
    # no subscriptions and no billing_interval column: no "annual" feature
    assert p.features == ("arpa", "tenure_months", "usage", "features_used", "plan_tier")
    assert prof["dominant_plan"].tolist() == ["pro", "starter"]  # ordered by MRR: 950 > 45
    pro, st_ = prof.iloc[0], prof.iloc[1]
    # clustered = active in June (docs/metrics.md "Active customer"): c1..c4, two per persona
    assert prof["customers"].tolist() == [2, 2]
    assert prof["customers"].dtype == "int64"
    assert prof["customers_share"].tolist() == [0.5, 0.5]
    # ARPA (MRR in June): pro median(500, 450) = 475; starter median(20, 25) = 22.5
    assert pro.median_arpa == 475.0 and st_.median_arpa == 22.5
    # tenure: months from the signup month to June 2024: c1 17, c2 16 -> 16.5; c3 1, c4 0 -> 0.5
    assert pro.median_tenure_months == 16.5 and st_.median_tenure_months == 0.5
    # usage = events per active month over Apr..Jun (docs/metrics.md "Engagement"):
    # c1 (30+30+30+6)/3 = 32, c2 (10+20)/3 = 10 -> median 21; c3 2/2 = 1, c4 0/1 = 0 -> 0.5
    assert pro.median_usage == pytest.approx(21.0) and st_.median_usage == pytest.approx(0.5)
    # features used: c1 {api, reports} 2, c2 1 -> 1.5; c3 1, c4 0 -> 0.5
    assert pro.median_features_used == 1.5 and st_.median_features_used == 0.5
    # engagement levels over Apr..Jun among c1..c5 (c5 active in April, rate 0):
    # rates 32, 10, 1, 0, 0 -> percent ranks 1, .75, .5, 0, 0 -> high, high, medium, low, low;
    # starters tie (medium, low): the higher level is shown
    assert pro.engagement == "high" and st_.engagement == "medium"
    # MRR share: 950 / 995 and 45 / 995
    assert pro.mrr == 950.0 and st_.mrr == 45.0
    assert pro.mrr_share == pytest.approx(950 / 995) and st_.mrr_share == pytest.approx(45 / 995)
    # churn window Apr..Jun (docs/metrics.md "Churn window"): at risk = active the month before.
    # pro: c1 Apr, May, Jun (3) + c2 May, Jun (2) = 5, no churn -> 0
    # starter: c3 Jun (1) + c4 none + c5 (not clustered, nearest persona = starters by its April
    # features) Apr, May (2) = 3; c5 churned in May -> 1 / 3
    assert pro.at_risk_customer_months == 5 and pro.churned_customer_months == 0
    assert st_.at_risk_customer_months == 3 and st_.churned_customer_months == 1
    assert pro.churn_rate == 0.0 and st_.churn_rate == pytest.approx(1 / 3)
    low, high = wilson_interval(1, 3)
    assert st_.churn_rate_low == pytest.approx(float(low))
    assert st_.churn_rate_high == pytest.approx(float(high))
    assert pro.churn_rate_low == 0.0
    # members: c1, c2 pro persona, c3, c4 starter persona; c5 is not a member
    m = p.members
    assert list(m.columns) == ["customer_id", "persona"]
    assert m["customer_id"].tolist() == [1, 2, 3, 4]
    assert m["persona"].tolist() == [pro.persona, pro.persona, st_.persona, st_.persona]
    assert "pro" in pro.persona and "starter" in st_.persona
    assert prof["cluster"].tolist() == [1, 2]
    # silhouette is defined for 2 <= k <= n - 1 = 3
    assert p.silhouette_by_k["k"].tolist() == [2, 3]
    assert p.silhouette == pytest.approx(p.silhouette_by_k["silhouette"].iloc[0])
    assert 0.5 < p.silhouette <= 1.0  # two well separated groups
    # the centres are z-scores: pro is above the mean on every feature, starters below
    assert (p.centers.loc[pro.persona] > 0).all() and (p.centers.loc[st_.persona] < 0).all()


def test_plan_and_interval_come_from_the_active_subscription() -> None:
    """c1 signed up on starter (customers.plan) and upgraded to pro on 2024-03-01; c2 pays yearly.

    MRR in June 2024 (docs/metrics.md "MRR"): c1 100 (pro), c2 1200 / 12 = 100, c3 10, c4 12.
    """
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "signup_date": ["2024-01-01", "2024-01-15", "2024-02-01", "2024-02-10"],
            "plan": ["starter", "pro", "starter", "starter"],
        }
    )
    subs = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4],
            "start_date": ["2024-01-01", "2024-03-01", "2024-01-15", "2024-02-01", "2024-02-10"],
            "end_date": ["2024-03-01", None, None, None, None],
            "amount": [10.0, 100.0, 1200.0, 10.0, 12.0],
            "billing_interval": ["month", "month", "year", "month", "month"],
            "plan": ["starter", "pro", "pro", "starter", "starter"],
        }
    )
    data = segwork.load({"customers": customers, "subscriptions": subs})
    p = personas(data, AS_OF, k=2, features=["plan_tier", "annual"])
    prof = p.profiles
    # plan tiers ranked by mean ARPA: pro (100, 100) above starter (10, 12); c1 counts as pro
    assert prof["dominant_plan"].tolist() == ["pro", "starter"]
    assert prof["customers"].tolist() == [2, 2]
    assert prof["mrr"].tolist() == [200.0, 22.0]
    # c2 pays yearly: half of the pro persona is annual, none of the starters
    assert prof["share_annual"].tolist() == [0.5, 0.0]
    assert p.members.set_index("customer_id")["persona"][1] == prof["persona"][0]


def test_k_equal_to_customers_has_no_silhouette(hand: segwork.Dataset) -> None:
    p = personas(hand, AS_OF, k=4, window_months=3)
    assert math.isnan(p.silhouette)
    assert p.profiles["customers"].tolist() == [1, 1, 1, 1]
    assert p.profiles["persona"].is_unique


def test_features_subset(hand: segwork.Dataset) -> None:
    p = personas(hand, AS_OF, k=2, features=["arpa"], window_months=3)
    assert p.features == ("arpa",)
    assert list(p.centers.columns) == ["arpa"]
    # on ARPA alone the split is {500, 450} vs {20, 25}
    assert p.profiles["median_arpa"].tolist() == [475.0, 22.5]


def test_errors(hand: segwork.Dataset) -> None:
    with pytest.raises(ValueError, match="k must be an integer >= 2"):
        personas(hand, AS_OF, k=1)
    with pytest.raises(ValueError, match="k must be an integer >= 2"):
        personas(hand, AS_OF, k=2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k=5 is more than the 4 customers active"):
        personas(hand, AS_OF, k=5)
    with pytest.raises(ValueError, match="unknown persona feature"):
        personas(hand, AS_OF, features=["arpa", "colour"])
    with pytest.raises(ValueError, match="not available in this data"):
        personas(hand, AS_OF, features=["annual"])
    with pytest.raises(ValueError, match="as_of is required"):
        personas(hand, None)
    no_events = segwork.load(
        {"customers": hand.to_pandas("customers"), "mrr": hand.to_pandas("mrr")}
    )
    with pytest.raises(ValueError, match="not available"):
        personas(no_events, AS_OF, features=["usage"])
    assert personas(no_events, AS_OF, k=2).features == ("arpa", "tenure_months", "plan_tier")
    with pytest.raises(ValueError, match="no customer is active"):
        personas(hand, "2023-02-15")


def test_labels_are_unique_and_descriptive() -> None:
    # two clusters with the same two strongest words get a third distinguishing word
    centers = pd.DataFrame(
        {
            "arpa": [1.5, 1.4, -1.0],
            "tenure_months": [-1.0, -1.1, 0.2],
            "usage": [0.5, -0.6, 0.0],
            "annual": [0.0, 0.0, 0.0],
        }
    )
    labels = _labels(centers, ["enterprise", "enterprise", "starter"])
    assert labels == [
        "New high-ARPA heavy-usage enterprise customers",
        "New high-ARPA low-usage enterprise customers",
        "Low-ARPA starter customers",
    ]
    # identical centres cannot be told apart by words: numbered
    same = pd.DataFrame({"arpa": [1.0, 1.0], "annual": [0.0, 0.0]})
    assert _labels(same, [None, None]) == ["High-ARPA customers (group 1)",
                                           "High-ARPA customers (group 2)"]
    # nothing distinctive
    flat = pd.DataFrame({"arpa": [0.1], "usage": [-0.2]})
    assert _labels(flat, ["pro"]) == ["Typical pro customers"]


# -- the sample -----------------------------------------------------------------------------------
def test_sample_profiles_add_up(sample: segwork.Dataset, sample_p4: Personas) -> None:
    p = sample_p4
    prof = p.profiles
    overall = segment_table(sample, None, "2024-12-31")
    # every customer active at as_of is clustered once: n adds up to the active customers
    assert prof["customers"].sum() == overall["active_customers"].iloc[0] == 1440
    assert len(p.members) == 1440 and p.members["customer_id"].is_unique
    counts = p.members["persona"].value_counts()
    assert counts.reindex(prof["persona"]).tolist() == prof["customers"].tolist()
    assert prof["customers_share"].sum() == pytest.approx(1.0)
    assert prof["mrr_share"].sum() == pytest.approx(1.0)
    assert prof["mrr"].sum() == pytest.approx(overall["mrr"].iloc[0])
    # churn: every at-risk customer-month of the window is assigned to one persona, so the sums
    # are the segment table's pooled counts (docs/metrics.md "Logo churn", pooled)
    assert prof["at_risk_customer_months"].sum() == overall["at_risk_customer_months"].iloc[0]
    assert prof["churned_customer_months"].sum() == overall["churned_customer_months"].iloc[0]
    assert prof["persona"].is_unique and prof["cluster"].tolist() == [1, 2, 3, 4]
    assert (prof["churn_rate_low"] <= prof["churn_rate"]).all()
    assert (prof["churn_rate"] <= prof["churn_rate_high"]).all()
    assert prof["mrr"].is_monotonic_decreasing
    assert p.silhouette_by_k["k"].tolist() == list(range(2, 9))
    assert p.silhouette == pytest.approx(
        p.silhouette_by_k.set_index("k").loc[4, "silhouette"]
    )
    assert 0 < p.silhouette < 1
    assert p.features == FEATURES


def test_sample_recovers_planted_structure(sample_p4: Personas) -> None:
    prof = sample_p4.profiles.set_index("persona")
    # generate.py: annual customers and enterprise churn least, monthly starters most
    worst = prof["churn_rate"].idxmax()
    assert prof.loc[worst, "dominant_plan"] == "starter"
    assert prof.loc[worst, "share_annual"] < 0.1
    top = prof.iloc[0]  # the biggest MRR persona: enterprise, high ARPA
    assert top["dominant_plan"] == "enterprise"
    assert top["median_arpa"] == prof["median_arpa"].max()
    assert "High-ARPA" in top.name


def test_usage_matches_engagement_metric(sample: segwork.Dataset) -> None:
    # the usage feature of the members is the engagement rate of segwork.engagement (docs/metrics.md
    # "Engagement")
    from segwork.data.derive import month_index_of
    from segwork.metrics.personas import _features_expr

    day = pd.Timestamp("2024-12-31").date()
    feats = _features_expr(sample, day, 12)[0].to_pandas()
    members = feats[feats["member"].astype(bool)].set_index("customer_id").sort_index()
    eng = engagement(sample, "2024-12-31").set_index("customer_id")
    rate = eng["events_per_active_month"].reindex(members.index)
    np.testing.assert_allclose(members["usage"].to_numpy(), rate.to_numpy())
    assert month_index_of(day) == 2024 * 12 + 11


def test_deterministic(sample: segwork.Dataset, sample_p4: Personas) -> None:
    again = personas(sample, "2024-12-31", k=4, random_state=0)
    pdt.assert_frame_equal(again.profiles, sample_p4.profiles)
    pdt.assert_frame_equal(again.members, sample_p4.members)
    pdt.assert_frame_equal(again.silhouette_by_k, sample_p4.silhouette_by_k)
    assert again.silhouette == sample_p4.silhouette


# -- properties -----------------------------------------------------------------------------------
@st.composite
def random_data(draw: st.DrawFn) -> tuple[segwork.Dataset, int]:
    n = draw(st.integers(min_value=3, max_value=12))
    plans = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    rows = []
    for c in range(1, n + 1):
        first = draw(st.integers(min_value=0, max_value=5))
        last = draw(st.integers(min_value=first, max_value=5))
        value = draw(st.sampled_from([10.0, 50.0, 200.0]))
        rows += [{"customer_id": c, "month": f"2024-0{m + 1}-01", "mrr": value}
                 for m in range(first, last + 1)]
    mrr = pd.DataFrame(rows)
    customers = pd.DataFrame(
        {"customer_id": range(1, n + 1), "signup_date": ["2024-01-01"] * n, "plan": plans}
    )
    active = int((mrr["month"] == "2024-06-01").sum())
    return segwork.load({"customers": customers, "mrr": mrr}), active


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_data(), st.integers(min_value=2, max_value=4))
def test_profiles_add_up_property(case: tuple[segwork.Dataset, int], k: int) -> None:
    data, active = case
    if active < k:
        with pytest.raises(ValueError):
            personas(data, "2024-06-30", k=k)
        return
    try:
        p = personas(data, "2024-06-30", k=k)
    except ValueError as err:  # customers with identical features cannot fill k clusters
        assert "distinct feature profiles" in str(err) or "same features" in str(err)
        return
    assert p.profiles["customers"].sum() == active
    assert len(p.profiles) == k and p.profiles["persona"].is_unique
    if p.profiles["mrr"].sum() > 0:
        assert p.profiles["mrr_share"].sum() == pytest.approx(1.0)
    overall = segment_table(data, None, "2024-06-30")
    assert p.profiles["at_risk_customer_months"].sum() == overall["at_risk_customer_months"].iloc[0]


def test_large_populations_fit_on_a_seeded_sample(
    sample: segwork.Dataset, sample_p4: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # above _FIT_MAX_N active customers k-means is fitted on a sample and everyone is assigned
    # to the nearest centre: still every customer once, same totals, same planted structure
    import importlib

    module = importlib.import_module("segwork.metrics.personas")  # the name is also a function
    monkeypatch.setattr(module, "_FIT_MAX_N", 500)
    p = personas(sample, "2024-12-31", k=4, random_state=0)
    assert p.profiles["customers"].sum() == 1440 and p.members["customer_id"].is_unique
    full = sample_p4.profiles
    assert p.profiles["mrr"].sum() == pytest.approx(full["mrr"].sum())
    assert (
        p.profiles["at_risk_customer_months"].sum() == full["at_risk_customer_months"].sum()
    )
    assert p.profiles.iloc[0]["dominant_plan"] == "enterprise"  # biggest-MRR persona
    worst = p.profiles.set_index("persona")["churn_rate"].idxmax()
    assert p.profiles.set_index("persona").loc[worst, "dominant_plan"] == "starter"
    # (the partition itself may be another k-means optimum than the full fit's: on this sample
    # two seeds of the full fit agree at adjusted Rand 0.95-0.99, a 500-customer fit at 0.5-0.9)
    again = personas(sample, "2024-12-31", k=4, random_state=0)
    pdt.assert_frame_equal(again.members, p.members)  # the sample is seeded


def test_features_equal_the_definition(sample: segwork.Dataset) -> None:
    """A page's engine (its faster paths: the churn window from the page's bits, the first
    month's MRR held with them) gives the same per-customer features as the definition
    (``fast_paths=False``)."""
    from segwork.metrics.personas import _features_expr

    day = pd.Timestamp("2024-12-31").date()

    def features(engine: segwork.Engine) -> pd.DataFrame:
        got = _features_expr(engine, day, 12)[0].to_pandas()
        return got.sort_values("customer_id", ignore_index=True)

    fast = features(segwork.Engine(sample, reuse_across_dates=True))
    pdt.assert_frame_equal(fast, features(segwork.Engine(sample, fast_paths=False)))
    assert fast["features_used"].max() > 1


def test_an_engine_keeps_the_features_of_two_dates(sample: segwork.Dataset) -> None:
    """The features (one row per customer) and the standardised matrix are kept for a change of
    k or seed, but for the two most recent dates and windows only: a page that visits many
    dates does not keep a million rows for each."""
    from segwork.metrics.personas import PersonaClustering, PersonaFeatures

    engine = segwork.Engine(sample, reuse_across_dates=True)
    first = personas(engine, "2024-12-31", k=3)
    for window in (12, 6, 3):
        personas(engine, "2024-12-31", k=3, window_months=window)
    kinds = [type(key) for key in engine._values]
    # one clustering serves every window of a date (the members' features are the same)
    assert kinds.count(PersonaFeatures) == 2 and kinds.count(PersonaClustering) == 1
    for day in ("2024-11-30", "2024-10-31"):
        personas(engine, day, k=3)
    kinds = [type(key) for key in engine._values]
    assert kinds.count(PersonaFeatures) == 2 and kinds.count(PersonaClustering) == 2
    again = personas(engine, "2024-12-31", k=3)  # built again: the same numbers
    pdt.assert_frame_equal(again.profiles, first.profiles)


@pytest.mark.parametrize("window", [6, 1])
def test_a_narrower_window_read_from_a_wider_one_equals_its_own_build(
    sample: segwork.Dataset, window: int
) -> None:
    """A page that kept window 12's features reads a narrower window's from them (the rows with
    ref_idx >= A - w, that window's churn counts): equal to the features built for it, and the
    personas equal to a one-off call's, without the window's reference or usage table."""
    from segwork.metrics.personas import PersonaReference, PersonaUsage, _features_frame

    day = pd.Timestamp("2024-12-31").date()
    engine = segwork.Engine(sample, reuse_across_dates=True)
    personas(engine, day, k=3)  # window 12 kept
    narrowed = _features_frame(engine, day, window)[0]
    own = _features_frame(segwork.Engine(sample, reuse_across_dates=True), day, window)[0]
    pdt.assert_frame_equal(narrowed, own)
    built = {(type(k), getattr(k, "window_months", None)) for k in engine.table_keys()}
    assert (PersonaReference, window) not in built and (PersonaUsage, window) not in built
    page = personas(engine, day, k=3, window_months=window)
    alone = personas(sample, day, k=3, window_months=window)
    pdt.assert_frame_equal(page.profiles, alone.profiles)
    pdt.assert_frame_equal(page.members, alone.members)


def test_fits_made_two_at_a_time_equal_fits_made_alone(sample: segwork.Dataset) -> None:
    """Clustering.fit_all fits several k in two threads (each fit on one OpenMP thread): every
    centre and silhouette is the one the same k gets fitted alone."""
    from segwork.metrics.persona_fit import Clustering
    from segwork.metrics.personas import _features_frame, _used_features

    engine = segwork.Engine(sample)
    raw, avail = _features_frame(engine, pd.Timestamp("2024-12-31").date(), 12)
    used = _used_features(None, avail)
    together = Clustering(raw, avail, used, 0, 500)  # fitted on a 500-customer sample
    together.fit_all(range(2, 9))
    for k in range(2, 9):
        alone = Clustering(raw, avail, used, 0, 500).fit(k)
        np.testing.assert_array_equal(together.fit(k)[0].cluster_centers_, alone[0].cluster_centers_)
        assert together.fit(k)[1] == alone[1]


def test_a_page_keeps_the_engagement_levels_for_every_window(sample: segwork.Dataset) -> None:
    """The engagement levels (3 months ending at as_of, whatever the churn window) are kept by a
    page's engine: the personas at another window read them again; a one-off engine keeps none
    and gives the same personas."""
    from segwork.metrics._common import EngagementLevels

    page = segwork.Engine(sample, reuse_across_dates=True)
    personas(page, "2024-12-31", k=3, window_months=12)
    kept = [k for k in page.table_keys() if isinstance(k, EngagementLevels)]
    assert kept == [EngagementLevels(pd.Timestamp("2024-12-31").date(), 3, 3)]
    six = personas(page, "2024-12-31", k=3, window_months=6)
    assert [k for k in page.table_keys() if isinstance(k, EngagementLevels)] == kept
    one_off = segwork.Engine(sample)
    pdt.assert_frame_equal(six.profiles, personas(one_off, "2024-12-31", k=3, window_months=6).profiles)
    assert not any(isinstance(k, EngagementLevels) for k in one_off.table_keys())
