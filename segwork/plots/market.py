"""Market sizing figures: TAM/SAM/SOM funnel, segments, tornado, penetration.

DataFrame in (the tables of :mod:`segwork.market`), ``go.Figure`` out; nothing is computed here
beyond picking columns and the order of bars.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segwork.formatting import (
    currency_code,
    currency_prefix,
    money_axis,
    money_hover,
    money_one_decimal,
    money_text,
    rate_text,
)
from segwork.labels import column_title
from segwork.plots._style import PALETTE, styled, value_labels

__all__ = [
    "ASSUMPTION_NAMES",
    "assumption_value",
    "funnel_figure",
    "penetration_figure",
    "segments_figure",
    "tornado_figure",
]

#: The market assumptions (:data:`segwork.market.assumptions.ASSUMPTIONS`) in words, and how a
#: value of each is written: ``"rate"`` (a percentage), ``"money"`` (in the currency) or
#: ``"count"``.
ASSUMPTION_NAMES: dict[str, tuple[str, str]] = {
    "share": ("Obtainable market share", "rate"),
    "accounts": ("Accounts", "count"),
    "acv": ("ACV (annual contract value)", "money"),
    "growth": ("Market growth a year", "rate"),
    "top_down": ("Top-down market value a year", "money"),
}


def assumption_value(assumption: str, value: float, currency: str | None) -> str:
    """A value of a market assumption as a reader expects it: shares and growth as percentages,
    ACV and top-down values as amounts, accounts as a count; never scientific notation.

    >>> assumption_value("share", 0.05, "EUR"), assumption_value("acv", 12_000, "EUR")
    ('5.0 %', '€12,000')
    >>> assumption_value("accounts", 2_500_000, None), assumption_value("other", 1e-5, None)
    ('2,500,000', '0.00001')
    """
    kind = ASSUMPTION_NAMES.get(assumption, ("", ""))[1]
    v = float(value)
    if kind == "rate":
        return rate_text(v)
    if kind == "money":
        return money_text(v, currency)
    if kind == "count" or abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.6f}".rstrip("0").rstrip(".")


def _labels(df: pd.DataFrame, criteria: Sequence[str]) -> list[str]:
    if not criteria:
        return ["all segments"] * len(df)
    return [" / ".join(str(v) for v in row) for row in df[list(criteria)].itertuples(index=False)]


def _empty(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return styled(fig, title)


def funnel_figure(
    totals: pd.DataFrame, *, title: str = "TAM, SAM and SOM", currency: str = "USD"
) -> go.Figure:
    """Bars for TAM, SAM and SOM at their P50 with P10-P90 error bars.

    Parameters
    ----------
    totals : pandas.DataFrame
        ``MarketSize.totals``: ``measure, point, mean, p10, p50, p90``.  Without ranges
        ``p10 == p50 == p90`` (= the point) and the error bars have length 0.
    title : str, default "TAM, SAM and SOM"
    currency : str, default "USD"
        The currency of the amounts (``Dataset.currency``): the tick prefix, the hover and the
        axis title ("Annual value (EUR)").  Each bar's P50 is written above its P90 whisker.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace named "P50" (y = ``p50``; ``customdata`` = point, mean, p10, p90).
    """

    def money(ref: str) -> str:
        return money_hover(ref, currency)

    p50 = totals["p50"].to_numpy(dtype="float64")
    p10 = totals["p10"].to_numpy(dtype="float64")
    p90 = totals["p90"].to_numpy(dtype="float64")
    fig = go.Figure(
        go.Bar(
            name="P50",
            x=totals["measure"].tolist(),
            y=p50,
            marker_color=[PALETTE[0], PALETTE[5], PALETTE[2]][: len(totals)],
            error_y={
                "type": "data",
                "symmetric": False,
                "array": p90 - p50,
                "arrayminus": p50 - p10,
                "color": "#333",
            },
            customdata=np.column_stack(
                [totals["point"].to_numpy(), totals["mean"].to_numpy(), p10, p90]
            ),
            hovertemplate=(
                f"%{{x}}: P50 {money('y')} a year<br>P10–P90 {money('customdata[2]')} – "
                f"{money('customdata[3]')}<br>At the modes {money('customdata[0]')}"
                f"<br>Mean {money('customdata[1]')}<extra></extra>"
            ),
        )
    )
    tops = np.where(np.isfinite(p90), np.maximum(p90, p50), p50)
    texts = [money_one_decimal(v, currency) for v in p50]
    fig.update_yaxes(
        title_text=money_axis("Annual value", currency),
        tickprefix=currency_prefix(currency),
        rangemode="tozero",
    )
    fig.update_xaxes(title_text="Market (P50 with the P10–P90 range)")
    fig.update_layout(
        annotations=value_labels(totals["measure"].tolist(), tops.tolist(), texts)
    )
    return styled(fig, title)


def segments_figure(
    segments: pd.DataFrame,
    criteria: Sequence[str],
    *,
    measure: str = "tam",
    top: int = 25,
    title: str | None = None,
    currency: str = "USD",
) -> go.Figure:
    """Horizontal bars of the ``top`` segments by ``measure`` (tam, sam or som), by serviceability.

    Parameters
    ----------
    segments : pandas.DataFrame
        ``MarketSize.segments`` (criteria, ``tam, serviceable, sam, som`` and, with ranges,
        ``<measure>_p10/_p90`` used as error bars).
    criteria : sequence of str
        The criteria columns (joined with " / " as the bar labels).
    measure : {"tam", "sam", "som"}, default "tam"
    top : int, default 25
    title : str, optional
    currency : str, default "USD"
        The currency of the amounts: tick prefix, hover and axis title ("TAM (EUR a year)").

    Returns
    -------
    plotly.graph_objects.Figure
        Traces "serviceable" and "not serviceable" (horizontal bars; x = ``measure``), largest on
        top.
    """
    if measure not in ("tam", "sam", "som"):
        raise ValueError(f"measure must be one of 'tam', 'sam', 'som', got {measure!r}")
    title = title or f"{measure.upper()} by segment (top {top})"
    if segments.empty:
        return _empty(title, "No segments")
    df = segments.sort_values(measure, ascending=False, kind="mergesort").head(top)
    df = df.iloc[::-1]  # plotly draws the first category at the bottom
    labels = _labels(df, criteria)
    fig = go.Figure()
    for flag, name, colour in ((True, "serviceable", PALETTE[0]), (False, "not serviceable",
                                                                    "#BBBBBB")):  # fmt: skip
        mask = (df["serviceable"] == flag).to_numpy()
        if not mask.any():
            continue
        part = df[mask]
        trace = go.Bar(
            name=name,
            orientation="h",
            x=part[measure].to_numpy(dtype="float64"),
            y=[lab for lab, m in zip(labels, mask, strict=True) if m],
            marker_color=colour,
            hovertemplate=(
                f"%{{y}}<br>{measure.upper()}: {money_hover('x', currency)} a year"
                f"<extra>{name.capitalize()}</extra>"
            ),
        )
        if f"{measure}_p10" in part.columns:
            p50 = part[measure].to_numpy(dtype="float64")
            trace.error_x = {
                "type": "data",
                "symmetric": False,
                "array": np.maximum(part[f"{measure}_p90"].to_numpy(dtype="float64") - p50, 0),
                "arrayminus": np.maximum(p50 - part[f"{measure}_p10"].to_numpy(dtype="float64"), 0),
                "color": "#555",
            }
        fig.add_trace(trace)
    fig.update_layout(barmode="overlay", legend_title_text="")
    fig.update_yaxes(
        categoryorder="array", categoryarray=labels, title_text=_criteria_title(criteria)
    )
    fig.update_xaxes(
        title_text=f"{measure.upper()} ({currency_code(currency)} a year)",
        tickprefix=currency_prefix(currency),
    )
    for trace in fig.data:  # legend entries in words: "Serviceable", "Not serviceable"
        trace.name = str(trace.name).capitalize()
    return styled(fig, title, height=max(360, 22 * len(df) + 120))


def _criteria_title(criteria: Sequence[str]) -> str:
    """ "Region / Industry": the criteria of a segment axis in words."""
    return " / ".join(column_title(c) for c in criteria) if criteria else "Segment"


def tornado_figure(
    tornado: pd.DataFrame, *, title: str = "What moves SOM", currency: str = "USD"
) -> go.Figure:
    """Tornado chart: for each assumption a bar from SOM at its low to SOM at its high value.

    Parameters
    ----------
    tornado : pandas.DataFrame
        :func:`segwork.market.sensitivity`: ``assumption, low, mode, high, som_low, som_base,
        som_high, swing`` sorted by swing (largest first, drawn on top).
    title : str, default "What moves SOM"
    currency : str, default "USD"
        The currency of SOM: tick prefix, hover and axis title ("SOM (EUR a year)").

    Returns
    -------
    plotly.graph_objects.Figure
        Traces "Assumption at its low" (x = som_low - som_base) and "Assumption at its high"
        (x = som_high - som_base), both with ``base = som_base``, so each bar spans SOM(low) ..
        SOM(high); a line marks the base SOM.  The assumptions are named in words
        (:data:`ASSUMPTION_NAMES`) and their values written as shares, amounts or counts.
    """
    if tornado.empty:
        return _empty(title, "No assumption is a range: nothing to rank")
    df = tornado.iloc[::-1]
    keys = [str(a) for a in df["assumption"]]
    names = [ASSUMPTION_NAMES.get(k, (column_title(k), ""))[0] for k in keys]
    base = df["som_base"].to_numpy(dtype="float64")
    fig = go.Figure()
    for end, colour in (("low", PALETTE[3]), ("high", PALETTE[0])):
        som = df[f"som_{end}"].to_numpy(dtype="float64")
        hover = [
            f"{name} at its {end} ({assumption_value(k, v, currency)})"
            for k, name, v in zip(keys, names, df[end].to_numpy(dtype="float64"), strict=True)
        ]
        fig.add_trace(
            go.Bar(
                name=f"Assumption at its {end}",
                orientation="h",
                y=names,
                x=som - base,
                base=base,
                marker_color=colour,
                customdata=np.column_stack([df[end].to_numpy(dtype="float64"), som]),
                hovertext=hover,
                hovertemplate=(
                    f"%{{hovertext}}<br>SOM {money_hover('customdata[1]', currency)} a year"
                    f"<br>SOM at the modes (dotted line) {money_hover('base', currency)}"
                    "<extra></extra>"
                ),
            )
        )
    fig.add_vline(x=float(base[0]), line_dash="dot", line_color="#333")
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(title_text="Assumption")
    fig.update_xaxes(
        title_text=f"SOM ({currency_code(currency)} a year)",
        tickprefix=currency_prefix(currency),
    )
    return styled(fig, title, height=max(300, 50 * len(df) + 150))


def penetration_figure(
    segments: pd.DataFrame,
    criteria: Sequence[str],
    *,
    top: int = 25,
    title: str | None = None,
) -> go.Figure:
    """Horizontal bars of penetration (customers / accounts) for the ``top`` segments.

    Parameters
    ----------
    segments : pandas.DataFrame
        ``Penetration.segments``: criteria, ``accounts, customers, penetration, ...``.
    criteria : sequence of str
        The criteria columns (bar labels).

    Returns
    -------
    plotly.graph_objects.Figure
        One trace "Penetration" (x = ``penetration``; ``customdata`` = customers, accounts).
    """
    title = title or f"Penetration by segment (top {top})"
    df = segments[segments["penetration"].notna()]
    if df.empty:
        return _empty(title, "No segment with accounts")
    df = df.sort_values("penetration", ascending=False, kind="mergesort").head(top).iloc[::-1]
    labels = _labels(df, criteria)
    fig = go.Figure(
        go.Bar(
            name="Penetration",
            orientation="h",
            x=df["penetration"].to_numpy(dtype="float64"),
            y=labels,
            marker_color=PALETTE[2],
            customdata=np.column_stack(
                [df["customers"].to_numpy(), df["accounts"].to_numpy(dtype="float64")]
            ),
            hovertemplate=(
                "%{y}<br>Penetration: %{x:.2%}<br>%{customdata[0]:,} customers of "
                "%{customdata[1]:,.0f} accounts<extra></extra>"
            ),
        )
    )
    fig.update_yaxes(
        categoryorder="array", categoryarray=labels, title_text=_criteria_title(criteria)
    )
    fig.update_xaxes(
        title_text="Penetration (customers, % of the accounts)", tickformat=".2~%",
        rangemode="tozero",
    )
    return styled(fig, title, height=max(360, 22 * len(df) + 120))
