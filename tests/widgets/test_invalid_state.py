"""Invalid states reached from the page (issue 10): each explorer is driven as a user would, by
setting its widgets' values in-process (the handlers run as they do under Voila).

For every invalid state: no exception leaves the widget handler; the page's status widget says
what is wrong and what to do; the last good view (result, tables, figures, texts, headline, the
widgets drawn) stays exactly as it was; after the value is corrected the view is drawn again (in
the main cases checked against the direct metric call for the corrected state).  Setting a value
in-process runs the handler synchronously, so an exception escaping it would fail the test.

The data is small (``make_saas_data(30)``: 30 customers, first signup 2022-01-12, data to
2024-12-31) so that "k > customers" is reachable and every recompute is fast.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any, TypeVar

import pandas as pd
import pandas.testing as pdt
import pytest

import segwork
from segwork.data.generate import make_saas_data
from segwork.market import market_size
from segwork.metrics.cohorts import cohort_retention
from segwork.metrics.segments import segment_table
from segwork.widgets import CohortExplorer, MarketExplorer, SegmentExplorer
from segwork.widgets.explorer import Explorer

AS_OF = "2024-12-31"
DATA_RANGE = "choose a date from 2022-01-12 to 2024-12-31"


@pytest.fixture(scope="module")
def small() -> segwork.Dataset:
    return make_saas_data(30)


# -- helpers ----------------------------------------------------------------------------------------
E = TypeVar("E", bound=Explorer)


def ready(ex: E) -> E:
    """An explorer that shows its view (no error)."""
    assert ex.error is None, ex.error
    return ex


def message(ex: Explorer) -> str:
    """The text of the explorer's status widget, as the page shows it (tags dropped)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", ex._status.value)).split())


def snapshot(ex: Explorer) -> dict[str, Any]:
    return {
        "view": ex.view,
        "children": ex._body.children,
        "result": ex.result.copy(),
        "tables": {k: v.copy() for k, v in ex.tables.items()},
        "texts": dict(ex.texts),
        "figures": {k: f.to_json() for k, f in ex.figures.items()},
        "headline": json.dumps(ex.headline(), sort_keys=True, default=str),
        "link": ex._link.value,
    }


def assert_kept(ex: Explorer, before: dict[str, Any]) -> None:
    """The last good view is still the one shown, unchanged."""
    assert ex.view is before["view"]
    assert ex._body.children == before["children"]  # the very widgets drawn before
    pdt.assert_frame_equal(ex.result, before["result"])
    assert ex.tables.keys() == before["tables"].keys()
    for name, table in before["tables"].items():
        pdt.assert_frame_equal(ex.tables[name], table)
    assert ex.texts == before["texts"]
    assert {k: f.to_json() for k, f in ex.figures.items()} == before["figures"]
    assert json.dumps(ex.headline(), sort_keys=True, default=str) == before["headline"]
    assert ex._link.value == before["link"]


def refused(ex: Explorer, widget: str, value: Any, says: list[str]) -> dict[str, Any]:
    """Type ``value`` into ``widget``: the page says each of ``says`` and keeps its last view."""
    before = snapshot(ex)
    ex.controls[widget].value = value  # an exception escaping the handler would fail here
    assert ex.error is not None
    shown = message(ex)
    assert ex._status in ex.widget.children and 'class="segwork-error"' in ex._status.value
    for text in says:
        assert text in shown, f"{text!r} not in the page's message: {shown!r}"
    assert_kept(ex, before)
    return before


def corrected(ex: Explorer, widget: str, value: Any, before: dict[str, Any]) -> None:
    """Correct ``widget``: the message goes, the view is drawn again."""
    ex.controls[widget].value = value
    assert ex.error is None, ex.error
    assert ex._status.value == ""
    assert ex._body.children != before["children"]  # redrawn


# -- the explorers (module-wide: every test leaves its explorer in the state it found) -----------
BINS = {"company_size": [10, 50, 250]}


@pytest.fixture(scope="module")
def seg(small: segwork.Dataset) -> SegmentExplorer:
    return ready(SegmentExplorer(small, by=["company_size"], bins=BINS, k=2))


@pytest.fixture(scope="module")
def co(small: segwork.Dataset) -> CohortExplorer:
    return ready(CohortExplorer(small, horizon=6))


@pytest.fixture(scope="module")
def mk(small: segwork.Dataset) -> MarketExplorer:
    return ready(MarketExplorer(small, n_draws=200))


# -- segmentation -----------------------------------------------------------------------------------
SEGMENT_CASES = [
    # (widget, bad value, what the page says: what is wrong, what to do; good value)
    ("bins", '{"company_size": [100, 50, 200]}',
     ["Bin edges:", "bins['company_size'] must be strictly increasing, got [100, 50, 200]",
      'write the edges as finite numbers in increasing order, e.g. {"company_size": [50, 100, 200]}',
      "Not applied (the last good result is still shown): correct Bin edges"],
     json.dumps(BINS)),
    ("bins", "100, 50, 200",
     ["bins is not valid JSON", 'write a mapping like {"column": [values]}',
      'Numeric criteria: {"company_size": [10, 50, 250]}'],
     json.dumps(BINS)),
    ("bins", '{"company_size": [50, NaN]}',
     ["bins['company_size'] must be finite numbers", 'e.g. {"company_size": [50]}'],
     json.dumps(BINS)),
    ("bins", '{"plan": [1, 2]}',
     ["after the change of Bin edges", "bins need a numeric column; 'plan' is string",
      "Change Bin edges (or another value above) to update it; the last good result is still "
      "shown"],
     json.dumps(BINS)),
    ("where", '{"plan": ["platinum"]}',
     ["after the change of Filter", "where={'plan': ['platinum']} matches no customer signed up "
      "by 2024-12-31", "Change Filter"],
     "{}"),
    ("where", '{"plan": ["pro"], "billing_interval": ["weekly"]}',
     ["matches no customer signed up by 2024-12-31", "Change Filter"], "{}"),
    ("where", '{"plan": []}',
     ["where['plan'] lists no value, so it matches nobody",
      "list at least one value (e.g. {\"plan\": [\"...\"]}) or remove 'plan'"],
     "{}"),
    ("where", '{"colour": ["red"]}',
     ["unknown segment column 'colour'; available: country, region", "Change Filter"], "{}"),
    ("by", (), ["Criteria:", "by: choose at least one criterion",
                "Segment by these attributes (Ctrl/Cmd-click to pick several)"],
     ("company_size",)),
    ("as_of", dt.date(2019, 1, 1),
     ["after the change of As of", "as_of=2019-01-01 is before all data (the first customer "
      "signed up on 2022-01-12)", DATA_RANGE],
     dt.date(2024, 12, 31)),
    ("as_of", dt.date(2035, 1, 1),
     ["as_of=2035-01-01 is after the end of the data (2024-12-31)",
      "running subscriptions would count as going on unchanged", DATA_RANGE],
     dt.date(2024, 12, 31)),
    ("as_of", None, ["As of:", "as_of must not be empty: pick a date (YYYY-MM-DD)"],
     dt.date(2024, 12, 31)),
    ("gross_margin", 0.0, ["Gross margin:", "gross_margin must be between 0.01 and 1, got 0.0",
                           "correct Gross margin"], 1.0),
    ("gross_margin", 1.5, ["gross_margin must be between 0.01 and 1, got 1.5"], 1.0),
    ("gross_margin", -0.2, ["gross_margin must be between 0.01 and 1, got -0.2"], 1.0),
    ("window_months", 0, ["window_months must be between 1 and 36, got 0"], 12),
    ("min_customers", 0, ["min_customers must be between 1 and 1000000, got 0"], 30),
    ("k", 20, ["Personas (k):", "k must be between 2 and 12, got 20"], 2),
    ("k", 1, ["k must be between 2 and 12, got 1"], 2),
    ("compare_as_of", dt.date(2024, 12, 31),
     ["compare_as_of must differ from as_of and come before it",
      "choose an earlier date, or leave it empty for one year before as_of"],
     None),
    ("compare_as_of", dt.date(2025, 6, 30),
     ["got compare_as_of=2025-06-30, as_of=2024-12-31", "choose an earlier date"], None),
    ("compare_as_of", dt.date(2015, 6, 30),
     ["after the change of Compare with", "compare_as_of=2015-06-30 is before all data",
      DATA_RANGE], None),
]  # fmt: skip


def test_segment_bins_corrected_shows_the_new_bins(
    small: segwork.Dataset, seg: SegmentExplorer
) -> None:
    before = refused(seg, "bins", '{"company_size": [100, 50, 200]}',
                     ["must be strictly increasing"])  # fmt: skip
    corrected(seg, "bins", '{"company_size": [50, 100, 200]}', before)
    want = segment_table(small, ["company_size"], AS_OF, bins={"company_size": [50, 100, 200]})
    pdt.assert_frame_equal(seg.result, want)
    assert set(seg.result["company_size"]) == {"<= 50", "(50, 100]", "(100, 200]", "> 200"}
    seg.controls["bins"].value = json.dumps(BINS)
    assert seg.error is None


def test_segment_filter_matching_nobody_then_corrected(
    small: segwork.Dataset, seg: SegmentExplorer
) -> None:
    before = refused(seg, "where", '{"plan": ["platinum"]}', ["matches no customer"])
    # another change while the filter still matches nobody: still refused, and the page still
    # names the change the trouble came from
    seg.controls["gross_margin"].value = 0.8
    assert "after the change of Filter" in message(seg) and "matches no customer" in message(seg)
    assert_kept(seg, before)
    corrected(seg, "where", '{"plan": ["pro"]}', before)
    want = segment_table(small, ["company_size"], AS_OF, bins=BINS, where={"plan": ["pro"]},
                         gross_margin=0.8)  # fmt: skip
    pdt.assert_frame_equal(seg.result, want)
    assert int(seg.result["customers"].sum()) == 8  # the 8 pro customers of the 30
    seg.set(where={}, gross_margin=1.0)
    assert seg.error is None


def test_segment_k_above_the_active_customers(seg: SegmentExplorer) -> None:
    seg.set(as_of="2023-03-31")  # 8 customers active then
    assert seg.error is None and int(seg.tables["Personas"]["customers"].sum()) == 8
    before = refused(seg, "k", 12, [
        "after the change of Personas (k)", "k=12 is more than the 8 customers active at "
        "2023-03-31; use 2 <= k <= 8", "Change Personas (k)"])  # fmt: skip
    corrected(seg, "k", 3, before)
    assert len(seg.tables["Personas"]) == 3
    seg.set(as_of=AS_OF, k=2)
    assert seg.error is None


def test_segment_criteria_emptied_then_chosen_again(
    small: segwork.Dataset, seg: SegmentExplorer
) -> None:
    before = refused(seg, "by", (), ["by: choose at least one criterion"])
    assert seg.state["by"] == ["company_size"]  # nothing applied
    corrected(seg, "by", ("plan",), before)
    pdt.assert_frame_equal(seg.result, segment_table(small, ["plan"], AS_OF, bins=BINS))
    seg.controls["by"].value = ("company_size",)
    assert seg.error is None


def test_segment_gross_margin_out_of_range_is_not_clamped(
    small: segwork.Dataset, seg: SegmentExplorer
) -> None:
    # (a bounded widget used to turn a typed 0 into 0.01 without a word)
    before = refused(seg, "gross_margin", 0.0, ["gross_margin must be between 0.01 and 1"])
    assert seg.state["gross_margin"] == 1.0 and seg.controls["gross_margin"].value == 0.0
    corrected(seg, "gross_margin", 0.5, before)
    want = segment_table(small, ["company_size"], AS_OF, bins=BINS, gross_margin=0.5)
    pdt.assert_frame_equal(seg.result, want)
    seg.controls["gross_margin"].value = 1.0
    assert seg.error is None


def test_segment_min_size_above_every_segment_is_explained(seg: SegmentExplorer) -> None:
    # a valid state: the table is shown (every segment greyed as small) and the page says why
    # there is no best segment and what to do
    seg.controls["min_customers"].value = 1000
    assert seg.error is None and bool(seg.result["small_segment"].all())
    assert seg.texts["best"] == (
        "No segment with at least 1000 customers has a defined LTV yet (too few customers, or no "
        "churn observed): lower the minimum segment size or use fewer criteria."
    )
    assert seg.headline()["best_segment"] is None
    seg.controls["min_customers"].value = 30
    assert seg.error is None


def test_segment_as_of_in_the_first_year_shows_the_page_without_mix_shift(
    seg: SegmentExplorer,
) -> None:
    # one year before 2022-06-30 is before the first signup: the mix shift cannot be computed;
    # the rest of the page is (it used to fail as a whole, naming "as_of=2021-06-30")
    seg.controls["as_of"].value = dt.date(2022, 6, 30)
    assert seg.error is None and seg.state["as_of"] == "2022-06-30"
    assert int(seg.result["customers"].sum()) == 4
    assert seg.texts["mix"] == (
        "Mix shift: not shown, one year before as_of (2021-06-30) is before the first signup "
        "(2022-01-12); set 'Compare with' to a date between 2022-01-12 and 2022-06-30 to see it."
    )
    assert "mix" not in seg.figures and not any(t.startswith("Mix shift") for t in seg.tables)
    seg.controls["compare_as_of"].value = dt.date(2022, 3, 31)
    assert seg.error is None and "mix" in seg.figures
    assert "Mix shift: churn (2022-03-31 → 2022-06-30)" in seg.tables
    seg.set(as_of=AS_OF, compare_as_of=None)
    assert seg.error is None


# -- cohorts ----------------------------------------------------------------------------------------
COHORT_CASES = [
    ("where", '{"plan": ["platinum"]}',
     ["after the change of Filter", "where={'plan': ['platinum']} matches no customer signed up "
      "by 2024-12-31", "Change Filter"], ""),
    ("where", '{"plan": []}', ["where['plan'] lists no value, so it matches nobody",
                               "list at least one value"], ""),
    ("where", "{plan", ["where is not valid JSON", 'write a mapping like {"column": [values]}',
                        'e.g. {"plan": ["pro"]}; {} = all'], ""),
    ("cohort_from", "2030-01-01",
     ["no cohort between cohort_from=2030-01-01 and cohort_to=None",
      "the month cohorts run from 2022-01-01 to 2024-11-01",
      "widen 'Cohorts from' / 'Cohorts to' (empty = no bound)"], ""),
    ("cohort_to", "2010-01-01", ["no cohort between cohort_from=None and cohort_to=2010-01-01",
                                 "widen"], ""),
    ("cohort_from", "01/02/2023", ["cohort_from='01/02/2023' is not a date (use YYYY-MM-DD)",
                                   "YYYY-MM-DD; empty = the first cohort"], ""),
    ("as_of", dt.date(2019, 1, 1), ["as_of=2019-01-01 is before all data", DATA_RANGE],
     dt.date(2024, 12, 31)),
    ("as_of", dt.date(2035, 1, 1), ["as_of=2035-01-01 is after the end of the data", DATA_RANGE],
     dt.date(2024, 12, 31)),
    ("as_of", None, ["as_of must not be empty: pick a date"], dt.date(2024, 12, 31)),
    ("period", "week", ["period='week' needs transactions data",
                        "choose one of 'month', 'quarter', 'year'"], "month"),
    ("horizon", 0, ["Projection horizon:", "horizon must be between 1 and 240, got 0"], 6),
    ("horizon", 1000, ["horizon must be between 1 and 240, got 1000"], 6),
    ("min_cohort_size", 0, ["min_cohort_size must be between 1 and 100000, got 0"], 30),
]  # fmt: skip


def test_cohort_filter_matching_nobody_then_corrected(
    small: segwork.Dataset, co: CohortExplorer
) -> None:
    before = refused(co, "where", '{"plan": ["platinum"]}', ["matches no customer"])
    corrected(co, "where", '{"plan": ["pro"]}', before)
    pdt.assert_frame_equal(co.result, cohort_retention(small, AS_OF, where={"plan": ["pro"]}))
    assert int(co.result.groupby("cohort")["cohort_customers"].first().sum()) == 8
    co.controls["where"].value = ""
    assert co.error is None


def test_cohort_range_reversed_is_fixed_from_either_end(co: CohortExplorer) -> None:
    co.controls["cohort_to"].value = "2023-01-01"
    assert co.error is None
    before = refused(co, "cohort_from", "2024-06-01",
                     ["cohort_from (2024-06-01) is after cohort_to (2023-01-01)"])  # fmt: skip
    # clearing the other end meets the rule: the typed cohort_from is applied, not dropped
    corrected(co, "cohort_to", "", before)
    assert co.state["cohort_from"] == "2024-06-01" and co.state["cohort_to"] is None
    assert co.result["cohort"].min() == pd.Timestamp("2024-06-01")
    co.controls["cohort_from"].value = ""
    assert co.error is None and co.result["cohort"].min() == pd.Timestamp("2022-01-01")


def test_cohort_period_longer_than_the_data() -> None:
    data = make_saas_data(30, start="2024-11-01", end="2024-12-31")  # two months of data
    ex = CohortExplorer(data, horizon=3)
    assert ex.error is None and ex.result["age"].max() == 1
    before = refused(ex, "period", "quarter", [
        "after the change of Period", "no retention to show yet: every cohort shown "
        "(2024-10-01) is still in its first quarter at as_of=2024-12-31 (age 0 only); choose a "
        "shorter period ('month')"])  # fmt: skip
    ex.controls["period"].value = "year"
    assert "choose a shorter period ('month')" in message(ex)  # 'quarter' would not do either
    assert_kept(ex, before)
    ex.controls["period"].value = "month"
    assert ex.error is None
    before = refused(ex, "cohort_from", "2024-12-01",
                     ["(2024-12-01) is still in its first month", "choose an empty or earlier "
                      "'Cohorts from'"])  # fmt: skip
    corrected(ex, "cohort_from", "2024-11-01", before)
    before = refused(
        ex, "as_of", dt.date(2024, 11, 30), ["choose a later as_of (the data runs to 2024-12-31)"]
    )
    corrected(ex, "as_of", dt.date(2024, 12, 31), before)


def test_cohort_data_of_a_single_month() -> None:
    data = make_saas_data(30, start="2024-12-01", end="2024-12-31")
    ex = CohortExplorer(data, horizon=3)  # nothing to show at all: said, not raised
    assert ex.result.empty and ex.error is not None
    assert message(ex) == (
        "Could not update the page. no retention to show yet: every cohort shown (2024-12-01) is "
        "still in its first month at as_of=2024-12-31 (age 0 only): the data (2024-12-01 to "
        "2024-12-31) is too short, retention needs activity in at least two periods; load a "
        "longer history Change the values above to update it; nothing can be shown until then."
    )
    ex.controls["period"].value = "year"  # still nothing, still said
    assert "still in its first year" in message(ex) and ex.result.empty


# -- market -----------------------------------------------------------------------------------------
MARKET_CASES = [
    ("share_low", "0.5",
     ["Share low:", "share range must satisfy share_low <= share <= share_high, got "
      "share_low=0.5, share=0.05, share_high=None", "lower share_low or raise share"], ""),
    ("share_high", "0.01", ["share_high=0.01", "raise share_high or lower share"], ""),
    ("share_low", "abc", ["share_low must be a number, got 'abc'"], ""),
    ("share_high", "2", ["share_high must be between 0 and 1, got 2.0"], ""),
    ("share", 1.5, ["Share (mode):", "share must be between 0 and 1, got 1.5"], 0.05),
    ("top_down", "-5", ["top_down must be between 0 and 1e+15, got -5.0",
                        "Optional stated total market"], ""),
    ("serviceable", '{"region": ["Mars"]}',
     ["after the change of Serviceable (SAM filter)", "serviceable['region']: 'Mars' not in the "
      "market; values are: 'APAC', 'Europe', 'LATAM', 'North America'",
      "Change Serviceable (SAM filter)"], "{}"),
    ("serviceable", '{"region": []}',
     ["serviceable['region'] lists no value, so it matches nobody", "list at least one value"],
     "{}"),
    ("serviceable", '{"planet": ["Mars"]}', ["'planet' is not one of them: industry, "
                                             "company_size, region"], "{}"),
    ("serviceable", '{"region"', ["serviceable is not valid JSON",
                                  'e.g. {"region": ["Europe"]}; {} = all'], "{}"),
    ("acv_scale", 0.0, ["acv_scale must be between 0.01 and 100, got 0.0"], 1.0),
    ("n_draws", 0, ["n_draws must be between 1 and 200000, got 0"], 200),
    ("horizon_years", -1, ["horizon_years must be between 0 and 30, got -1"], 3),
    ("min_customers", 0, ["min_customers must be between 1 and 100000, got 0"], 30),
    ("as_of", dt.date(2019, 1, 1), ["as_of=2019-01-01 is before all data", DATA_RANGE],
     dt.date(2024, 12, 31)),
    ("as_of", dt.date(2035, 1, 1), ["as_of=2035-01-01 is after the end of the data", DATA_RANGE],
     dt.date(2024, 12, 31)),
]  # fmt: skip


def test_market_share_range_is_fixed_from_any_field(
    small: segwork.Dataset, mk: MarketExplorer
) -> None:
    # low > high: both refused, and what was typed stays until the range is consistent
    refused(mk, "share_high", "0.02", ["raise share_high or lower share"])
    before = refused(mk, "share_low", "0.08", [
        "Share low, Share high:", "share_low=0.08, share=0.05, share_high=0.02",
        "lower share_low or raise share_high"])  # fmt: skip
    assert mk.state["share_low"] is None and mk.state["share_high"] is None
    mk.controls["share_low"].value = "0.01"  # low <= high now, but the mode is above high
    assert "raise share_high or lower share" in message(mk)
    assert_kept(mk, before)
    assert mk.controls["share_high"].value == "0.02"  # not dropped
    corrected(mk, "share", 0.015, before)  # now low <= mode <= high: all three applied
    assert mk.state["share_low"] == 0.01 and mk.state["share"] == 0.015
    assert mk.state["share_high"] == 0.02
    want = market_size(small, share=(0.01, 0.015, 0.02), n_draws=200)
    pdt.assert_frame_equal(mk.result, want.segments)
    mk.set(share=0.05, share_low=None, share_high=None)
    assert mk.error is None and mk.controls["share_low"].value == ""


def test_market_filter_matching_nobody_then_corrected(
    small: segwork.Dataset, mk: MarketExplorer
) -> None:
    before = refused(mk, "serviceable", '{"region": ["Mars"]}', ["'Mars' not in the market"])
    corrected(mk, "serviceable", '{"region": ["Europe"]}', before)
    want = market_size(small, serviceable={"region": ["Europe"]}, n_draws=200)
    pdt.assert_frame_equal(mk.tables["TAM / SAM / SOM"], want.totals)
    assert mk.headline()["sam"] == pytest.approx(want.sam)
    mk.controls["serviceable"].value = "{}"
    assert mk.error is None


def test_market_icp_min_size_above_every_segment_is_explained(mk: MarketExplorer) -> None:
    mk.controls["min_customers"].value = 100_000
    assert mk.error is None
    assert mk.texts["icp"].endswith(
        "has at least 100000 customers signed up by 2024-12-31: lower min_customers or use "
        "fewer criteria."
    )
    mk.controls["min_customers"].value = 30
    assert mk.error is None


# -- the machinery ----------------------------------------------------------------------------------
def test_an_unexpected_error_in_a_handler_is_shown_not_raised(
    seg: SegmentExplorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(state: dict[str, Any]) -> None:
        raise KeyError("window")

    monkeypatch.setattr(seg, "validate", broken)
    before = refused(seg, "window_months", 6, ["Churn window (months):", "window"])
    monkeypatch.undo()
    # the value typed then was kept in its widget: the next change applies it too
    corrected(seg, "gross_margin", 0.9, before)
    assert seg.state["window_months"] == 6 and seg.state["gross_margin"] == 0.9
    seg.set(window_months=12, gross_margin=1.0)
    assert seg.error is None and seg.controls["window_months"].value == 12


def test_a_view_that_cannot_be_drawn_keeps_the_last_good_one(
    seg: SegmentExplorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    view, result = seg.view, seg.result.copy()

    def broken() -> list[Any]:
        raise RuntimeError("cannot draw")

    monkeypatch.setattr(seg, "after_render", broken)
    seg.controls["gross_margin"].value = 0.9
    assert seg.view is view and "cannot draw" in message(seg) and "RuntimeError" not in message(seg)
    assert "after the change of Gross margin" in message(seg)
    pdt.assert_frame_equal(seg.result, result)
    monkeypatch.undo()
    seg.controls["gross_margin"].value = 1.0
    assert seg.error is None and seg.view is not view
    pdt.assert_frame_equal(seg.result, result)


# -- every case above, one by one -------------------------------------------------------------------
CASES = [
    pytest.param(explorer, *case, id=f"{explorer}-{case[0]}-{i}")
    for explorer, cases in (("seg", SEGMENT_CASES), ("co", COHORT_CASES), ("mk", MARKET_CASES))
    for i, case in enumerate(cases)
]


@pytest.mark.parametrize(("explorer", "widget", "bad", "says", "good"), CASES)
def test_each_invalid_value_is_refused_then_recovered(
    request: pytest.FixtureRequest, explorer: str, widget: str, bad: Any, says: list[str], good: Any
) -> None:
    ex: Explorer = request.getfixturevalue(explorer)
    assert ex.error is None
    before = refused(ex, widget, bad, says)
    ex.controls[widget].value = good
    assert ex.error is None and ex._status.value == ""
    pdt.assert_frame_equal(ex.result, before["result"])  # the same state again: the same view
