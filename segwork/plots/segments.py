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

from segwork.formatting import currency_prefix, money_text, rate_text
from segwork.labels import column_title
from segwork.plots._style import PALETTE, axis_title, styled, value_labels
from segwork.sentences import segment_by_columns

__all__ = [
    "churn_chart",
    "error_bars",
    "interval_bar",
    "interval_labels",
    "ltv_chart",
    "mix_shift_chart",
    "persona_chart",
    "segment_axis_title",
    "segment_bar",
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


def segment_axis_title(table: pd.DataFrame) -> str:
    """The title of a segment axis: the segment columns in words ("Plan · Billing interval"),
    "Segment" when the table has none.

    >>> segment_axis_title(pd.DataFrame({"plan": ["a"], "billing_interval": ["m"],
    ...     "customers": [1]}))
    'Plan · Billing interval'
    """
    by = segment_by_columns(table)
    return " · ".join(column_title(c) for c in by) if by else "Segment"


def share_chart(
    table: pd.DataFrame, title: str | None = None, *, of: str = "mrr"
) -> go.Figure:
    """Grouped bars per segment: share of customers vs share of ``of`` (in the table's order).

    A segment whose share of MRR (``of="mrr"``, a segment table) or of revenue
    (``of="revenue"``, an e-commerce segment table: orders of its window) exceeds its share of
    customers brings more than its weight.

    >>> t = pd.DataFrame({"country": ["DE", "FR"], "customers": [40, 10],
    ...     "customers_share": [0.8, 0.2], "revenue_share": [0.6, 0.4],
    ...     "small_segment": [False, True]})
    >>> [tr.name for tr in share_chart(t, of="revenue").data]
    ['Share of customers', 'Share of revenue']
    """
    labels = segment_labels(table)
    small = _small(table)
    bars = []
    for i, (col, name) in enumerate(
        (("customers_share", "Share of customers"), (f"{of}_share", column_title(f"{of}_share")))
    ):
        name = name.removesuffix(" (%)")
        bars.append(
            go.Bar(
                name=name,
                x=labels,
                y=table[col].to_numpy(dtype=float),
                marker=_marker(PALETTE[i], small),
                hovertemplate=f"%{{x}}<br>{name}: %{{y:.1%}}<extra></extra>",
            )
        )
    fig = go.Figure(bars)
    fig.update_layout(
        barmode="group",
        yaxis={"tickformat": ".0%", "title": "Share of the total (%)", "rangemode": "tozero"},
        xaxis={"title": segment_axis_title(table)},
    )
    window = table.attrs.get("window_months") if of == "revenue" else None
    over = f" (orders of the last {window} months)" if window else ""
    other = name[0].lower() + name[1:]  # "share of MRR"
    return styled(fig, title or f"Share of customers vs {other} by segment{over}")


def small_marker(table: pd.DataFrame, colour: str) -> dict[str, Any]:
    """Bar colours of a segment table: ``colour``, small segments grey and hatched."""
    return _marker(colour, _small(table))


def error_bars(plus: Any, minus: Any) -> dict[str, Any]:
    """An asymmetric error bar (``plus`` above, ``minus`` below the value) in the charts' style."""
    return {
        "type": "data",
        "symmetric": False,
        "array": plus,
        "arrayminus": minus,
        "color": "#444",
        "thickness": 1.5,
        "width": 6,
    }


def segment_bar(
    table: pd.DataFrame,
    name: str,
    values: Any,
    text: list[str],
    hover: list[str],
    *,
    textposition: str = "none",
    error_y: dict[str, Any] | None = None,
) -> go.Bar:
    """One bar per segment of ``table``: its value ``text``, the ``hover`` in words, small
    segments grey and hatched.

    >>> t = pd.DataFrame({"plan": ["a"], "ltv": [10.0], "small_segment": [True]})
    >>> segment_bar(t, "LTV", [10.0], ["$10"], ["LTV $10"]).marker.pattern.shape
    ('/',)
    """
    return go.Bar(
        name=name,
        x=segment_labels(table),
        y=values,
        text=text,
        textposition=textposition,
        marker=small_marker(table, PALETTE[2]),
        error_y=error_y,
        hovertext=hover,
        hovertemplate="%{x}<br>%{hovertext}<extra></extra>",
    )


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
    ``column_high``) as error bars, small segments grey and hatched; hover "``what``: 2.5%
    ``unit``<br>95 % interval: 2.1% – 3.0%".

    The value is not written on the bar (``text`` holds it for the hover only): the error bar
    would cross it.  :func:`interval_labels` writes it beyond the interval's upper end.

    >>> t = pd.DataFrame({"plan": ["a"], "churn_rate": [0.02], "churn_rate_low": [0.01],
    ...     "churn_rate_high": [0.04]})
    >>> bar = interval_bar(t, "churn_rate", "Logo churn", "#000", "Logo churn", ".2%")
    >>> bar.text, bar.textposition
    (('2.0 %',), 'none')
    """
    rate = table[column].to_numpy(dtype=float)
    low = table[f"{column}_low"].to_numpy(dtype=float)
    high = table[f"{column}_high"].to_numpy(dtype=float)
    conf = _pct(table.attrs.get("confidence", 0.95))
    return go.Bar(
        name=name,
        x=segment_labels(table),
        y=rate,
        text=[rate_text(v) if np.isfinite(v) else "n/a" for v in rate],
        textposition="none",
        marker=small_marker(table, colour),
        error_y=error_bars(high - rate, rate - low),
        customdata=np.column_stack([low, high]),
        hovertemplate=(
            f"%{{x}}<br>{what}: %{{y:{fmt}}}{unit}<br>{conf} interval: "
            f"%{{customdata[0]:{fmt}}} – %{{customdata[1]:{fmt}}}<extra></extra>"
        ),
    )


def interval_labels(bar: go.Bar) -> list[dict[str, Any]]:
    """Annotations writing an :func:`interval_bar`'s values (its ``text``) just above the upper
    end of each error bar, where the error bar cannot cover them (add them to the figure with
    ``fig.update_layout(annotations=...)``).

    >>> t = pd.DataFrame({"plan": ["a"], "churn_rate": [0.02], "churn_rate_low": [0.01],
    ...     "churn_rate_high": [0.04]})
    >>> [(a["y"], a["text"]) for a in interval_labels(interval_bar(t, "churn_rate", "c", "#000",
    ...     "c"))]
    [(0.04, '2.0 %')]
    """
    y = np.asarray(bar.y, dtype=float)
    plus = np.asarray(bar.error_y.array, dtype=float) if bar.error_y.array is not None else 0 * y
    top = np.where(np.isfinite(plus), y + np.nan_to_num(plus), y)
    return value_labels(list(bar.x), top.tolist(), list(bar.text))


def churn_chart(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Monthly logo churn per segment with its Wilson interval as error bars (docs/metrics.md
    "Confidence intervals"); small segments grey, hatched and labelled; each value written above
    its interval."""
    bar = interval_bar(
        table, "churn_rate", "Monthly logo churn", PALETTE[3], "Logo churn", ".2%", " per month"
    )
    fig = go.Figure(bar)
    conf = _pct(table.attrs.get("confidence", 0.95))
    window = table.attrs.get("window_months")
    over = f" over {window} months" if window else ""
    fig.update_layout(
        yaxis={"tickformat": ".1%", "title": axis_title("churn_rate"), "rangemode": "tozero"},
        xaxis={"title": segment_axis_title(table)},
        showlegend=False,
        annotations=interval_labels(bar),
    )
    return styled(fig, title or f"Monthly logo churn by segment{over} ({conf} Wilson interval)")


def ltv_chart(table: pd.DataFrame, title: str | None = None, *, currency: str = "USD") -> go.Figure:
    """LTV per segment with the interval that follows from the churn interval.

    docs/metrics.md "LTV": the gross margin (``table.attrs["gross_margin"]``) is stated wherever
    LTV is shown, here in the title.  An undefined LTV (no churn seen) has no bar and reads
    "undefined (no churn)"; an unbounded upper end has no upper whisker and says so on hover.
    ``currency`` (``Dataset.currency``) writes the amounts and names the axis ("LTV (EUR)").
    Each value (the bar's ``text``) is written above the upper end of its interval, never on the
    error bar.  A table with the horizon-capped LTV (:func:`segwork.metrics.ltv.with_capped_ltv`)
    shows that one, its horizon and discount in the title (docs/metrics.md "Horizon-capped LTV").
    """

    def _money(v: float) -> str:
        return money_text(v, currency, short=True)

    labels = segment_labels(table)
    capped = "ltv_capped" in table.columns
    col = "ltv_capped" if capped else "ltv"
    ltv = table[col].to_numpy(dtype=float)
    low = table[f"{col}_low"].to_numpy(dtype=float)
    high = table[f"{col}_high"].to_numpy(dtype=float)
    plus = np.where(np.isfinite(high), high - ltv, 0.0)
    minus = np.where(np.isfinite(low), ltv - low, 0.0)
    text = ["undefined (no churn)" if not np.isfinite(v) else _money(v) for v in ltv]
    conf = _pct(table.attrs.get("confidence", 0.95))
    hover = [
        f"LTV {_money(v)}<br>{conf} interval {_money(lo)} – "
        + ("no upper bound" if not np.isfinite(hi) else _money(hi))
        if np.isfinite(v)
        else "LTV undefined: no churn observed"
        for v, lo, hi in zip(ltv, low, high, strict=True)
    ]
    fig = go.Figure(segment_bar(table, "LTV", ltv, text, hover, error_y=error_bars(plus, minus)))
    gm = table.attrs.get("gross_margin")
    gm_text = (
        f"gross margin {float(gm):.0%}".replace("%", " %")
        if gm is not None
        else ("gross margin not stated")
    )
    top = np.where(np.isfinite(ltv), ltv + plus, 0.0)
    fig.update_layout(
        yaxis={
            "title": axis_title("ltv", currency),
            "tickprefix": currency_prefix(currency),
            "rangemode": "tozero",
        },
        xaxis={"title": segment_axis_title(table)},
        showlegend=False,
        annotations=value_labels(labels, top.tolist(), text),
    )
    if capped:
        months = int(table.attrs.get("ltv_horizon_months", 0))
        rate = float(table.attrs.get("ltv_discount_rate", 0.0))
        disc = f", discounted {rate:.0%} a year".replace("%", " %") if rate else ""
        gm_text = f"over {months} months{disc}; {gm_text}"
    return styled(fig, title or f"Customer lifetime value by segment ({gm_text}; {conf} interval)")


def persona_chart(centers: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Heat map of the personas' mean z-scores per feature (``Personas.centers``).

    Red = above the clustered customers' average, blue = below; the labels come from the
    strongest cells.  Features are named in words ("Tenure", "Annual billing"); a cell reads
    "+1.20" (standard deviations from the average).

    >>> c = pd.DataFrame({"arpa": [1.2], "days_since_last_order": [-0.5]}, index=["Big"])
    >>> fig = persona_chart(c)
    >>> list(fig.data[0].x), fig.data[0].colorbar.title.text
    (['ARPA', 'Days since last order'], 'Mean z-score (SD from average)')
    """
    z = centers.to_numpy(dtype=float)
    x = [_FEATURE_NAMES.get(str(c), column_title(str(c))) for c in centers.columns]
    y = [str(i) for i in centers.index]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            zmid=0,
            colorscale="RdBu_r",
            text=[[f"{v:+.2f}" if np.isfinite(v) else "" for v in row] for row in z],
            texttemplate="%{text}",
            colorbar={"title": {"text": "Mean z-score (SD from average)", "side": "right"}},
            hovertemplate="%{y}<br>%{x}: %{z:+.2f} SD from the average<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", title_text="Persona")
    fig.update_xaxes(title_text="Feature")
    return styled(
        fig,
        title or "Persona profiles (mean z-score of each feature)",
        height=max(320, 90 + 60 * len(y)),
    )


def mix_shift_chart(mix: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Grouped bars per segment (and the total): mix effect and rate effect, in percentage points.

    Reads a :func:`segwork.mix_shift` table (its last row is the total).
    """
    labels = ["All segments" if lab == "(total)" else lab
              for lab in segment_labels(mix, mark_small=False)]
    mix_e = mix["mix_effect"].to_numpy(dtype=float) * 100
    rate_e = mix["rate_effect"].to_numpy(dtype=float) * 100
    a = mix.attrs
    what = "NRR" if a.get("metric") == "nrr" else "Monthly churn"
    fig = go.Figure(
        [
            go.Bar(
                name=name,
                x=labels,
                y=effect,
                marker_color=colour,
                hovertemplate=f"%{{x}}<br>{name}: %{{y:+.2f}} pp<extra></extra>",
            )
            for name, effect, colour in (
                ("Mix effect", mix_e, PALETTE[4]),
                ("Rate effect", rate_e, PALETTE[5]),
            )
        ]
    )
    if title is None:
        ra, rb = a.get("overall_a", np.nan), a.get("overall_b", np.nan)
        digits = 1 if a.get("metric") == "nrr" else 2
        title = (
            f"{what}: {a.get('as_of_a', '')} {ra:.{digits}%} → {a.get('as_of_b', '')} "
            f"{rb:.{digits}%} ({(rb - ra) * 100:+.2f} pp = mix + rate)"
        ).replace("%", " %")
    fig.update_layout(
        barmode="group",
        yaxis={"title": f"Change in {what if what == 'NRR' else 'monthly churn'} (pp)",
               "zeroline": True},
        xaxis={"title": segment_axis_title(mix)},
    )
    return styled(fig, title)
