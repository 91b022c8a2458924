"""Issue 24: the figures read like a product.  Every figure the pages draw from the sample data
(subscription and shop pages, market sizing) is checked for what a stakeholder reads:

- (W) axis, legend and colour-bar titles and hover text in words: no ``_`` (a raw column name),
  titles starting with a capital, hover lines starting as words do;
- (C) money titles name the currency (docs/metrics.md "Currencies"), in any currency;
- (N) hover numbers formatted: no scientific / SI format, no unformatted fraction;
- (E) value labels never under an error bar: written beyond the interval's upper end;
- (H) the cohort heat map writes cell values only where cells hold 12 px text, is tall enough
  for its rows, and names cohorts as the tables do ("2022-01", "2022-Q1").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import segwork
from segwork.plots._style import LABEL_FONT_SIZE, money_ticks
from segwork.plots.clv import clv_distribution_figure, repeat_rate_chart, segment_clv_chart
from segwork.plots.cohorts import (
    HOVER_ROW_PX,
    TEXT_ROW_PX,
    cell_text_layout,
    cohort_heatmap,
    cohort_label,
    mrr_bridge,
)
from segwork.plots.market import assumption_value, funnel_figure, segments_figure, tornado_figure
from segwork.plots.segments import churn_chart, ltv_chart
from segwork.widgets.cohorts import CohortExplorer
from segwork.widgets.market import MarketExplorer
from segwork.widgets.segments import SegmentExplorer
from tests.plots.figure_rules import problems, titles
from tests.plots.test_cohorts import MOVEMENTS
from tests.plots.test_market import segments, totals


@pytest.fixture(scope="module")
def pages() -> dict[str, Any]:
    """The explorers of the pages on the bundled sample (and its shop-only part)."""
    data = segwork.load_sample()
    shop = segwork.load({n: data.to_pandas(n) for n in ("customers", "transactions")})
    out = {
        "cohort": CohortExplorer(data),
        "cohort_quarter": CohortExplorer(data, period="quarter"),
        "segments": SegmentExplorer(data, by=["plan"]),
        "market": MarketExplorer(data),
        "shop": SegmentExplorer(shop, as_of="2024-12-31"),
    }
    for name, ex in out.items():
        assert ex.error is None, (name, ex.error)
    return out


@pytest.fixture(scope="module")
def figures(pages: dict[str, Any]) -> dict[str, go.Figure]:
    """Every figure of every page (their sections included), by "page:figure"."""
    return {f"{page}:{k}": f for page, ex in pages.items() for k, f in ex.figures.items()}


def test_every_page_figure_reads_in_words(figures: dict[str, go.Figure]) -> None:  # (W) (N)
    # every figure function of segwork.plots is on a page
    assert {"cohort:heatmap", "cohort:curves", "cohort:projection", "cohort:mrr_movements",
            "cohort:mrr_rates", "cohort:survival", "segments:share", "segments:churn",
            "segments:ltv", "segments:personas", "segments:mix", "segments:clv_distribution",
            "segments:calibration", "market:funnel", "market:segments", "market:tornado",
            "market:penetration", "shop:share", "shop:repeat", "shop:clv_distribution",
            } <= set(figures)  # fmt: skip
    found = [f"{name}: {p}" for name, fig in figures.items() for p in problems(fig, "USD")]
    assert not found, "\n".join(found)
    # the money titles of the pages name the sample's currency (C)
    money = [t for fig in figures.values() for _, t in titles(fig) if "(USD" in t]
    assert {"MRR (USD)", "LTV (USD)", "Annual value (USD)", "MRR movement (USD)"} <= set(money)


def _eur_figures() -> dict[str, go.Figure]:
    table = pd.DataFrame(
        {"plan": ["a", "b"], "customers": [40, 50], "ltv": [41_000.0, np.nan],
         "ltv_low": [30_000.0, np.nan], "ltv_high": [52_000.0, np.nan],
         "small_segment": [False, False]}
    )
    clv = pd.DataFrame({"country": ["DE", "FR"], "customers": [50, 8], "mean_clv": [120.0, 80.0],
                        "total_clv": [6000.0, 640.0], "mean_p_alive": [0.8, 0.4],
                        "small_segment": [False, True]})
    clv.attrs.update(horizon_months=12, gross_margin=1.0, discount_rate=0.01)
    nrr = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-01"] * 2), "age": [0, 1],
                        "mrr_base": [1000.0, 1000.0], "mrr_at_age": [1000.0, 1100.0],
                        "nrr": [1.0, 1.1]})
    tornado = pd.DataFrame(
        {"assumption": ["acv", "share"], "low": [500.0, 0.04], "mode": [1000.0, 0.05],
         "high": [2_000_000.0, 0.06], "som_low": [27_500.0, 44_000.0],
         "som_base": [55_000.0, 55_000.0], "som_high": [110_000.0, 66_000.0],
         "swing": [82_500.0, 22_000.0]}
    )
    rng = np.random.default_rng(1)
    return {
        "ltv": ltv_chart(table, currency="EUR"),
        "segment_clv": segment_clv_chart(clv, currency="EUR"),
        "clv_distribution": clv_distribution_figure(
            pd.DataFrame({"clv": rng.gamma(2, 300, 500), "p_alive": rng.uniform(size=500)}),
            currency="EUR",
        ),
        "heatmap_nrr": cohort_heatmap(nrr, currency="EUR"),
        "heatmap_mrr": cohort_heatmap(nrr, value="count", currency="EUR"),
        "bridge": mrr_bridge(MOVEMENTS, currency="EUR"),
        "funnel": funnel_figure(totals(), currency="EUR"),
        "segments": segments_figure(segments(), ["region", "industry"], currency="EUR"),
        "tornado": tornado_figure(tornado, currency="EUR"),
    }


def test_money_titles_name_any_currency() -> None:  # (C) (W) (N)
    figs = _eur_figures()
    found = [f"{name}: {p}" for name, fig in figs.items() for p in problems(fig, "EUR")]
    assert not found, "\n".join(found)
    for name in ("ltv", "segment_clv", "clv_distribution", "heatmap_mrr", "bridge", "funnel",
                 "segments", "tornado"):
        assert any("EUR" in t for _, t in titles(figs[name])), name
        assert not any("USD" in t for _, t in titles(figs[name])), name
    hist = figs["clv_distribution"].data[0]
    assert hist.hovertext[0].startswith("Predicted CLV €")
    # the bridge's ticks put the sign before the currency
    assert "-€" in "".join(figs["bridge"].layout.yaxis.ticktext)
    # a tornado value of 2,000,000 reads as an amount, never 2e+06
    high = figs["tornado"].data[1]
    assert "€2,000,000" in high.hovertext[-1] and "e+" not in "".join(high.hovertext)


def _bars_with_intervals(fig: go.Figure) -> list[go.Bar]:
    return [
        t for t in fig.data
        if isinstance(t, go.Bar) and t.error_y is not None and t.error_y.array is not None
    ]


def _check_labels_clear_of_intervals(fig: go.Figure) -> None:
    """(E) every bar with an error bar: no text drawn on it, its value in an annotation whose
    bottom is above the whisker's top (a few px higher)."""
    bars = _bars_with_intervals(fig)
    assert bars
    labels = [a for a in fig.layout.annotations if a.name == "value label"]
    for bar in bars:
        assert bar.textposition == "none" or bar.text is None
        y = np.asarray(bar.y, dtype=float)
        top = y + np.nan_to_num(np.asarray(bar.error_y.array, dtype=float))
        mine = [a for a in labels if a.x in set(bar.x)]
        assert len(mine) == len(y)
        for a, x, t, text in zip(mine, bar.x, top, bar.text or [None] * len(y), strict=True):
            assert a.x == x and a.yanchor == "bottom" and a.yshift > 0
            assert a.font.size >= 10
            value = y[list(bar.x).index(x)]
            want = t if np.isfinite(t) else 0.0  # an undefined value: its label at the base
            assert a.y == pytest.approx(want)
            assert not np.isfinite(value) or a.y >= value  # never below the bar's top
            if text is not None:
                assert a.text == text


def test_value_labels_are_clear_of_error_bars(figures: dict[str, go.Figure]) -> None:  # (E)
    for name in ("segments:churn", "segments:ltv", "shop:repeat", "market:funnel"):
        _check_labels_clear_of_intervals(figures[name])
    # no page figure draws text on a bar that has an error bar
    for name, fig in figures.items():
        for bar in _bars_with_intervals(fig):
            assert bar.textposition == "none" or bar.text is None, name


def test_value_labels_on_hand_made_tables() -> None:  # (E)
    t = pd.DataFrame(
        {"plan": ["enterprise", "pro", "starter"], "customers": [100, 300, 12],
         "churn_rate": [0.01, 0.03, 0.0], "churn_rate_low": [0.005, 0.024, 0.0],
         "churn_rate_high": [0.018, 0.037, 0.037], "ltv": [80_000.0, 8_000.0, np.nan],
         "ltv_low": [44_444.4, 6_486.5, 2_162.2], "ltv_high": [160_000.0, np.nan, np.nan],
         "repeat_rate": [0.5, 0.2, 0.9], "repeat_rate_low": [0.4, 0.1, 0.6],
         "repeat_rate_high": [0.6, 0.3, 0.99], "small_segment": [False, False, True]}
    )
    t.attrs.update(gross_margin=0.8, confidence=0.95)
    churn = churn_chart(t)
    _check_labels_clear_of_intervals(churn)
    assert [a.text for a in churn.layout.annotations] == ["1.0 %", "3.0 %", "0.00 %"]
    assert [a.y for a in churn.layout.annotations] == pytest.approx([0.018, 0.037, 0.037])
    ltv = ltv_chart(t)
    _check_labels_clear_of_intervals(ltv)
    # no upper bound: the label on the bar's top; undefined LTV: at the base
    assert [a.y for a in ltv.layout.annotations] == pytest.approx([160_000.0, 8_000.0, 0.0])
    assert ltv.layout.annotations[2].text == "undefined (no churn)"
    _check_labels_clear_of_intervals(repeat_rate_chart(t))
    funnel = funnel_figure(totals())
    _check_labels_clear_of_intervals(funnel)
    assert [a.text for a in funnel.layout.annotations] == ["$105", "$62", "$3"]


def test_heatmap_text_only_where_cells_hold_it(pages: dict[str, Any]) -> None:  # (H)
    monthly = pages["cohort"].figures["heatmap"]
    heat = monthly.data[0]
    rows = len(heat.y)
    assert rows > 30 and heat.texttemplate == ""  # 36 monthly ages: hover only
    assert monthly.layout.height >= 140 + HOVER_ROW_PX * rows  # every row label readable
    assert "%{customdata}" in heat.hovertemplate and "Logo retention: %{z:.1%}" in heat.hovertemplate
    quarterly = pages["cohort_quarter"].figures["heatmap"]
    heat = quarterly.data[0]
    assert heat.texttemplate == "%{text}" and heat.textfont.size == LABEL_FONT_SIZE >= 10
    # each row TEXT_ROW_PX high: 12 px text fits in the plot area left by the margins
    assert quarterly.layout.height >= 140 + TEXT_ROW_PX * len(heat.y)
    assert (quarterly.layout.height - 140) / len(heat.y) >= LABEL_FONT_SIZE + 8


def test_cell_text_layout() -> None:  # (H)
    assert cell_text_layout(12, 12, 4) == (True, 428)
    assert cell_text_layout(36, 36, 4) == (False, 140 + HOVER_ROW_PX * 36)
    # long values (revenue counts) need wider cells: hidden at fewer columns than percentages
    assert cell_text_layout(12, 12, 4)[0] and not cell_text_layout(12, 12, 11)[0]
    # long row labels (segment · cohort) leave less room for the cells
    assert cell_text_layout(12, 16, 4, 17)[0] and not cell_text_layout(12, 16, 4, 60)[0]
    # a very tall map is capped: rows then get less than the text needs, so no text
    show, height = cell_text_layout(200, 4, 4)
    assert not show and height <= 2400


def test_heatmap_cohort_names_match_the_tables(pages: dict[str, Any]) -> None:  # (H)
    for page in ("cohort", "cohort_quarter"):
        ex = pages[page]
        heat = ex.figures["heatmap"].data[0]
        shown = set(ex.shown(ex.result)["cohort"])
        rows = {str(y).split(" (")[0] for y in heat.y if "Weighted average" not in str(y)}
        assert rows == shown, page
    assert "2022-01" in {str(y).split(" (")[0] for y in pages["cohort"].figures["heatmap"].data[0].y}
    # every period the heat map supports names its cohorts as cohort_label does
    for period, first in (("week", "2024-01-08"), ("month", "2024-01"), ("quarter", "2024-Q1"),
                          ("year", "2024")):
        long = pd.DataFrame({"cohort": [pd.Timestamp("2024-01-08")] * 2, "age": [0, 1],
                             "cohort_customers": [40, 40], "active_customers": [40, 30],
                             "retention": [1.0, 0.75]})
        y = cohort_heatmap(long, period=period).data[0].y
        assert y[0].startswith(cohort_label(long["cohort"][0], period) + " ")
        assert y[0].startswith(first + " ")
        fig = cohort_heatmap(long, period=period)
        assert f"{period}s since the cohort {period}" in fig.layout.xaxis.title.text


def test_helpers() -> None:  # (N)
    assert money_ticks(-48_000, 99_000, "EUR")["ticktext"] == ["-€50k", "€0", "€50k", "€100k"]
    assert assumption_value("growth", 0.12, "USD") == "12.0 %"
    assert assumption_value("top_down", 2.5e9, "GBP") == "£2,500,000,000"
