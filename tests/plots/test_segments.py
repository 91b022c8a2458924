"""Tests of the segmentation figures: traces present, values taken from the input frames,
small segments flagged wherever shown (docs/metrics.md "Small segments"), the gross margin stated
on the LTV chart (docs/metrics.md "LTV": stated wherever LTV is shown).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from segwork.plots.segments import (
    SMALL_COLOUR,
    churn_chart,
    ltv_chart,
    mix_shift_chart,
    persona_chart,
    segment_by_columns,
    segment_labels,
    share_chart,
)


@pytest.fixture
def table() -> pd.DataFrame:
    """A segment table as segment_table returns it (3 segments, the last one small)."""
    t = pd.DataFrame(
        {
            "plan": ["enterprise", "pro", "starter"],
            "billing_interval": ["annual", "monthly", None],
            "customers": [100, 300, 12],
            "customers_share": [100 / 412, 300 / 412, 12 / 412],
            "active_customers": [90, 250, 10],
            "mrr": [90_000.0, 75_000.0, 1_000.0],
            "mrr_share": [90 / 166, 75 / 166, 1 / 166],
            "arpa": [1000.0, 300.0, 100.0],
            "at_risk_customer_months": [1000, 3000, 100],
            "churned_customer_months": [10, 90, 0],
            "churn_rate": [0.01, 0.03, 0.0],
            "churn_rate_low": [0.005, 0.024, 0.0],
            "churn_rate_high": [0.018, 0.037, 0.037],
            "nrr_12m": [1.05, 0.9, np.nan],
            "ltv": [80_000.0, 8_000.0, np.nan],
            "ltv_low": [44_444.4, 6_486.5, 2_162.2],
            "ltv_high": [160_000.0, 10_000.0, np.nan],
            "small_segment": [False, False, True],
        }
    )
    t.attrs.update({"gross_margin": 0.8, "min_customers": 30, "confidence": 0.95,
                    "window_months": 12})
    return t


def test_labels(table: pd.DataFrame) -> None:
    assert segment_by_columns(table) == ["plan", "billing_interval"]
    assert segment_labels(table) == ["enterprise · annual", "pro · monthly",
                                     "starter · (missing) (n<30)"]
    assert segment_labels(table, mark_small=False)[2] == "starter · (missing)"
    overall = table.drop(columns=["plan", "billing_interval"]).head(1)
    assert segment_labels(overall) == ["all customers"]
    flags = pd.DataFrame({"uses_api": [True, False], "customers": [1, 2]})
    assert segment_labels(flags) == ["uses_api: yes", "uses_api: no"]


def test_share_chart(table: pd.DataFrame) -> None:
    fig = share_chart(table)
    assert isinstance(fig, go.Figure) and len(fig.data) == 2
    cust, mrr = fig.data
    assert cust.name == "Share of customers" and mrr.name == "Share of MRR"
    np.testing.assert_allclose(cust.y, table["customers_share"])
    np.testing.assert_allclose(mrr.y, table["mrr_share"])
    assert list(cust.x) == segment_labels(table)  # the table's (LTV) order
    # the small segment is grey and hatched
    assert cust.marker.color[2] == SMALL_COLOUR and cust.marker.color[0] != SMALL_COLOUR
    assert cust.marker.pattern.shape[2] == "/" and cust.marker.pattern.shape[0] == ""
    assert fig.layout.barmode == "group"


def test_churn_chart_error_bars(table: pd.DataFrame) -> None:
    fig = churn_chart(table)
    bar = fig.data[0]
    np.testing.assert_allclose(bar.y, table["churn_rate"])
    # whiskers reach the Wilson interval's ends: rate + array = high, rate - arrayminus = low
    np.testing.assert_allclose(np.asarray(bar.y) + np.asarray(bar.error_y.array),
                               table["churn_rate_high"])
    np.testing.assert_allclose(np.asarray(bar.y) - np.asarray(bar.error_y.arrayminus),
                               table["churn_rate_low"])
    assert "(n<30)" in bar.x[2] and bar.marker.color[2] == SMALL_COLOUR
    assert "95 % Wilson" in fig.layout.title.text


def test_ltv_chart_states_gross_margin(table: pd.DataFrame) -> None:
    fig = ltv_chart(table)
    assert "gross margin 80 %" in fig.layout.title.text
    bar = fig.data[0]
    np.testing.assert_allclose(bar.y[:2], table["ltv"][:2])
    assert np.isnan(bar.y[2])  # undefined LTV: no bar, never infinite
    assert bar.text[2] == "undefined (no churn)"
    np.testing.assert_allclose(bar.error_y.array[:2], [80_000.0, 2_000.0])  # high - ltv
    np.testing.assert_allclose(bar.error_y.arrayminus[:2], [80_000.0 - 44_444.4, 8_000 - 6_486.5])
    assert bar.marker.pattern.shape[2] == "/"
    other = table.copy()
    other.attrs = {**table.attrs, "gross_margin": 1.0}
    assert "gross margin 100 %" in ltv_chart(other).layout.title.text


def test_ltv_chart_unbounded_upper_end(table: pd.DataFrame) -> None:
    t = table.copy()
    t.attrs = dict(table.attrs)
    t.loc[0, "ltv_high"] = np.nan
    bar = ltv_chart(t).data[0]
    assert bar.error_y.array[0] == 0.0
    assert "no upper bound" in bar.hovertext[0]


def test_persona_chart() -> None:
    centers = pd.DataFrame(
        {"arpa": [1.2, -0.8], "annual": [0.5, -0.5]},
        index=pd.Index(["High-ARPA annual pro customers", "Low-ARPA monthly starter customers"],
                       name="persona"),
    )
    fig = persona_chart(centers)
    hm = fig.data[0]
    assert hm.type == "heatmap"
    np.testing.assert_allclose(np.asarray(hm.z), centers.to_numpy())
    assert list(hm.y) == list(centers.index)
    assert list(hm.x) == ["ARPA", "Annual billing"]
    assert hm.zmid == 0


def test_mix_shift_chart() -> None:
    mix = pd.DataFrame(
        {
            "plan": ["a", "b", "(total)"],
            "weight_a": [0.5, 0.5, 1.0],
            "weight_b": [0.25, 0.75, 1.0],
            "rate_a": [0.02, 0.04, 0.03],
            "rate_b": [0.02, 0.03, 0.0275],
            "mix_effect": [-0.005, 0.00875, 0.00375],
            "rate_effect": [0.0, -0.00625, -0.00625],
            "total_effect": [-0.005, 0.0025, -0.0025],
        }
    )
    mix.attrs.update({"metric": "churn", "overall_a": 0.03, "overall_b": 0.0275,
                      "as_of_a": dt.date(2023, 12, 31), "as_of_b": dt.date(2024, 12, 31)})
    fig = mix_shift_chart(mix)
    m, r = fig.data
    assert m.name == "Mix effect" and r.name == "Rate effect"
    assert list(m.x) == ["a", "b", "All segments"]
    np.testing.assert_allclose(m.y, mix["mix_effect"] * 100)  # percentage points
    np.testing.assert_allclose(r.y, mix["rate_effect"] * 100)
    title = fig.layout.title.text
    assert "2023-12-31 3.00 %" in title and "2024-12-31 2.75 %" in title and "-0.25 pp" in title
