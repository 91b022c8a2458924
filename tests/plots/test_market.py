"""Tests of the market sizing figures: traces present, values taken from the input frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from segwork.market import market_size, sensitivity
from segwork.plots.market import (
    funnel_figure,
    penetration_figure,
    segments_figure,
    tornado_figure,
)


def totals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "measure": ["TAM", "SAM", "SOM"],
            "point": [100.0, 60.0, 3.0],
            "mean": [110.0, 65.0, 3.3],
            "p10": [80.0, 50.0, 2.0],
            "p50": [105.0, 62.0, 3.1],
            "p90": [150.0, 90.0, 5.0],
        }
    )


def test_funnel_bars_and_error_bars() -> None:
    fig = funnel_figure(totals())
    assert isinstance(fig, go.Figure) and len(fig.data) == 1
    bar = fig.data[0]
    assert list(bar.x) == ["TAM", "SAM", "SOM"]
    assert list(bar.y) == [105.0, 62.0, 3.1]  # P50
    assert list(bar.error_y.array) == pytest.approx([45.0, 28.0, 1.9])  # p90 - p50
    assert list(bar.error_y.arrayminus) == pytest.approx([25.0, 12.0, 1.1])  # p50 - p10
    assert np.asarray(bar.customdata)[:, 0].tolist() == [100.0, 60.0, 3.0]  # point
    assert fig.layout.title.text == "TAM, SAM and SOM"


def segments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["EU", "US", "APAC"],
            "industry": ["sw", "sw", "retail"],
            "tam": [300.0, 500.0, 100.0],
            "serviceable": [True, True, False],
            "sam": [300.0, 500.0, 0.0],
            "som": [15.0, 25.0, 0.0],
            "tam_p10": [200.0, 400.0, 50.0],
            "tam_p90": [400.0, 700.0, 150.0],
        }
    )


def test_segments_figure() -> None:
    fig = segments_figure(segments(), ["region", "industry"], top=2)
    # top 2 by TAM: US / sw (500), EU / sw (300); both serviceable -> one trace
    assert [t.name for t in fig.data] == ["Serviceable"]
    bar = fig.data[0]
    assert list(bar.y) == ["EU / sw", "US / sw"]  # largest drawn on top (last)
    assert list(bar.x) == [300.0, 500.0]
    assert list(bar.error_x.array) == [100.0, 200.0]
    fig = segments_figure(segments(), ["region", "industry"])
    assert [t.name for t in fig.data] == ["Serviceable", "Not serviceable"]
    assert list(fig.data[1].x) == [100.0]
    fig = segments_figure(segments(), ["region"], measure="som")
    assert sorted(fig.data[0].x) == [15.0, 25.0]
    with pytest.raises(ValueError, match="measure must be one of"):
        segments_figure(segments(), ["region"], measure="arr")
    assert segments_figure(segments().iloc[:0], ["region"]).layout.annotations


def test_tornado_figure() -> None:
    t = pd.DataFrame(
        {
            "assumption": ["acv", "share"],
            "low": [500.0, 0.04],
            "mode": [1000.0, 0.05],
            "high": [2000.0, 0.06],
            "som_low": [27_500.0, 44_000.0],
            "som_base": [55_000.0, 55_000.0],
            "som_high": [110_000.0, 66_000.0],
            "swing": [82_500.0, 22_000.0],
        }
    )
    fig = tornado_figure(t)
    low, high = fig.data
    assert (low.name, high.name) == ("Assumption at its low", "Assumption at its high")
    # the largest swing drawn on top; assumptions in words, their values as shares / amounts
    assert list(low.y) == ["Obtainable market share", "ACV (annual contract value)"]
    assert list(low.hovertext) == ["Obtainable market share at its low (4.0 %)",
                                   "ACV (annual contract value) at its low ($500)"]
    assert "e+" not in "".join(high.hovertext)
    assert list(low.base) == [55_000.0, 55_000.0]
    assert list(low.x) == [-11_000.0, -27_500.0]  # som_low - som_base
    assert list(high.x) == [11_000.0, 55_000.0]  # som_high - som_base
    assert fig.layout.shapes[0].x0 == 55_000.0  # the base line
    empty = tornado_figure(t.iloc[:0])
    assert "No assumption is a range" in empty.layout.annotations[0].text


def test_penetration_figure() -> None:
    seg = pd.DataFrame(
        {
            "industry": ["a", "b", "c", "d"],
            "accounts": [100, 20, 50, 0],
            "customers": [1, 1, 1, 0],
            "penetration": [0.01, 0.05, 0.02, np.nan],
        }
    )
    fig = penetration_figure(seg, ["industry"])
    bar = fig.data[0]
    assert list(bar.y) == ["a", "c", "b"]  # NaN left out, highest on top
    assert list(bar.x) == [0.01, 0.02, 0.05]
    assert np.asarray(bar.customdata)[:, 1].tolist() == [100.0, 50.0, 20.0]
    assert penetration_figure(seg.iloc[3:], ["industry"]).layout.annotations


def test_figures_from_real_results() -> None:
    market = pd.DataFrame(
        {"region": ["EU", "US"], "accounts": [10, 20], "acv_low": [5.0, 5.0],
         "acv_mode": [10.0, 10.0], "acv_high": [20.0, 20.0]}
    )  # fmt: skip
    m = market_size(market, n_draws=200, serviceable={"region": "EU"})
    fig = funnel_figure(m.totals)
    assert list(fig.data[0].y) == m.totals["p50"].tolist()
    assert segments_figure(m.segments, m.criteria).data
    t = sensitivity(market)
    assert tornado_figure(t).data[0].y == ("ACV (annual contract value)",)
