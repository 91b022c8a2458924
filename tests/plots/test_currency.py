"""The currency of the figures (docs/metrics.md "Currencies"): every money axis names it, ticks
and hovers carry its symbol, and the MRR bridge draws the FX adjustment so its bars still add up.

Rules checked (sections of docs/metrics.md, summarised):
- (C) "Currencies": every amount is in the base currency (``Dataset.currency``); it is stated on
  every figure axis that shows money.
- (B) "MRR movements": mrr_end = mrr_start + new + reactivation + expansion - contraction - churn
  + fx_adjustment (the bridge), exact in every month.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import segwork
from segwork.formatting import (
    currency_code,
    currency_prefix,
    money_axis,
    money_hover,
    money_text,
)
from segwork.plots.cohorts import FX_LABEL, cohort_heatmap, mrr_bridge
from segwork.plots.market import funnel_figure, segments_figure, tornado_figure
from segwork.plots.segments import ltv_chart
from tests.plots.test_cohorts import MOVEMENTS
from tests.plots.test_market import segments, totals


def test_symbols_codes_and_texts() -> None:
    assert [currency_prefix(c) for c in ("USD", "EUR", "GBP", "JPY", "chf", "")] == [
        "$", "€", "£", "¥", "CHF ", "$"
    ]
    assert currency_code(" gbp ") == "GBP" and currency_code(None) == "USD"
    assert money_axis("LTV", "GBP") == "LTV (GBP)"
    assert money_hover("customdata[1]", "EUR", ",.2f") == "€%{customdata[1]:,.2f}"
    assert money_text(1234.5, "JPY") == "¥1,234" and money_text(-50, "EUR") == "-€50"
    assert money_text(41_000, "GBP", short=True) == "£41k"
    assert money_text(2_500_000_000, "USD", short=True) == "$2.5B"
    assert money_text(999_999, "EUR", short=True) == "€1M"  # never "1e+03k"
    assert money_text(float("inf"), "EUR") == "—" and money_text(float("nan"), "EUR") == "—"


def test_market_figures_name_the_currency() -> None:
    fig = funnel_figure(totals(), currency="EUR")
    assert fig.layout.yaxis.title.text == "Annual value (EUR)" and fig.layout.yaxis.tickprefix == "€"
    hover = fig.data[0].hovertemplate
    assert "€%{y:,.0f}" in hover and "€%{customdata[2]:,.0f}" in hover and "$" not in hover
    # the default stays USD
    usd = funnel_figure(totals())
    assert usd.layout.yaxis.title.text == "Annual value (USD)" and usd.layout.yaxis.tickprefix == "$"
    seg = segments_figure(segments(), ["region", "industry"], currency="GBP")
    assert seg.layout.xaxis.title.text == "TAM (GBP a year)" and seg.layout.xaxis.tickprefix == "£"
    assert all("£%{x:,.0f}" in t.hovertemplate for t in seg.data)
    tornado = pd.DataFrame(
        {"assumption": ["share"], "low": [0.01], "mode": [0.05], "high": [0.1],
         "som_low": [1.0], "som_base": [5.0], "som_high": [10.0], "swing": [9.0]}
    )
    tor = tornado_figure(tornado, currency="CHF")
    assert tor.layout.xaxis.title.text == "SOM (CHF a year)"
    assert tor.layout.xaxis.tickprefix == "CHF " and "SOM CHF %{customdata[1]" in tor.data[0].hovertemplate


def test_ltv_chart_names_the_currency() -> None:
    table = pd.DataFrame(
        {"plan": ["a", "b"], "customers": [40, 50], "ltv": [41_000.0, np.nan],
         "ltv_low": [30_000.0, np.nan], "ltv_high": [52_000.0, np.nan],
         "small_segment": [False, False]}
    )
    table.attrs.update(gross_margin=0.8)
    fig = ltv_chart(table, currency="GBP")
    assert fig.layout.yaxis.title.text == "LTV (GBP)" and fig.layout.yaxis.tickprefix == "£"
    bar = fig.data[0]
    assert bar.text[0] == "£41k" and bar.text[1] == "undefined (no churn)"
    assert bar.hovertext[0] == "LTV £41k<br>95 % interval £30k – £52k"
    assert ltv_chart(table).layout.yaxis.title.text == "LTV (USD)"


def test_revenue_heatmap_names_the_currency() -> None:
    nrr = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-01", "2024-01-01"]), "age": [0, 1],
                        "mrr_base": [1000.0, 1000.0], "mrr_at_age": [1000.0, 1100.0],
                        "nrr": [1.0, 1.1]})
    fig = cohort_heatmap(nrr, value="count", currency="EUR")
    heat = fig.data[0]
    assert list(heat.y) == ["2024-01 (MRR €1,000)"]
    assert heat.colorbar.title.text == "MRR at age (EUR)" and heat.colorbar.tickprefix == "€"
    assert heat.customdata[0][1] == "MRR at age: €1,100<br>Base MRR: €1,000"
    assert heat.customdata[0][0] == "MRR at age: €1,000<br>Base MRR: €1,000"
    # a logo heat map counts customers: no currency anywhere
    logo = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-01"] * 2), "age": [0, 1],
                         "cohort_customers": [40, 40], "active_customers": [40, 30],
                         "retention": [1.0, 0.75]})
    heat = cohort_heatmap(logo, value="count", currency="EUR").data[0]
    assert heat.colorbar.title.text == "Active customers" and "€" not in heat.hovertemplate
    assert not any("€" in c for row in heat.customdata for c in row)


def _bars(fig: go.Figure) -> dict[str, list[float]]:
    return {t.name: list(t.y) for t in fig.data if isinstance(t, go.Bar)}


def test_mrr_bridge_draws_the_fx_adjustment_and_adds_up() -> None:
    mov = MOVEMENTS.copy()
    # February: the start MRR lost 7 to the rates; mrr_end 115 - 7 = 108 (B)
    mov.insert(list(mov.columns).index("mrr_end"), "fx_adjustment", [0.0, -7.0])
    mov["mrr_end"] = [100.0, 108.0]
    fig = mrr_bridge(mov, currency="EUR")
    bars = _bars(fig)
    assert list(bars) == ["New", "Reactivation", "Expansion", "Contraction", "Churn", FX_LABEL]
    assert bars[FX_LABEL] == [0.0, -7.0]
    assert [t.name for t in fig.data][-1] == "MRR at month end"  # the FX bar comes first
    total = np.sum([np.asarray(y) for y in bars.values()], axis=0)
    np.testing.assert_allclose(total, mov["mrr_end"] - mov["mrr_start"])  # (B)
    assert fig.layout.yaxis.title.text == "MRR movement (EUR)" and fig.layout.yaxis.tickprefix == "€"
    assert fig.layout.yaxis2.title.text == "MRR (EUR)" and fig.layout.yaxis2.tickprefix == "€"
    assert all("€" in h for t in fig.data for h in t.hovertext)
    # the sign before the currency: "-€7", "+€20", never "€-7"
    assert fig.data[5].hovertext[1] == "FX adjustment: -€7"
    assert fig.data[3].hovertext[1] == "Contraction: -€8" and fig.data[0].hovertext[1] == "New: +€20"
    # one currency (fx_adjustment 0 in every month) or no such column: no FX bar
    one = mov.assign(fx_adjustment=0.0, mrr_end=[100.0, 115.0])
    assert FX_LABEL not in _bars(mrr_bridge(one)) and FX_LABEL not in _bars(mrr_bridge(MOVEMENTS))
    assert mrr_bridge(MOVEMENTS).layout.yaxis.title.text == "MRR movement (USD)"


def test_mrr_bridge_of_converted_data_is_exact() -> None:
    """A customer in EUR and one in USD, in EUR: the rates move the start MRR every month."""
    frames = {
        "customers": pd.DataFrame(
            {"customer_id": [1, 2], "signup_date": ["2024-01-05", "2024-01-10"]}
        ),
        "subscriptions": pd.DataFrame(
            {"customer_id": [1, 2], "start_date": ["2024-01-05", "2024-01-10"],
             "end_date": [None, "2024-03-01"], "amount": [100.0, 50.0],
             "billing_interval": ["month", "month"], "currency": ["EUR", "USD"]}
        ),
        "fx": pd.DataFrame({"currency": ["USD"] * 3,
                            "month": ["2024-01-01", "2024-02-01", "2024-03-01"],
                            "rate": [0.9, 0.8, 1.0]}),
    }
    data = segwork.load(frames, base_currency="EUR")
    mov = segwork.mrr_movements(data, "2024-03-31")
    fig = mrr_bridge(mov, currency=data.currency)
    bars = _bars(fig)
    # the USD 50 revalued: February at 0.8 instead of 0.9; March at 1.0 (its churn too: 50)
    assert bars[FX_LABEL] == pytest.approx([0.0, 50 * (0.8 - 0.9), 50 * (1.0 - 0.8)])
    assert bars["Churn"] == pytest.approx([0.0, 0.0, -50.0])
    total = np.sum([np.asarray(y) for y in bars.values()], axis=0)
    np.testing.assert_allclose(total, mov["mrr_end"] - mov["mrr_start"], atol=1e-9)
    assert fig.layout.yaxis2.title.text == "MRR (EUR)"
