"""The parts of a page a stakeholder meets first (issue 24, App): the title once, KPI cards with
their change, tabs, long tables behind a click, cohort labels, the implied lifetime beside LTV
and the "Download PDF" control."""

from __future__ import annotations

import math
import shutil

import ipywidgets as widgets
import pandas as pd
import pytest

import segwork
from segwork.headline import Kpi, kpi_cards_html, kpis_of, previous_period
from segwork.metrics.segments import segment_table
from segwork.plots.cohorts import MAX_LABELLED_AGES
from segwork.sentences import (
    LTV_HORIZON_YEARS,
    implied_lifetime_months,
    lifetime_columns,
    lifetime_text,
    ltv_flagged,
)
from segwork.widgets import CohortExplorer, MarketExplorer, SegmentExplorer

AS_OF = "2024-12-31"


@pytest.fixture(scope="module")
def data() -> segwork.Dataset:
    return segwork.load_sample()


def test_live_page_has_no_title_of_its_own(data: segwork.Dataset) -> None:
    """The notebook's "# Title" cell is the page's title; the static page keeps it (a report or
    a PDF stands alone, and the report drops the notebook's repeat)."""
    ex = CohortExplorer(data)
    header = ex.widget.children[0].value
    assert "<h2" not in header and ex.title not in header and ex.description not in header
    static = ex.to_html(sections="computed")
    assert f"<h2>{ex.title}</h2>" in static and ex.description in static


def test_kpi_cards_with_their_change(data: segwork.Dataset) -> None:
    ex = SegmentExplorer(data, by=["plan"], k=3)
    cards = ex.kpis(ex.state)
    assert [k.label for k in cards] == ["MRR", "Paying customers", "Logo churn (monthly)", "NRR (12 months)"]
    now = segment_table(data, None, AS_OF).iloc[0]
    before = segment_table(data, None, "2024-11-30").iloc[0]
    mrr = cards[0]
    assert mrr.value == pytest.approx(now["mrr"]) and mrr.previous == pytest.approx(before["mrr"])
    assert cards[1].change_text("USD") == f"{int(now['active_customers'] - before['active_customers']):+,}"
    html = ex.widget.children[4].value  # the cards come before the tabs
    assert ex.widget.children[5] is ex._tabs
    assert 'data-kpi="nrr_12m"' in html and "vs 2024-11-30" in html
    assert html in ex.to_html(sections="computed")
    assert MarketExplorer(data).kpis({"as_of": AS_OF}) == []


def test_kpi_texts_and_periods() -> None:
    assert previous_period("2024-12-31") == "2024-11-30"
    assert previous_period("2024-03-31") == "2024-02-29"
    churn = Kpi("churn_rate", "Logo churn", "rate", 0.022, 0.026)
    assert churn.change_text("USD") == "-0.4 pp" and churn.tone() == "up"  # lower churn: better
    mrr = Kpi("mrr", "MRR", "money", 90.0, 100.0)
    assert mrr.change_text("EUR") == "-10.0 % (-€10)" and mrr.tone() == "down"
    assert Kpi("mrr", "MRR", "money", 90.0).change_text("USD") == ""
    cards = kpis_of("transactions", {"revenue": 1e6, "buyers": 10, "total_clv": math.nan}, None)
    assert [k.value_text("USD") for k in cards] == ["$1M", "10", "—"]
    assert kpi_cards_html([], "USD") == ""


def test_shop_kpis_and_result_heading(data: segwork.Dataset) -> None:
    shop = segwork.load({n: data.to_pandas(n) for n in ("customers", "transactions")})
    ex = SegmentExplorer(shop, by=["rfm_segment"])
    # the sample's order values do not fit the value model: no CLV to order by
    heading = "Segment table (no predicted CLV: in the order of the segments)"
    assert ex.result_heading() == heading and heading in ex.to_html(sections="computed")
    labels = [k.label for k in ex.kpis(ex.state)]
    assert labels == ["Revenue (12 months)", "Buyers (12 months)", "Predicted CLV (next 12 months)"]
    assert SegmentExplorer(data, by=["plan"], k=3).result_heading() == "Segment table (ordered by LTV)"


def test_long_tables_behind_a_click_and_charts_first(data: segwork.Dataset) -> None:
    ex = MarketExplorer(data)
    assert len(ex.result) > ex.long_table_rows
    kinds = [type(w).__name__ for w in ex._body.children]
    first_table = next(i for i, w in enumerate(ex._body.children) if isinstance(w, widgets.VBox))
    assert kinds.index("Output") < first_table  # a chart before the long table
    box = ex._body.children[first_table]
    shown, (button, note) = box.children[0], box.children[1].children
    assert shown.value.count("<tr") <= ex.long_table_rows + 2  # header rows and the first rows
    assert button.description == f"Show all {len(ex.result):,} rows" and "Download" in note.value
    button.click()
    assert shown.value.count("<tr") >= len(ex.result) and button.layout.display == "none"


def test_cohort_labels_and_heat_map_text(data: segwork.Dataset) -> None:
    ex = CohortExplorer(data)
    shown = ex.shown(ex.result)
    assert shown["cohort"].iloc[0] == "2022-01" and ex.result["cohort"].dtype.kind == "M"
    html = ex.to_html(sections="computed")
    assert "2022-01-01" not in html and "2022-01" in html
    heat = ex.figures["heatmap"].data[0]
    assert len(heat.x) > MAX_LABELLED_AGES and heat.texttemplate == ""  # monthly: hover only
    assert heat.hovertemplate
    yearly = CohortExplorer(data, period="quarter").figures["heatmap"].data[0]
    assert len(yearly.x) <= MAX_LABELLED_AGES and yearly.texttemplate == "%{text}"


def test_implied_lifetime_flags_ltv(data: segwork.Dataset) -> None:
    """docs/metrics.md "LTV": the implied lifetime 1 / churn beside LTV, flagged past 10 years."""
    assert LTV_HORIZON_YEARS == 10
    assert implied_lifetime_months(0.025) == pytest.approx(40.0)
    assert math.isinf(implied_lifetime_months(0.0)) and math.isnan(implied_lifetime_months(None))
    # Enterprise annual, $3.8k a month and LTV $1.7M: 0.22 %/month churn is 37.9 years
    assert ltv_flagged(1 / (37.9 * 12)) and not ltv_flagged(1 / 120)
    assert lifetime_text(1 / (37.9 * 12)) == "38 years, beyond the 10-year horizon: LTV flagged"
    assert lifetime_text(0.05) == "20 months" and lifetime_text(0.02) == "4.2 years"
    ex = SegmentExplorer(data, by=["plan", "billing_interval"], k=3)
    shown = lifetime_columns(ex.result)
    cols = list(shown.columns)
    assert cols[cols.index("ltv_high") + 1 : cols.index("ltv_high") + 3] == [
        "implied_lifetime_years",
        "ltv_flag",
    ]
    want = 1 / ex.result["churn_rate"] / 12
    pd.testing.assert_series_equal(
        shown["implied_lifetime_years"], want, check_names=False, check_exact=False
    )
    assert (shown["ltv_flag"] != "").tolist() == (want > 10).tolist()
    assert "implied_lifetime_years" not in ex.result.columns  # the API's table is unchanged
    assert "implied lifetime" in ex.texts["best"]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_download_pdf_control_makes_a_pdf(data: segwork.Dataset) -> None:
    pytest.importorskip("playwright.sync_api")
    ex = CohortExplorer(data)
    pdf = ex.prepare_pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000, ex.pdf_link.value
    assert 'download="Cohort retention 2024-12-31.pdf"' in ex.pdf_link.value
