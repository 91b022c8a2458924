"""Tests of the cohort page's figures (segwork/plots/cohorts.py): values come from the frames.

Rules checked (sections of docs/metrics.md, summarised):
- (F) "Cohorts": cells after the as-of date do not exist: missing and drawn blank, never 0.
- (S) "Small segments": fewer than 30 customers by default (a parameter); flagged wherever shown.
- (B) "MRR movements": mrr_end = mrr_start + new + reactivation + expansion - contraction - churn
  (the bridge).
- (K) "Survival": the number at risk (``n_at_risk``) is shown with the curve (on hover).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from segwork.metrics.cohorts import cohort_matrix
from segwork.plots.cohorts import (
    SMALL_MARK,
    cohort_heatmap,
    cohort_label,
    mrr_bridge,
    mrr_rates,
    retention_curves,
    survival_curves,
)

# A cohort_retention-shaped logo table, as_of March 2024: Jan (40 customers) has ages 0-2,
# Feb (10) ages 0-1, Mar (50) age 0; the cells after as_of do not exist (F).
LONG = pd.DataFrame(
    {
        "cohort": pd.to_datetime(["2024-01-01"] * 3 + ["2024-02-01"] * 2 + ["2024-03-01"]),
        "age": [0, 1, 2, 0, 1, 0],
        "cohort_customers": [40, 40, 40, 10, 10, 50],
        "active_customers": [40, 30, 20, 10, 5, 50],
    }
)
LONG["retention"] = LONG["active_customers"] / LONG["cohort_customers"]
# its weighted average: age 0: 100/100; age 1: 35/50 = 0.7; age 2: 20/40 = 0.5
AVERAGE = pd.DataFrame(
    {"age": [0, 1, 2], "cohorts": [3, 2, 1], "cohort_customers": [100, 50, 40],
     "active_customers": [100, 35, 20], "retention": [1.0, 0.7, 0.5]}
)


def test_heatmap_cells_are_the_matrix_and_future_cells_are_none() -> None:
    fig = cohort_heatmap(LONG, average=AVERAGE, title="Logo retention")
    # one trace: plotly.js cannot draw two heat maps on one category axis
    assert len(fig.data) == 1
    heat = fig.data[0]
    assert isinstance(heat, go.Heatmap) and heat.name == "cohorts"
    matrix = cohort_matrix(LONG)
    want = [[None if pd.isna(v) else float(v) for v in row] for row in matrix.to_numpy()]
    assert [list(r) for r in heat.z[:3]] == want
    assert heat.z[1][2] is None and heat.z[2][1] is None and heat.z[2][2] is None  # (F)
    assert list(heat.x) == [0, 1, 2]
    assert list(heat.text[0]) == ["100%", "75%", "50%"] and heat.text[2][1] == ""
    # hover data per cell: active customers and cohort size
    assert heat.customdata[0][1] == "Active customers: 30<br>Cohort size: 40"
    assert heat.customdata[1][1] == "Active customers: 5<br>Cohort size: 10"
    assert heat.customdata[2][1] == ""  # future cell
    assert "%{customdata}" in heat.hovertemplate
    # cohort sizes beside the rows; Feb (10 < 30) marked small (S)
    assert list(heat.y) == ["2024-01 (n=40)", f"2024-02 (n=10) {SMALL_MARK}", "2024-03 (n=50)",
                            "Weighted average"]
    assert any(SMALL_MARK in (a.text or "") for a in fig.layout.annotations)
    # the weighted-average row under the matrix
    assert list(heat.z[3]) == [1.0, 0.7, 0.5]
    assert list(heat.text[3]) == ["<b>100%</b>", "<b>70%</b>", "<b>50%</b>"]
    assert heat.customdata[3][0] == "Average of the cohorts, weighted by cohort size"
    assert fig.layout.yaxis.autorange == "reversed"


def test_heatmap_counts_min_size_and_bad_value() -> None:
    fig = cohort_heatmap(LONG, value="count", min_cohort_size=5)
    assert [list(r) for r in fig.data[0].z] == [[40.0, 30.0, 20.0], [10.0, 5.0, None],
                                                 [50.0, None, None]]
    assert not any(SMALL_MARK in y for y in fig.data[0].y)  # nobody under 5
    assert len(fig.data) == 1  # no average given
    with pytest.raises(ValueError, match="allowed: 'pct', 'count'"):
        cohort_heatmap(LONG, value="share")


def test_heatmap_segments_and_revenue() -> None:
    seg = pd.concat([LONG.assign(plan="a"), LONG.head(2).assign(plan="b")])
    seg = seg[["plan", *LONG.columns]]
    avg = pd.concat([AVERAGE.assign(plan="a"), AVERAGE.head(2).assign(plan="b")])
    avg = avg[["plan", *AVERAGE.columns]]
    fig = cohort_heatmap(seg, average=avg)
    assert list(fig.data[0].y) == [
        "a · 2024-01 (n=40)", f"a · 2024-02 (n=10) {SMALL_MARK}", "a · 2024-03 (n=50)",
        "a · Weighted average", "b · 2024-01 (n=40)", "b · Weighted average",
    ]
    # NRR table: row labels show the base MRR unless customer sizes are given
    nrr = pd.DataFrame({"cohort": pd.to_datetime(["2024-01-01", "2024-01-01"]), "age": [0, 1],
                        "mrr_base": [1000.0, 1000.0], "mrr_at_age": [1000.0, 1100.0],
                        "nrr": [1.0, 1.1]})
    fig = cohort_heatmap(nrr)
    assert list(fig.data[0].y) == ["2024-01 (MRR $1,000)"]
    assert list(fig.data[0].z[0]) == [1.0, 1.1] and fig.data[0].zmax == pytest.approx(1.1)
    fig = cohort_heatmap(nrr, sizes=LONG, period="month")
    assert list(fig.data[0].y) == ["2024-01 (n=40)"]


def test_cohort_labels() -> None:
    ts = pd.Timestamp("2024-04-01")
    assert [cohort_label(ts, p) for p in ("month", "quarter", "year")] == [
        "2024-04", "2024-Q2", "2024"
    ]
    assert cohort_label(pd.Timestamp("2024-01-08"), "week") == "2024-01-08"


PROJECTION = pd.DataFrame(
    {"age": [0, 1, 2, 3], "observed": [1.0, 0.7, 0.5, None], "projected": [1.0, 0.72, 0.55, 0.45],
     "projected_low": [1.0, 0.65, 0.5, 0.38], "projected_high": [1.0, 0.78, 0.61, 0.52]}
)


def test_retention_curves_by_cohort_and_projection() -> None:
    fig = retention_curves(LONG, projection=PROJECTION)
    names = [t.name for t in fig.data]
    assert names[:3] == ["2024-01", "2024-02", "2024-03"]
    assert list(fig.data[0].y) == [1.0, 0.75, 0.5] and list(fig.data[1].x) == [0, 1]
    band, line = fig.data[3], fig.data[4]
    assert band.fill == "toself" and list(band.y) == [1.0, 0.78, 0.61, 0.52, 0.38, 0.5, 0.65, 1.0]
    assert line.line.dash == "dash" and list(line.y) == [1.0, 0.72, 0.55, 0.45]
    # a pooled curve (weighted average, no segment) gets the projection's colour
    pooled = retention_curves(AVERAGE, group=None, projection=PROJECTION.assign(projected_low=None,
                                                                                projected_high=None))
    assert [t.name for t in pooled.data] == ["All cohorts (weighted)", "projected (sBG)"]
    assert pooled.data[1].line.color == pooled.data[0].line.color
    # cohort lines with the weighted average on top; the projection takes the average's colour
    both = retention_curves(LONG, average=AVERAGE, projection=PROJECTION)
    assert [t.name for t in both.data][3] == "All cohorts (weighted)"
    assert list(both.data[3].y) == [1.0, 0.7, 0.5] and both.data[3].line.width == 4
    assert both.data[5].line.color == "#000000"
    with pytest.raises(ValueError, match="no column 'plan'"):
        retention_curves(LONG, group="plan")


def test_retention_curves_by_segment() -> None:
    avg = pd.concat([AVERAGE.assign(plan="a"), AVERAGE.head(2).assign(plan="b")])
    proj = pd.concat([PROJECTION.assign(plan="b")])[["plan", *PROJECTION.columns]]
    fig = retention_curves(avg[["plan", *AVERAGE.columns]], group="plan", projection=proj)
    assert [t.name for t in fig.data] == ["a", "b", "b projected (sBG) band", "b projected (sBG)"]
    assert fig.data[3].line.color == fig.data[1].line.color


MOVEMENTS = pd.DataFrame(
    {
        "month": pd.to_datetime(["2024-01-01", "2024-02-01"]),
        "mrr_start": [0.0, 100.0], "new": [100.0, 20.0], "reactivation": [0.0, 5.0],
        "expansion": [0.0, 10.0], "contraction": [0.0, 8.0], "churn": [0.0, 12.0],
        # (B) 100 + 20 + 5 + 10 - 8 - 12 = 115
        "mrr_end": [100.0, 115.0], "customers_start": [0, 2], "customers_end": [2, 3],
        "quick_ratio": [float("nan"), 1.75], "gross_mrr_churn": [float("nan"), 0.2],
        "net_mrr_churn": [float("nan"), 0.05],
    }
)


def test_mrr_bridge_signs_and_line() -> None:
    fig = mrr_bridge(MOVEMENTS)
    bars = {t.name: list(t.y) for t in fig.data if isinstance(t, go.Bar)}
    assert bars == {"New": [100.0, 20.0], "Reactivation": [0.0, 5.0], "Expansion": [0.0, 10.0],
                    "Contraction": [-0.0, -8.0], "Churn": [-0.0, -12.0]}
    assert fig.layout.barmode == "relative"
    line = fig.data[-1]
    assert line.name == "MRR at month end" and list(line.y) == [100.0, 115.0] and line.yaxis == "y2"
    with pytest.raises(ValueError, match="without by"):
        mrr_bridge(MOVEMENTS.assign(plan="a")[["plan", *MOVEMENTS.columns]])


def test_mrr_rates() -> None:
    fig = mrr_rates(MOVEMENTS)
    assert [t.name for t in fig.data] == ["Quick ratio", "Gross MRR churn", "Net MRR churn"]
    assert list(fig.data[0].y) == [None, 1.75]
    assert list(fig.data[1].y) == [None, 0.2] and fig.data[1].yaxis == "y2"


def test_survival_curves() -> None:
    surv = pd.DataFrame(
        {"plan": ["a"] * 3 + ["b"] * 2, "tenure": [0, 1, 2, 0, 1],
         "n_at_risk": [5, 5, 4, 3, 3], "n_events": [0, 1, 1, 0, 1], "n_censored": [0, 0, 0, 0, 2],
         "survival": [1.0, 0.8, 0.6, 1.0, 2 / 3], "ci_low": [1.0, 0.5, 0.3, 1.0, 0.3],
         "ci_high": [1.0, 0.95, 0.85, 1.0, 0.9]}
    )
    fig = survival_curves(surv)
    assert [t.name for t in fig.data] == ["a CI", "a", "b CI", "b"]
    a = fig.data[1]
    assert a.line.shape == "hv" and list(a.y) == [1.0, 0.8, 0.6] and list(a.x) == [0, 1, 2]
    assert list(a.customdata) == [5, 5, 4] and "at risk" in a.hovertemplate  # (K)
    assert list(fig.data[0].y) == [1.0, 0.95, 0.85, 0.3, 0.5, 1.0]
