"""Tests of the segmentation explorer and its best-customers sentence (issue 5; docs/metrics.md
"Segment table", "LTV", "Small segments").

The explorer is driven without a browser: by ``.set(...)`` and by changing widget values; what it
shows must equal the direct calls of the metric functions.
"""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

import segwork
from segwork.metrics.members import segment_members
from segwork.metrics.mix import mix_shift
from segwork.metrics.personas import import_clustering, personas
from segwork.metrics.segments import segment_table
from segwork.sentences import best_customers_sentence, describe_segment
from segwork.widgets.segments import SegmentExplorer

AS_OF = "2024-12-31"


@pytest.fixture(scope="module")
def data() -> segwork.Dataset:
    return segwork.load_sample()


@pytest.fixture(scope="module")
def ex(data: segwork.Dataset) -> SegmentExplorer:
    """A default explorer; tests using it do not change its state."""
    return SegmentExplorer(data)


# -- the sentence (pure) ----------------------------------------------------------------------------
def _table() -> pd.DataFrame:
    t = pd.DataFrame(
        {
            "billing_interval": ["annual", "annual", "monthly", "monthly"],
            "plan": ["enterprise", "pro", "pro", "starter"],
            "country": ["DE", "DE", None, "US"],
            "customers": [212, 12, 80, 300],
            "churn_rate": [0.006, 0.0005, 0.03, 0.0],
            "ltv": [41_000.0, 900_000.0, 9_500.0, np.nan],
            "ltv_low": [33_000.0, 100_000.0, 7_600.0, 5_000.0],
            "ltv_high": [52_000.0, 2_000_000.0, 12_400.0, np.nan],
            "small_segment": [False, True, False, False],
        }
    )
    t.attrs.update({"gross_margin": 0.8, "min_customers": 30})
    return t


def test_best_customers_sentence_hand_worked() -> None:
    # the (annual, pro, DE) row has the highest LTV but only 12 customers (< 30): skipped;
    # (monthly, starter, US) has no churn, so no LTV: skipped.
    assert best_customers_sentence(_table(), n=3) == (
        "Best customers (highest LTV among segments of at least 30 customers, gross margin 80 %): "
        "Enterprise customers in DE, on annual plans: LTV $41k (CI $33k-$52k), implied lifetime "
        "14 years, beyond the 10-year horizon: LTV flagged, churn 0.60 %/month, "
        "n = 212; Pro customers on monthly plans, with unknown country: LTV $9.5k (CI $7.6k-$12k), "
        "implied lifetime 2.8 years, churn 3.0 %/month, n = 80."
    )
    assert best_customers_sentence(_table(), n=1).endswith("n = 212.")
    none = _table().assign(small_segment=True)
    assert best_customers_sentence(none).startswith("No segment with at least 30 customers")
    with pytest.raises(ValueError, match="n must be >= 1"):
        best_customers_sentence(_table(), n=0)


def test_describe_segment() -> None:
    assert describe_segment({"plan": "pro", "region": "Europe"}, ["plan", "region"]) == (
        "Pro customers in Europe"
    )
    assert describe_segment(
        {"uses_api": True, "engagement": "high"}, ["uses_api", "engagement"]
    ) == ("High-engagement customers using api")
    assert describe_segment({"company_size": "(10, 50]"}, ["company_size"]) == (
        "Companies with (10, 50] employees"
    )
    assert describe_segment({"seats": "(10, 50]"}, ["seats"]) == "Customers with seats (10, 50]"
    assert describe_segment(
        {"acquisition_channel": "paid_search", "signup_quarter": "2023-Q2"},
        ["acquisition_channel", "signup_quarter"],
    ) == ("Customers acquired via paid search, signed up 2023-Q2")
    assert describe_segment({"plan": None, "region": "EU"}) == "Customers in EU, with no paid plan"
    assert describe_segment({"region": "EU"}, noun="companies") == "Companies in EU"


# -- the explorer -----------------------------------------------------------------------------------
def test_defaults_and_state_round_trip(data: segwork.Dataset, ex: SegmentExplorer) -> None:
    state = ex.state
    assert list(state) == [
        "as_of",
        "by",
        "bins",
        "where",
        "window_months",
        "gross_margin",
        "min_customers",
        "ltv_horizon_months",
        "ltv_discount_rate",
        "k",
        "random_state",
        "compare_as_of",
    ]
    assert state["ltv_horizon_months"] == 0 and state["ltv_discount_rate"] == 0.0
    assert state["min_customers"] == 30 and state["k"] == 4 and state["random_state"] == 0
    assert state["compare_as_of"] is None
    again = SegmentExplorer(data, **state)
    assert again.state == state
    custom = {
        **state,
        "by": ["company_size", "region"],
        "bins": {"company_size": [10, 50, 250]},
        "where": {"plan": ["pro", "enterprise"]},
        "compare_as_of": "2024-06-30",
        "k": 3,
    }
    assert SegmentExplorer(data, **custom).state == custom
    # the criteria offered: every attribute, derived ones included
    # the criteria offered, in words (the values stay the names of links and notebooks)
    options = [value for _words, value in ex.controls["by"].options]
    assert {"lifecycle_stage", "engagement", "rfm_segment", "billing_interval", "plan"} <= set(
        options
    )
    assert options == segwork.available_attributes(data)
    words = dict(ex.controls["by"].options)
    assert words["Current plan"] == "current_plan" and words["RFM segment"] == "rfm_segment"


def test_view_equals_direct_calls(data: segwork.Dataset, ex: SegmentExplorer) -> None:
    pdt.assert_frame_equal(
        ex.result, segment_table(data, ["current_plan", "billing_interval"], AS_OF)
    )
    # the sample's one-off orders: the predicted-value section's figures (mixed data)
    assert set(ex.figures) == {
        "share",
        "churn",
        "ltv",
        "personas",
        "mix",
        "clv_distribution",
        "calibration",
    }
    p = personas(data, AS_OF, k=4, random_state=0)
    pdt.assert_frame_equal(ex.tables["Personas"], p.profiles)
    pdt.assert_frame_equal(ex.tables["Silhouette by k"], p.silhouette_by_k)
    # compare_as_of None = one year before as_of
    churn_key = "Mix shift: churn (2023-12-31 → 2024-12-31)"
    pdt.assert_frame_equal(
        ex.tables[churn_key],
        mix_shift(data, ["current_plan", "billing_interval"], "2023-12-31", AS_OF),
    )
    nrr = ex.tables["Mix shift: NRR (2023-12-31 → 2024-12-31)"]
    pdt.assert_frame_equal(
        nrr,
        mix_shift(data, ["current_plan", "billing_interval"], "2023-12-31", AS_OF, metric="nrr"),
    )
    assert ex.texts["best"] == best_customers_sentence(ex.result)
    assert ex.texts["best"].startswith(
        "Best customers (highest LTV among segments of at least 30 customers, gross margin 100 %): "
        "Enterprise customers on annual plans: LTV $1.3M"
    )
    assert "gross margin 100 %" in ex.figures["ltv"].layout.title.text
    assert ex.error is None


def test_downloads_and_export_control(data: segwork.Dataset, ex: SegmentExplorer) -> None:
    by = ["current_plan", "billing_interval"]
    # the top segment by LTV among non-small ones: enterprise annual
    top = segment_members(
        data, by, AS_OF, {"current_plan": "enterprise", "billing_interval": "annual"}
    )
    pdt.assert_frame_equal(ex.downloads["segment_members.csv"], top)
    assert len(top) == 133
    assert ex.export_select.value == (0,)
    pdt.assert_frame_equal(ex.export_frame, top)
    # select two segments in the control: the CSV offered is segment_members of both
    ex.export_select.value = (1, 3)
    want = segment_members(
        data,
        by,
        AS_OF,
        [
            {c: ex.result.loc[1, c] for c in by},
            {c: ex.result.loc[3, c] for c in by},
        ],
    )
    pdt.assert_frame_equal(ex.export_frame, want)
    payload = re.search(r'href="data:text/csv;base64,([^"]+)"', ex.export_link.value)
    assert payload is not None
    assert base64.b64decode(payload.group(1)).decode() == want.to_csv(index=False)
    assert 'download="segment_members.csv"' in ex.export_link.value
    assert ex.widget is not None and ex._export_box in ex._body.children
    ex.export_select.value = ()
    assert ex.export_frame.empty and "Select one or more" in ex.export_link.value
    ex.export_select.value = (0,)


def test_set_recomputes_and_caches(data: segwork.Dataset) -> None:
    e = SegmentExplorer(data, by=["billing_interval"], k=3)
    pers_before = e.tables["Personas"]
    e.set(
        by=["company_size", "region"],
        bins={"company_size": [10, 50, 250]},
        where={"plan": ["pro", "enterprise"]},
        gross_margin=0.75,
        min_customers=40,
        window_months=6,
    )
    want = segment_table(
        data,
        ["company_size", "region"],
        AS_OF,
        bins={"company_size": [10, 50, 250]},
        where={"plan": ["pro", "enterprise"]},
        gross_margin=0.75,
        min_customers=40,
        window_months=6,
    )
    pdt.assert_frame_equal(e.result, want)
    # personas depend on as_of, k, random_state and the churn window: recomputed for window 6
    pdt.assert_frame_equal(
        e.tables["Personas"], personas(data, AS_OF, k=3, window_months=6).profiles
    )
    assert e.tables["Personas"] is not pers_before
    # a change of k recomputes the personas but not the segment table (same object from the memo)
    table_before = e.result
    e.set(k=2)
    assert e.result is table_before
    assert len(e.tables["Personas"]) == 2
    # a change of gross margin recomputes the table but not the personas
    pers = e.tables["Personas"]
    e.set(gross_margin=0.5)
    assert e.tables["Personas"] is pers and e.result is not table_before
    assert "gross margin 50 %" in e.figures["ltv"].layout.title.text
    # the export control follows the new segments; the best segment is preselected
    assert len(e.export_select.options) == len(e.result)
    seg = {
        "company_size": e.result.loc[e.export_select.value[0], "company_size"],
        "region": e.result.loc[e.export_select.value[0], "region"],
    }
    pdt.assert_frame_equal(
        e.export_frame,
        segment_members(
            data,
            ["company_size", "region"],
            AS_OF,
            seg,
            bins={"company_size": [10, 50, 250]},
            where={"plan": ["pro", "enterprise"]},
        ),
    )
    e.set(compare_as_of="2024-06-30")
    assert "Mix shift: churn (2024-06-30 → 2024-12-31)" in e.tables


def test_widget_driven_changes(data: segwork.Dataset) -> None:
    e = SegmentExplorer(data, by=["plan"], k=2)
    e.controls["by"].value = ("billing_interval", "lifecycle_stage")
    assert e.state["by"] == ["billing_interval", "lifecycle_stage"]
    pdt.assert_frame_equal(
        e.result, segment_table(data, ["billing_interval", "lifecycle_stage"], AS_OF)
    )
    e.controls["gross_margin"].value = 0.8
    e.controls["where"].value = '{"region": ["Europe"]}'
    assert e.state["where"] == {"region": ["Europe"]}
    pdt.assert_frame_equal(
        e.result,
        segment_table(
            data,
            ["billing_interval", "lifecycle_stage"],
            AS_OF,
            gross_margin=0.8,
            where={"region": ["Europe"]},
        ),
    )
    e.controls["as_of"].value = pd.Timestamp("2024-06-30").date()
    assert e.state["as_of"] == "2024-06-30"
    pdt.assert_frame_equal(
        e.result,
        segment_table(
            data,
            ["billing_interval", "lifecycle_stage"],
            "2024-06-30",
            gross_margin=0.8,
            where={"region": ["Europe"]},
        ),
    )
    assert "Mix shift: churn (2023-06-30 → 2024-06-30)" in e.tables
    assert e.error is None


def test_errors_are_shown_not_raised(data: segwork.Dataset) -> None:
    e = SegmentExplorer(data, by=["plan"], k=2)
    good = e.result
    # a compute failure (as_of before the data) is shown in the page; the last result stays
    e.set(as_of="2019-01-01")
    assert e.error is not None and "before all data" in e.error
    assert e.result is good
    assert "before all data" in e.to_html()
    # a bad value typed in a widget: shown, not raised, state unchanged
    e.set(as_of=AS_OF)
    assert e.error is None
    e.controls["where"].value = '{"plan": '
    assert e.error is not None and "not valid JSON" in e.error
    assert e.state["where"] == {}
    e.controls["by"].value = ()
    assert e.error is not None and "at least one criterion" in e.error
    # an unknown value in where: the metric's error, shown
    e.set(where={"plan": ["platinum"]})
    assert e.error is not None and "matches no customer" in e.error
    assert e.result is good
    # bad calls from code raise, naming what is allowed
    with pytest.raises(ValueError, match="unknown parameter 'period'"):
        e.set(period="month")
    with pytest.raises(ValueError, match="not allowed; choose from"):
        e.set(by=["colour"])
    with pytest.raises(ValueError, match=r"bins\['company_size'\] must be a list of numbers"):
        e.set(bins={"company_size": "10, 50"})
    with pytest.raises(ValueError, match="compare_as_of must differ"):
        e.set(compare_as_of=AS_OF)
    with pytest.raises(ValueError, match="k must be between 2 and 12"):
        SegmentExplorer(data, k=1)


def test_static_html(ex: SegmentExplorer) -> None:
    page = ex.to_html()
    for heading in (
        "Customer segmentation",
        "Segment table (ordered by LTV)",
        "Personas",
        "Silhouette by k",
        "Mix shift: churn",
        "Mix shift: NRR",
        "Best customers",
        "segment_members.csv",
        "gross margin 100 %",
    ):
        assert heading in page
    for name in ("share", "churn", "ltv", "personas", "mix"):
        assert f'id="segwork-segmentexplorer-{name}"' in page
    bundle = ex._repr_mimebundle_()
    assert "text/html" in bundle and "text/plain" in bundle


def test_default_criteria_are_ones_the_data_has(data: segwork.Dataset) -> None:
    """Data without plans or billing intervals (a bare export) opens on a criterion it has,
    not on an error; its link stays short (the default is not written into it)."""
    subs = data.to_pandas("subscriptions").drop(columns=["plan"])
    customers = data.to_pandas("customers")[["customer_id", "signup_date", "country"]]
    bare = segwork.load({"customers": customers, "subscriptions": subs})
    ex = SegmentExplorer(bare)
    assert ex.error is None and ex.state["by"] == ["country"]
    assert ex.url_query() == ""
    assert SegmentExplorer(data).state["by"] == ["current_plan", "billing_interval"]


def test_none_means_the_pages_default(data: segwork.Dataset) -> None:
    """A notebook's ``by = None`` (its parameters cell) opens on the page's default criteria."""
    ex = SegmentExplorer(data, by=None)
    assert ex.error is None and ex.state["by"] == ["current_plan", "billing_interval"]


def test_idle_steps_build_the_personas(
    data: segwork.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While its kernel is idle the page imports scikit-learn, builds the personas' features,
    fits every k the section shows and computes the personas of its state (segwork.widgets.idle):
    a first click on Personas, and a change of k, then fit nothing and query nothing."""
    import segwork.metrics.persona_fit as fit_module
    import segwork.widgets.segments as page_module
    from segwork.metrics.personas import PersonaClustering, PersonaFeatures

    e = SegmentExplorer(data, k=3)
    steps = e.preparations()
    assert import_clustering in steps and len(steps) > 10  # histograms, queries, fits, result
    e.prepare()
    keys = [k for k in e.engine._values if isinstance(k, (PersonaFeatures, PersonaClustering))]
    assert {type(k) for k in keys} == {PersonaFeatures, PersonaClustering}
    key = next(k for k in keys if isinstance(k, PersonaClustering))
    clustering = e.engine.value(key, lambda: None)  # the one kept
    assert clustering is not None and sorted(clustering._fits) == [2, 3, 4, 5, 6, 7, 8]

    def no_call(*args: object, **kwargs: object) -> None:
        raise AssertionError("the personas were not built ahead")

    with monkeypatch.context() as m:
        m.setattr(page_module, "personas", no_call)
        opened = e.tables["Personas"]  # the section's first open: the result kept ahead
    want = personas(data, AS_OF, k=3, random_state=0)
    pdt.assert_frame_equal(opened, want.profiles)
    # a change of k: its fit is kept (no KMeans is made); the result equals a fresh call's
    _, silhouette, scaler, limits = import_clustering()
    with monkeypatch.context() as m:
        m.setattr(fit_module, "import_clustering", lambda: (no_call, silhouette, scaler, limits))
        e.set(k=5)
        got = e.tables["Personas"]
    pdt.assert_frame_equal(got, personas(data, AS_OF, k=5, random_state=0).profiles)
