"""Market sizing figures: TAM/SAM/SOM funnel, segments, tornado, penetration.

DataFrame in (the tables of :mod:`segwork.market`), ``go.Figure`` out; nothing is computed here
beyond picking columns and the order of bars.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segwork.formatting import currency_code, currency_prefix, money_axis, money_hover
from segwork.plots._style import PALETTE, styled

__all__ = ["funnel_figure", "penetration_figure", "segments_figure", "tornado_figure"]


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
        axis title ("annual value (EUR)").

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
                f"%{{x}}: P50 {money('y')}<br>P10-P90 {money('customdata[2]')} - "
                f"{money('customdata[3]')}<br>at the modes {money('customdata[0]')}"
                f"<br>mean {money('customdata[1]')}<extra></extra>"
            ),
        )
    )
    fig.update_yaxes(
        title_text=money_axis("annual value", currency), tickprefix=currency_prefix(currency)
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
            hovertemplate=f"%{{y}}: {money_hover('x', currency)}<extra>{name}</extra>",
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
    fig.update_layout(barmode="overlay")
    fig.update_yaxes(categoryorder="array", categoryarray=labels)
    fig.update_xaxes(
        title_text=f"{measure.upper()} ({currency_code(currency)} a year)",
        tickprefix=currency_prefix(currency),
    )
    return styled(fig, title, height=max(360, 22 * len(df) + 120))


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
        Traces "low" (x = som_low - som_base) and "high" (x = som_high - som_base), both with
        ``base = som_base``, so each bar spans SOM(low) .. SOM(high); a line marks the base SOM.
    """
    if tornado.empty:
        return _empty(title, "No assumption is a range: nothing to rank")
    df = tornado.iloc[::-1]
    names = df["assumption"].tolist()
    base = df["som_base"].to_numpy(dtype="float64")
    fig = go.Figure()
    for end, colour in (("low", PALETTE[3]), ("high", PALETTE[0])):
        som = df[f"som_{end}"].to_numpy(dtype="float64")
        fig.add_trace(
            go.Bar(
                name=end,
                orientation="h",
                y=names,
                x=som - base,
                base=base,
                marker_color=colour,
                customdata=np.column_stack([df[end].to_numpy(dtype="float64"), som]),
                hovertemplate=(
                    f"%{{y}} at its {end} (%{{customdata[0]:,.4g}}): SOM "
                    f"{money_hover('customdata[1]', currency)}<extra></extra>"
                ),
            )
        )
    fig.add_vline(x=float(base[0]), line_dash="dot", line_color="#333")
    fig.update_layout(barmode="overlay")
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
        One trace "penetration" (x = ``penetration``; ``customdata`` = customers, accounts).
    """
    title = title or f"Penetration by segment (top {top})"
    df = segments[segments["penetration"].notna()]
    if df.empty:
        return _empty(title, "No segment with accounts")
    df = df.sort_values("penetration", ascending=False, kind="mergesort").head(top).iloc[::-1]
    labels = _labels(df, criteria)
    fig = go.Figure(
        go.Bar(
            name="penetration",
            orientation="h",
            x=df["penetration"].to_numpy(dtype="float64"),
            y=labels,
            marker_color=PALETTE[2],
            customdata=np.column_stack(
                [df["customers"].to_numpy(), df["accounts"].to_numpy(dtype="float64")]
            ),
            hovertemplate=(
                "%{y}: %{x:.3%} (%{customdata[0]:,} customers of %{customdata[1]:,.0f} "
                "accounts)<extra></extra>"
            ),
        )
    )
    fig.update_yaxes(categoryorder="array", categoryarray=labels)
    fig.update_xaxes(title_text="customers / accounts", tickformat=".2%")
    return styled(fig, title, height=max(360, 22 * len(df) + 120))
