"""The pages state the base currency (docs/metrics.md "Currencies"): in their note, the headings of
the tables that hold amounts, every money axis, the headline; the MRR movements show the FX
adjustment.

Rules checked (sections of docs/metrics.md, summarised):
- (C) "Currencies": every amount is in the base currency (``Dataset.currency``): the data's one
  currency when it has one (no fx table needed), else the ``base_currency`` amounts are converted
  to; it is stated on every page, table caption, figure axis and report.
- (B) "MRR movements": mrr_end = mrr_start + new + reactivation + expansion - contraction - churn
  + fx_adjustment, exact in every month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import segwork
from segwork.headline import HEADLINE_MIME
from segwork.paths import SAMPLE_DIR
from segwork.plots.cohorts import FX_LABEL
from segwork.widgets import CohortExplorer, MarketExplorer, SegmentExplorer
from segwork.widgets.cohorts import MOVEMENTS_TABLE
from segwork.widgets.tables import format_frame

AS_OF = "2024-12-31"


@pytest.fixture(scope="module")
def gbp() -> segwork.Dataset:
    """The sample with its subscriptions in GBP: one currency, so no fx table (C)."""
    frames = {p.stem: pd.read_csv(p) for p in sorted(SAMPLE_DIR.glob("*.csv"))}
    frames["subscriptions"]["currency"] = "GBP"
    data = segwork.load(frames)
    assert data.currency == "GBP" and not data.currencies.converts
    return data


def fx_frames() -> dict[str, pd.DataFrame]:
    """EUR 100 (open) and EUR 10 from April; USD 50 January-February and USD 80 from February;
    the fx table gives EUR per USD."""
    return {
        "customers": pd.DataFrame(
            {"customer_id": [1, 2, 3, 4],
             "signup_date": ["2024-01-05", "2024-01-10", "2024-02-03", "2024-04-02"]}
        ),
        "subscriptions": pd.DataFrame(
            {"customer_id": [1, 2, 3, 4],
             "start_date": ["2024-01-05", "2024-01-10", "2024-02-03", "2024-04-02"],
             "end_date": [None, "2024-03-01", None, None],
             "amount": [100.0, 50.0, 80.0, 10.0],
             "billing_interval": ["month"] * 4,
             "currency": ["EUR", "USD", "USD", "EUR"]}
        ),
        "fx": pd.DataFrame(
            {"currency": ["USD"] * 4,
             "month": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"],
             "rate": [0.9, 0.8, 1.0, 0.95]}
        ),
    }


def test_cohort_page_in_gbp(gbp: segwork.Dataset) -> None:
    ex = CohortExplorer(gbp, metric="nrr", value="count")
    assert ex.error is None
    assert ex.texts["set_aside"].startswith("Amounts in GBP.")  # the page's note (C)
    heat = ex.figures["heatmap"].data[0]
    assert heat.colorbar.title.text == "MRR at age (GBP)" and heat.colorbar.tickprefix == "£"
    bridge = ex.figures["mrr_movements"]
    assert bridge.layout.title.text == "MRR movements (monthly bridge, GBP)"
    assert bridge.layout.yaxis.title.text == "MRR movement (GBP)"
    assert bridge.layout.yaxis2.title.text == "MRR (GBP)" and bridge.layout.yaxis.tickprefix == "£"
    # one currency: the movements table has fx_adjustment, 0 every month; no FX bar
    movements = ex.tables[MOVEMENTS_TABLE]
    pd.testing.assert_frame_equal(movements, segwork.mrr_movements(gbp, AS_OF))
    assert "fx_adjustment" in movements.columns and (movements["fx_adjustment"] == 0).all()
    assert FX_LABEL not in [t.name for t in bridge.data]
    html = ex.to_html()
    for text in ("Amounts in GBP.", "Cohort table <small>· amounts in GBP</small>",
                 f"{MOVEMENTS_TABLE} <small>· amounts in GBP</small>",
                 "Weighted average by age (pooled over cohorts) <small>· amounts in GBP"):
        assert text in html, text
    assert "USD" not in html
    # logo retention shows no amounts in its tables: their headings name no currency
    logo = CohortExplorer(gbp).to_html(sections="computed")
    assert "<h3>Cohort table</h3>" in logo and "Amounts in GBP." in logo


def test_segment_page_in_gbp(gbp: segwork.Dataset) -> None:
    ex = SegmentExplorer(gbp, by=["plan"], k=3)
    ltv = ex.figures["ltv"]
    assert ltv.layout.yaxis.title.text == "LTV (GBP)" and ltv.layout.yaxis.tickprefix == "£"
    assert all(t.startswith("£") for t in ltv.data[0].text if t != "undefined (no churn)")
    best = ex.texts["best"]
    assert "LTV £" in best and "$" not in best
    html = ex.to_html()
    assert "Segment table (ordered by LTV) <small>· amounts in GBP</small>" in html
    assert "Personas <small>· amounts in GBP</small>" in html  # median ARPA, MRR
    assert "<h3>Silhouette by k</h3>" in html  # no amounts
    assert "Amounts in GBP." in html
    # the headline (report metrics.json) says the currency of its amounts
    head = ex._repr_mimebundle_()[HEADLINE_MIME]
    assert head["currency"] == "GBP" and head["figures"]["mrr"] > 0


def test_market_page_in_gbp(gbp: segwork.Dataset) -> None:
    ex = MarketExplorer(gbp, n_draws=200, top_down=2.5e10)
    figs = ex.figures
    assert figs["funnel"].layout.yaxis.title.text == "Annual value (GBP)"
    assert figs["funnel"].layout.yaxis.tickprefix == "£"
    assert figs["segments"].layout.xaxis.title.text == "TAM (GBP a year)"
    assert figs["tornado"].layout.xaxis.title.text == "SOM (GBP a year)"
    assert ex.controls["top_down"].description == "Top-down total (GBP a year)"
    html = ex.to_html()
    for title in ("Market segments", "TAM / SAM / SOM", "Top-down vs bottom-up",
                  "What moves SOM (tornado)", "Penetration by segment"):
        assert f"{title} <small>· amounts in GBP</small>" in html, title
    assert "Amounts in GBP." in html
    # the sentences of market sizing, penetration and the ICP are in pounds too, never dollars
    for key, text in ex.texts.items():
        assert "$" not in text, (key, text)
    assert "TAM £" in html and "Current ARR £" in html


def test_data_without_currency_is_in_usd() -> None:
    sample = segwork.load_sample()
    ex = CohortExplorer(sample)
    assert ex.texts["set_aside"].startswith("Amounts in USD.")
    assert ex.figures["mrr_movements"].layout.yaxis2.title.text == "MRR (USD)"


def test_movements_of_converted_data_show_the_fx_adjustment() -> None:
    data = segwork.load(fx_frames(), base_currency="EUR")
    assert data.currency == "EUR" and data.currencies.converts
    ex = CohortExplorer(data, as_of="2024-04-30")
    assert ex.error is None and ex.texts["set_aside"] == "Amounts in EUR."
    view = ex.view.section("MRR movements")
    movements = view.tables[MOVEMENTS_TABLE]
    pd.testing.assert_frame_equal(movements, segwork.mrr_movements(data, "2024-04-30"))
    # the start MRR's USD revalued each month: 50 x (0.8 - 0.9) in February, (50 + 80) x
    # (1.0 - 0.8) in March (the USD 50 churns then, at March's rate), 80 x (0.95 - 1.0) in April
    assert movements["fx_adjustment"].tolist() == pytest.approx([0.0, -5.0, 26.0, -4.0])
    assert format_frame(movements)["fx_adjustment"].tolist() == ["0.00", "-5.00", "26.00", "-4.00"]
    bridge = view.figures["mrr_movements"]
    bars = {t.name: np.asarray(t.y) for t in bridge.data if isinstance(t, go.Bar)}
    assert list(bars)[-1] == FX_LABEL and bars[FX_LABEL].tolist() == pytest.approx(
        [0.0, -5.0, 26.0, -4.0]
    )
    total = np.sum(list(bars.values()), axis=0)
    np.testing.assert_allclose(total, movements["mrr_end"] - movements["mrr_start"], atol=1e-9)
    assert bridge.layout.yaxis.title.text == "MRR movement (EUR)"
    html = ex.to_html(sections="computed")  # the section was computed above
    assert f"{MOVEMENTS_TABLE} <small>· amounts in EUR</small>" in html
    assert 'data-column="fx_adjustment"' in html and ">FX adjustment (EUR)</th>" in html
