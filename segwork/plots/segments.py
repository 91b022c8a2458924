"""Figures of the segmentation page: a DataFrame in, a plotly ``go.Figure`` out, no metric work.

Inputs are the outputs of :func:`segwork.segment_table`, :func:`segwork.personas` (its
``centers``) and :func:`segwork.mix_shift`.  Segments flagged ``small_segment`` (their rates are
flagged wherever shown, docs/metrics.md "Small segments") are drawn grey and hatched and their
label ends with "(n<30)" (the table's ``min_customers``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segwork.formatting import currency_prefix, money_axis, money_text
from segwork.plots._style import PALETTE, styled
from segwork.sentences import segment_by_columns

__all__ = [
    "churn_chart",
    "interval_bar",
    "ltv_chart",
    "mix_shift_chart",
    "persona_chart",
    "segment_by_columns",
    "segment_labels",
    "share_chart",
    "small_marker",
]

SMALL_COLOUR = "#BBBBBB"
SMALL_PATTERN = "/"


_FEATURE_NAMES = {
    "arpa": "ARPA",
    "tenure_months": "Tenure",
    "usage": "Usage (events / month)",
    "features_used": "Features used",
    "plan_tier": "Plan tier",
    "annual": "Annual billing",
}


def _value_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(missing)"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


def segment_labels(table: pd.DataFrame, *, mark_small: bool = True) -> list[str]:
    """One label per row: the segment values joined with " · " (e.g. "enterprise · annual").

    A table without segment columns gives "all customers"; boolean columns (``uses_api``) read
    "uses_api: yes".  With ``mark_small``, rows flagged ``small_segment`` end with "(n<30)", the
    threshold taken from ``table.attrs["min_customers"]`` (default 30).
    """
    by = segment_by_columns(table)
    labels = []
    for _, row in table.iterrows():
        parts = []
        for col in by:
            v = row[col]
            text = _value_text(v)
            parts.append(f"{col}: {text}" if isinstance(v, bool | np.bool_) else text)
        labels.append(" · ".join(parts) if parts else "all customers")
    if mark_small and "small_segment" in table.columns:
        n = int(table.attrs.get("min_customers", 30))
        labels = [
            f"{lab} (n<{n})" if bool(small) else lab
            for lab, small in zip(labels, table["small_segment"], strict=True)
        ]
    return labels


def _small(table: pd.DataFrame) -> np.ndarray:
    if "small_segment" not in table.columns:
        return np.zeros(len(table), dtype=bool)
    return table["small_segment"].fillna(False).to_numpy(dtype=bool)


def _marker(colour: str, small: np.ndarray) -> dict[str, Any]:
    return {
        "color": [SMALL_COLOUR if s else colour for s in small],
        "pattern": {"shape": [SMALL_PATTERN if s else "" for s in small]},
    }


def _pct(confidence: Any) -> str:
    try:
        return f"{float(confidence):.0%}".replace("%", " %")
    except (TypeError, ValueError):
        return "95 %"


def share_chart(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Grouped bars per segment: share of customers vs share of MRR (in the table's order).

    A segment whose MRR share exceeds its customer share brings more than its weight in revenue.
    """
    labels = segment_labels(table)
    small = _small(table)
    fig = go.Figure(
        [
            go.Bar(
                name="Share of customers",
                x=labels,
                y=table["customers_share"].to_numpy(dtype=float),
                marker=_marker(PALETTE[0], small),
                hovertemplate="%{x}<br>customers: %{y:.1%}<extra></extra>",
            ),
            go.Bar(
                name="Share of MRR",
                x=labels,
                y=table["mrr_share"].to_numpy(dtype=float),
                marker=_marker(PALETTE[1], small),
                hovertemplate="%{x}<br>MRR: %{y:.1%}<extra></extra>",
            ),
        ]
    )
    fig.update_layout(barmode="group", yaxis={"tickformat": ".0%", "title": "share"})
    return styled(fig, title or "Share of customers vs share of MRR by segment")


def small_marker(table: pd.DataFrame, colour: str) -> dict[str, Any]:
    """Bar colours of a segment table: ``colour``, small segments grey and hatched."""
    return _marker(colour, _small(table))


def interval_bar(
    table: pd.DataFrame,
    column: str,
    name: str,
    colour: str,
    what: str,
    fmt: str = ".1%",
    unit: str = "",
) -> go.Bar:
    """Bars of a rate per segment (``column``) with its interval (``column_low``,
    ``column_high``) as error bars, small segments grey and hatched; hover "``what`` 2.5%
    ``unit``, CI 2.1% – 3.0%"."""
    rate = table[column].to_numpy(dtype=float)
    low = table[f"{column}_low"].to_numpy(dtype=float)
    high = table[f"{column}_high"].to_numpy(dtype=float)
    return go.Bar(
        name=name,
        x=segment_labels(table),
        y=rate,
        marker=small_marker(table, colour),
        error_y={
            "type": "data",
            "symmetric": False,
            "array": high - rate,
            "arrayminus": rate - low,
            "color": "#444",
        },
        customdata=np.column_stack([low, high]),
        hovertemplate=(
            f"%{{x}}<br>{what} %{{y:{fmt}}}{unit}<br>CI %{{customdata[0]:{fmt}}} – "
            f"%{{customdata[1]:{fmt}}}<extra></extra>"
        ),
    )


def churn_chart(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Monthly logo churn per segment with its Wilson interval as error bars (docs/metrics.md
    "Confidence intervals"); small segments grey, hatched and labelled."""
    fig = go.Figure(
        interval_bar(
            table, "churn_rate", "Monthly logo churn", PALETTE[3], "churn", ".2%", " / month"
        )
    )
    conf = _pct(table.attrs.get("confidence", 0.95))
    window = table.attrs.get("window_months")
    over = f" over {window} months" if window else ""
    fig.update_layout(yaxis={"tickformat": ".1%", "title": "churn per month"}, showlegend=False)
    return styled(fig, title or f"Monthly logo churn by segment{over} ({conf} Wilson interval)")


def ltv_chart(table: pd.DataFrame, title: str | None = None, *, currency: str = "USD") -> go.Figure:
    """LTV per segment with the interval that follows from the churn interval.

    docs/metrics.md "LTV": the gross margin (``table.attrs["gross_margin"]``) is stated wherever
    LTV is shown, here in the title.  An undefined LTV (no churn seen) has no bar and reads
    "undefined (no churn)"; an unbounded upper end has no upper whisker and says so on hover.
    ``currency`` (``Dataset.currency``) writes the amounts and names the axis ("LTV (EUR)").
    """

    def _money(v: float) -> str:
        return money_text(v, currency, short=True)

    labels = segment_labels(table)
    ltv = table["ltv"].to_numpy(dtype=float)
    low = table["ltv_low"].to_numpy(dtype=float)
    high = table["ltv_high"].to_numpy(dtype=float)
    plus = np.where(np.isfinite(high), high - ltv, 0.0)
    minus = np.where(np.isfinite(low), ltv - low, 0.0)
    text = ["undefined (no churn)" if not np.isfinite(v) else _money(v) for v in ltv]
    hover = [
        f"LTV {_money(v)}<br>CI {_money(lo)} – "
        + ("no upper bound" if not np.isfinite(hi) else _money(hi))
        if np.isfinite(v)
        else "LTV undefined: no churn observed"
        for v, lo, hi in zip(ltv, low, high, strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            name="LTV",
            x=labels,
            y=ltv,
            text=text,
            textposition="outside",
            marker=_marker(PALETTE[2], _small(table)),
            error_y={
                "type": "data",
                "symmetric": False,
                "array": plus,
                "arrayminus": minus,
                "color": "#444",
            },
            hovertext=hover,
            hovertemplate="%{x}<br>%{hovertext}<extra></extra>",
        )
    )
    gm = table.attrs.get("gross_margin")
    gm_text = (
        f"gross margin {float(gm):.0%}".replace("%", " %")
        if gm is not None
        else ("gross margin not stated")
    )
    conf = _pct(table.attrs.get("confidence", 0.95))
    fig.update_layout(
        yaxis={"title": money_axis("LTV", currency), "tickprefix": currency_prefix(currency)},
        showlegend=False,
    )
    return styled(fig, title or f"Customer lifetime value by segment ({gm_text}; {conf} interval)")


def persona_chart(centers: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Heat map of the personas' mean z-scores per feature (``Personas.centers``).

    Red = above the clustered customers' average, blue = below; the labels come from the
    strongest cells.
    """
    z = centers.to_numpy(dtype=float)
    x = [_FEATURE_NAMES.get(str(c), str(c)) for c in centers.columns]
    y = [str(i) for i in centers.index]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            zmid=0,
            colorscale="RdBu_r",
            text=np.round(z, 2),
            texttemplate="%{text}",
            colorbar={"title": "z"},
            hovertemplate="%{y}<br>%{x}: z = %{z:.2f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return styled(
        fig,
        title or "Persona profiles (mean z-score of each feature)",
        height=max(320, 90 + 60 * len(y)),
    )


def mix_shift_chart(mix: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Grouped bars per segment (and the total): mix effect and rate effect, in percentage points.

    Reads a :func:`segwork.mix_shift` table (its last row is the total).
    """
    labels = segment_labels(mix, mark_small=False)
    mix_e = mix["mix_effect"].to_numpy(dtype=float) * 100
    rate_e = mix["rate_effect"].to_numpy(dtype=float) * 100
    fig = go.Figure(
        [
            go.Bar(
                name="Mix effect",
                x=labels,
                y=mix_e,
                marker_color=PALETTE[4],
                hovertemplate="%{x}<br>mix %{y:+.3f} pp<extra></extra>",
            ),
            go.Bar(
                name="Rate effect",
                x=labels,
                y=rate_e,
                marker_color=PALETTE[5],
                hovertemplate="%{x}<br>rate %{y:+.3f} pp<extra></extra>",
            ),
        ]
    )
    a = mix.attrs
    if title is None:
        what = "NRR" if a.get("metric") == "nrr" else "Monthly churn"
        ra, rb = a.get("overall_a", np.nan), a.get("overall_b", np.nan)
        digits = 1 if a.get("metric") == "nrr" else 2
        title = (
            f"{what}: {a.get('as_of_a', '')} {ra:.{digits}%} → {a.get('as_of_b', '')} "
            f"{rb:.{digits}%} ({(rb - ra) * 100:+.2f} pp = mix + rate)"
        ).replace("%", " %")
    fig.update_layout(barmode="group", yaxis={"title": "percentage points", "zeroline": True})
    return styled(fig, title)
