"""Page sections computed when opened (issue "Performance and scale-out": interactive recompute).

The slower parts of a page (personas, mix shift, projection, MRR movements, survival, churn
conventions) are sections: a change recomputes the main part at once and a section only when it
is open.  The API (``tables``, ``figures``, ``to_html``) still gives every section, with the same
numbers as the direct metric calls.  Driven through the page's own widgets (the accordion a click
opens), without a browser.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ipywidgets as widgets
import pandas.testing as pdt
import pytest

import segwork
import segwork.widgets.cohorts as wc
import segwork.widgets.explorer
import segwork.widgets.segments as ws
import segwork.widgets.view
from segwork.metrics.cohorts import ActivityAll
from segwork.metrics.history import MonthlyMRRNext
from segwork.metrics.mix import mix_shift
from segwork.metrics.page_months import ActiveMonths
from segwork.metrics.personas import personas
from segwork.metrics.survival import survival
from segwork.widgets.cohorts import CohortExplorer
from segwork.widgets.segments import SegmentExplorer
from segwork.widgets.static import SECTION_UPDATING
from segwork.widgets.view import View

AS_OF = "2024-12-31"


@pytest.fixture(scope="module")
def data() -> segwork.Dataset:
    return segwork.load_sample()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the pages called the section metrics (wrapping the real functions)."""
    counts = {"personas": 0, "mix_shift": 0, "survival": 0}

    def counting(module: object, name: str) -> None:
        real = getattr(module, name)

        def wrapper(*args: object, **kwargs: object) -> object:
            counts[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counting(ws, "personas")
    counting(ws, "mix_shift")
    counting(wc, "survival")
    return counts


class SectionTab:
    """The tab of section ``title`` on the page: ``selected_index`` 0 when it is the tab shown,
    None otherwise; setting 0 clicks it, setting None clicks the overview tab (as the
    Accordion of each section did before the page had tabs)."""

    def __init__(self, ex: segwork.widgets.Explorer, title: str) -> None:
        titles = list(ex._tabs.titles)
        assert titles[0] == ex.overview_title and title in titles, f"no tab {title!r}: {titles}"
        assert ex._tabs.children[0] is ex._body  # the overview tab holds the main part
        self.tabs, self.index = ex._tabs, titles.index(title)
        self.children = [ex._tabs.children[self.index]]

    @property
    def selected_index(self) -> int | None:
        return 0 if self.tabs.selected_index == self.index else None

    @selected_index.setter
    def selected_index(self, value: int | None) -> None:
        self.tabs.selected_index = self.index if value == 0 else 0


def accordion(ex: segwork.widgets.Explorer, title: str) -> SectionTab:
    return SectionTab(ex, title)


def section_html(ex: segwork.widgets.Explorer, title: str) -> str:
    box = accordion(ex, title).children[0]
    return "\n".join(w.value for w in box.children if isinstance(w, widgets.HTML))


def test_sections_are_tabs_after_the_overview(data: segwork.Dataset) -> None:
    ex = SegmentExplorer(data, by=["plan"], k=3)
    # the sample has one-off orders beside subscriptions: their predicted value is a section
    assert list(ex._tabs.titles) == [
        "Overview", "Personas", "Mix shift", "Predicted customer value"
    ]
    assert ex._tabs.selected_index == 0 and ex._export_box in ex._body.children
    assert not any(isinstance(w, widgets.Accordion) for w in ex._body.children)


def test_view_sections_are_computed_once() -> None:
    made = []

    def build() -> View:
        made.append(1)
        return View(texts={"b": "later"}, tables={"T": segwork.widgets.view.pd.DataFrame()})

    v = View(texts={"a": "main"}, sections={"More": build})
    assert v.resolved == {} and not made
    assert v.section("More") is v.section("More") and len(made) == 1
    assert list(v.complete().texts) == ["a", "b"] and list(v.complete().tables) == ["T"]
    assert len(made) == 1


def test_closed_sections_cost_nothing_until_opened(
    data: segwork.Dataset, calls: dict[str, int]
) -> None:
    ex = SegmentExplorer(data, by=["plan"], k=3)
    assert calls == {"personas": 0, "mix_shift": 0, "survival": 0}
    assert [accordion(ex, t).selected_index for t in ("Personas", "Mix shift")] == [None, None]
    assert "Computed when opened" in section_html(ex, "Personas")
    # changes with the sections closed recompute the main part only
    ex.controls["by"].value = ("billing_interval",)
    ex.controls["where"].value = '{"country": ["DE", "US"]}'
    assert ex.error is None and calls["personas"] == calls["mix_shift"] == 0
    assert ex.open_sections == ()

    # a click opens Personas: computed now, for the current state, shown in the section
    accordion(ex, "Personas").selected_index = 0
    assert calls["personas"] == 1 and ex.open_sections == ("Personas",)
    want = personas(data, AS_OF, k=3)
    shown = section_html(ex, "Personas")
    assert "<h3>Personas <small>· amounts in USD</small></h3>" in shown
    assert want.profiles["persona"].iloc[0] in shown
    pdt.assert_frame_equal(ex.view.section("Personas").tables["Personas"], want.profiles)
    assert calls["mix_shift"] == 0

    # an open section follows every change (the memo answers what did not change)
    ex.controls["window_months"].value = 6
    assert calls["personas"] == 2 and accordion(ex, "Personas").selected_index == 0
    pdt.assert_frame_equal(
        ex.view.resolved["Personas"].tables["Personas"],
        personas(data, AS_OF, k=3, window_months=6).profiles,
    )
    # closed again: no longer computed with changes
    accordion(ex, "Personas").selected_index = None
    ex.controls["window_months"].value = 9
    assert calls["personas"] == 2 and ex.open_sections == ()
    assert "Personas" not in ex.view.resolved

    # the API computes every section (once per view), same numbers as the direct calls
    tables = ex.tables
    assert calls["personas"] == 3 and calls["mix_shift"] == 2  # churn and NRR
    pdt.assert_frame_equal(tables["Personas"], personas(data, AS_OF, k=3, window_months=9).profiles)
    mix = mix_shift(
        data,
        ["billing_interval"],
        "2023-12-31",
        AS_OF,
        metric="churn",
        window_months=9,
        where={"country": ["DE", "US"]},
    )
    pdt.assert_frame_equal(tables["Mix shift: churn (2023-12-31 → 2024-12-31)"], mix)
    assert ex.tables is not tables and calls["personas"] == 3


def test_a_sections_own_parameter_opens_it(data: segwork.Dataset, calls: dict[str, int]) -> None:
    ex = SegmentExplorer(data, by=["plan"], k=3)
    ex.controls["k"].value = 2  # k is only used by the personas: the person wants to see them
    assert ex.open_sections == ("Personas",) and calls["personas"] == 1
    assert accordion(ex, "Personas").selected_index == 0
    assert len(ex.view.resolved["Personas"].tables["Personas"]) == 2
    ex.controls["compare_as_of"].value = segwork.widgets.explorer.dt.date(2024, 6, 30)
    assert ex.open_sections == ("Personas", "Mix shift") and calls["mix_shift"] == 2
    assert "2024-06-30 → 2024-12-31" in section_html(ex, "Mix shift")


def test_a_failing_section_is_said_in_the_section(
    data: segwork.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    ex = CohortExplorer(data)
    main = ex.view

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the survival engine is down")

    monkeypatch.setattr(wc, "survival", broken)
    accordion(ex, "Survival").selected_index = 0  # no exception leaves the click
    text = section_html(ex, "Survival")
    assert "Could not compute Survival" in text and "the survival engine is down" in text
    assert ex.view is main and ex.error is None  # the main part is still good and shown
    assert "Could not compute Survival" in ex.to_html()  # the static page says it too
    with pytest.raises(RuntimeError, match="engine is down"):  # the API raises
        ex.tables  # noqa: B018
    # while open, a change that breaks the section is refused like any failure: last view kept
    ex.controls["metric"].value = "nrr"
    assert ex.error is not None and "engine is down" in ex.error
    assert ex.view is main and ex.state["metric"] == "nrr"
    monkeypatch.setattr(wc, "survival", survival)
    ex.controls["period"].value = "quarter"
    assert ex.error is None and ex.view is not main
    pdt.assert_frame_equal(
        ex.view.resolved["Survival"].tables["Median lifetime (months; — where not reached)"],
        segwork.median_lifetime(survival(data, AS_OF)),
    )


def test_open_section_api_and_static_html(data: segwork.Dataset, calls: dict[str, int]) -> None:
    ex = CohortExplorer(data, by="plan")
    with pytest.raises(ValueError, match=r"no section 'Nope'.*Projection, MRR movements"):
        ex.open_section("Nope")
    ex.open_section("Survival")
    assert calls["survival"] == 1 and accordion(ex, "Survival").selected_index == 0
    ex.set(period="quarter")
    assert calls["survival"] == 1  # survival does not depend on the period: memo
    ex.set(where={"plan": ["pro"]})
    assert calls["survival"] == 2 and "Survival" in ex.view.resolved
    html = ex.to_html()  # the static page (reports) has every section, headed by its title
    for title in ("Projection", "MRR movements", "Survival", "Churn conventions"):
        assert f"<h3 class='segwork-section'>{title}</h3>" in html
    assert "Computed when opened" not in html


def test_display_computes_every_section_except_when_served(
    data: segwork.Dataset, calls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook display (JupyterLab, papermill reports) carries the whole page as static HTML
    and the headline; a page served by Voila always shows its widget view, so there the display
    computes no section (the first page comes up without waiting for them)."""
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.setenv("VOILA_KERNEL_ID", "k-1")
    served = SegmentExplorer(data, by=["plan"], k=3)
    bundle = served._repr_mimebundle_()
    assert calls["personas"] == calls["mix_shift"] == 0 and served.view.resolved == {}
    assert "Computed when opened" in bundle["text/html"]
    assert "<h3 class='segwork-section'>Personas</h3>" in bundle["text/html"]
    assert segwork.widgets.explorer.HEADLINE_MIME not in bundle
    with pytest.raises(ValueError, match="sections must be 'all' or 'computed'"):
        served.to_html(sections="some")  # type: ignore[arg-type]

    monkeypatch.delenv("VOILA_KERNEL_ID")
    shown = SegmentExplorer(data, by=["plan"], k=3)
    bundle = shown._repr_mimebundle_()
    assert calls["personas"] == 1 and list(shown.view.resolved) == [
        "Personas", "Mix shift", "Predicted customer value"
    ]
    assert "Computed when opened" not in bundle["text/html"]
    assert "Silhouette by k" in bundle["text/html"]
    headline = bundle[segwork.widgets.explorer.HEADLINE_MIME]
    assert headline["figures"]["best_customers"].startswith("Best customers")


def test_big_downloads_are_prepared_on_a_click(
    data: segwork.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A download link holds its whole CSV (3 MB for the 52,000 members of the best segment at
    1M customers), sent to the browser with every change: above DOWNLOAD_INLINE_ROWS the page
    shows a button that makes the link when clicked.  Reports (to_html) keep the link."""
    import base64
    import re

    monkeypatch.setattr(segwork.widgets.view, "DOWNLOAD_INLINE_ROWS", 5)
    calls: list[Any] = []
    real = ws.segment_members
    monkeypatch.setattr(ws, "segment_members", lambda *a, **k: calls.append(a) or real(*a, **k))
    ex = SegmentExplorer(data, by=["plan"], k=3)
    # the members query waits for the click too; the button's count is the segment's customers
    deferred = ex.view.downloads["segment_members.csv"]
    assert isinstance(deferred, segwork.widgets.view.Deferred) and calls == []
    members = ex.downloads["segment_members.csv"]
    assert len(calls) == 1 and deferred.rows == len(members) > 5
    best = ex.result[ex.result["plan"] == members["plan"].iloc[0]]
    assert int(best["customers"].iloc[0]) == len(members)
    # the live page offers the file once, with the export control (issue 24): no download
    # widget of its own in the overview
    boxes = [
        w
        for w in ex._body.children
        if isinstance(w, widgets.HBox) and isinstance(w.children[0], widgets.Button)
    ]
    assert boxes == []
    # the export control: the best segment selected, its members prepared on a click
    assert ex.export_prepare.description == f"Prepare segment_members.csv ({len(members):,} rows)"
    assert ex.export_prepare.layout.display is None and ex.export_link.value == ""
    ex.export_prepare.click()
    pdt.assert_frame_equal(ex.export_frame, members)
    payload = re.search(r"base64,([^\"]+)", ex.export_link.value)
    assert payload and base64.b64decode(payload.group(1)).decode() == ex.export_frame.to_csv(
        index=False
    )
    assert ex.export_prepare.layout.display == "none"
    # two segments: the button's count is the sum of their customers, the rows their members
    ex.export_select.value = (0, 1)
    rows = int(ex.result["customers"].iloc[[0, 1]].sum())
    assert ex.export_prepare.description == f"Prepare segment_members.csv ({rows:,} rows)"
    assert len(ex.export_frame) == rows
    assert "Download segment_members.csv" in ex.to_html()
    # below the threshold the link is there at once
    monkeypatch.setattr(segwork.widgets.view, "DOWNLOAD_INLINE_ROWS", 10**9)
    ex.set(by=["billing_interval"])
    assert "Download segment_members.csv" in ex.export_link.value
    assert ex.export_prepare.layout.display == "none"


def test_members_of_large_data_wait_for_a_click(
    data: segwork.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On data of more than INLINE_QUERY_CUSTOMERS customers the members query reads the whole
    data (0.1-0.15 s at 1M): even a small download of members waits for a click, so a change of
    the page does not run it; the frame is the same."""
    calls: list[Any] = []
    real = ws.segment_members
    monkeypatch.setattr(ws, "segment_members", lambda *a, **k: calls.append(a) or real(*a, **k))
    small = SegmentExplorer(data, by=["plan"])  # the sample: its members come with the page
    assert len(calls) == 1 and "Download segment_members.csv" in small.export_link.value
    inline = small.downloads["segment_members.csv"]
    monkeypatch.setattr(ws, "INLINE_QUERY_CUSTOMERS", 10)
    calls.clear()
    big = SegmentExplorer(data, by=["plan"])
    assert calls == [] and big.export_link.value == ""
    deferred = big.view.downloads["segment_members.csv"]
    assert isinstance(deferred, segwork.widgets.view.Deferred) and not deferred.inline
    assert deferred.rows == len(inline) <= segwork.widgets.view.DOWNLOAD_INLINE_ROWS
    big.set(by=["billing_interval"])
    assert calls == [] and big.export_prepare.layout.display is None
    big.export_prepare.click()
    assert len(calls) == 1 and "Download segment_members.csv" in big.export_link.value
    pdt.assert_frame_equal(big.export_frame, small.set(by=["billing_interval"]).export_frame)


def test_pages_keep_date_independent_tables() -> None:
    """An explorer's engine keeps the tables serving every as_of (the quarters of all time;
    on DuckDB every customer's active months of all time as the bits of one integer, not every
    month's next active month); a change of date then reads them, and the page's
    numbers equal one-off calls on a fresh Dataset.  The Dataset itself holds no engine state."""
    page_data = segwork.load_sample()
    ex = SegmentExplorer(page_data, by=["plan"], as_of="2024-12-31")
    assert ex.engine.reuse_across_dates and ex.engine.serves_every_date
    keys = ex.engine.table_keys()
    assert any(isinstance(k, ActiveMonths) for k in keys)
    assert MonthlyMRRNext() not in keys
    assert not hasattr(page_data, "reuse_across_dates") and not hasattr(page_data, "cached")
    ex.set(as_of="2024-06-30")
    assert ex.error is None
    one_off = segwork.load_sample()
    pdt.assert_frame_equal(ex.result, segwork.segment_table(one_off, ["plan"], "2024-06-30"))
    co = CohortExplorer(page_data, period="quarter", by="plan", as_of="2024-12-31")
    co.set(as_of="2024-08-15")
    assert co.error is None and ActivityAll("quarter") in co.engine.table_keys()
    pdt.assert_frame_equal(
        co.result,
        segwork.cohort_retention(one_off, "2024-08-15", period="quarter", by="plan"),
    )


async def _until(condition: Any, timeout: float = 60.0) -> None:
    """Let the loop turn until ``condition()`` (a generous deadline for a busy machine)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the open sections were not drawn"
        await asyncio.sleep(0.005)


def test_on_a_kernel_loop_the_page_answers_first_and_open_sections_follow(
    data: segwork.Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a kernel (a running event loop) a change draws the main part and returns; each open
    section is computed on a later turn of the loop, for the view it belongs to only, with the
    same numbers as a page without a loop (a script, a report), which computes it with the
    change."""
    survival_title = "Median lifetime (months; — where not reached)"

    async def page() -> CohortExplorer:
        ex = CohortExplorer(data)
        ex.open_section("Survival")  # as the API or a cell does: drawn on the next turn
        assert ex.pending_sections == ("Survival",)
        assert SECTION_UPDATING in section_html(ex, "Survival")
        await _until(lambda: not ex.pending_sections)
        assert "Could not" not in section_html(ex, "Survival")

        ex.controls["by"].value = "plan"  # answered: the main part is by plan already
        first = ex.view
        assert ex.error is None and "plan" in ex.result.columns
        assert ex.pending_sections == ("Survival",) and "Survival" not in first.resolved
        assert SECTION_UPDATING in section_html(ex, "Survival")
        ex.controls["metric"].value = "nrr"  # a second change before the loop turns
        await _until(lambda: not ex.pending_sections)
        assert "Survival" not in first.resolved  # superseded: never computed
        assert "Survival" in ex.view.resolved

        # a section that fails after the answer says so in the section; the main part stands
        def broken(*args: object, **kwargs: object) -> object:
            raise OSError("the survival engine is down")

        monkeypatch.setattr(wc, "survival", broken)
        ex.controls["as_of"].value = segwork.widgets.explorer.dt.date(2024, 6, 30)
        await _until(lambda: not ex.pending_sections)
        assert ex.error is None and ex.state["as_of"] == "2024-06-30"
        assert "Could not compute Survival" in section_html(ex, "Survival")
        monkeypatch.setattr(wc, "survival", survival)
        ex.controls["as_of"].value = segwork.widgets.explorer.dt.date(2024, 12, 31)
        await _until(lambda: not ex.pending_sections)
        return ex

    ex = asyncio.run(page())
    without_loop = CohortExplorer(data, by="plan", metric="nrr")
    without_loop.open_section("Survival")
    assert section_html(ex, "Survival") == section_html(without_loop, "Survival")
    pdt.assert_frame_equal(
        ex.view.resolved["Survival"].tables[survival_title],
        without_loop.view.resolved["Survival"].tables[survival_title],
    )
