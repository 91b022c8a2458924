"""Figures of predicted customer value: the calibration/holdout check of the BG/NBD model, and the
segmentation page's figures on shop data (revenue share, repeat rate, predicted CLV by segment,
the distribution of predicted CLV or P(alive)).

DataFrame in (the ``by_frequency`` table of :func:`segwork.clv.clv_validation`, the e-commerce
segment table of :func:`segwork.segment_table`, the per-customer predictions), ``go.Figure`` out;
nothing is computed here beyond picking columns and binning for a histogram.  Small segments are
drawn grey and hatched, as on the subscription figures.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from segwork.formatting import currency_prefix, money_axis, money_text
from segwork.plots._style import PALETTE, axis_title, styled
from segwork.plots.segments import (
    interval_bar,
    interval_labels,
    segment_axis_title,
    segment_bar,
    share_chart,
)

__all__ = [
    "clv_distribution_figure",
    "clv_validation_figure",
    "repeat_rate_chart",
    "revenue_share_chart",
    "segment_clv_chart",
]

_NEEDED = ("frequency", "customers", "actual", "predicted")


def clv_validation_figure(
    by_frequency: pd.DataFrame,
    *,
    title: str = "Repeat purchases in the holdout: actual vs predicted",
) -> go.Figure:
    """Grouped bars of actual and predicted mean holdout purchases per calibration frequency.

    Parameters
    ----------
    by_frequency : pandas.DataFrame
        The ``by_frequency`` table of :func:`segwork.clv.clv_validation`: ``frequency`` (bucket
        label), ``customers``, ``actual`` and ``predicted`` (means per customer).
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        Two bar traces, "Actual" and "Predicted", one bar per bucket in the table's order; the
        bucket's number of customers on hover.

    Raises
    ------
    ValueError
        A column of the table is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from segwork.plots.clv import clv_validation_figure
    >>> t = pd.DataFrame({"frequency": ["0", "1", "7+"], "customers": [50, 20, 5],
    ...     "actual": [0.2, 0.5, 3.0], "predicted": [0.25, 0.45, 3.2]})
    >>> fig = clv_validation_figure(t)
    >>> [tr.name for tr in fig.data], list(fig.data[1].y)
    (['Actual', 'Predicted'], [0.25, 0.45, 3.2])
    """
    missing = [c for c in _NEEDED if c not in by_frequency.columns]
    if missing:
        raise ValueError(
            f"expected a clv_validation().by_frequency table; missing column(s) "
            f"{', '.join(missing)} (columns are {list(by_frequency.columns)})"
        )
    labels = [str(v) for v in by_frequency["frequency"]]
    customers = by_frequency["customers"].to_numpy()
    fig = go.Figure()
    for i, column in enumerate(("actual", "predicted")):
        name = column.capitalize()
        fig.add_trace(
            go.Bar(
                x=labels,
                y=by_frequency[column].astype("float64").tolist(),
                name=name,
                marker_color=PALETTE[i],
                customdata=customers,
                hovertemplate=(
                    f"{name}: %{{y:.2f}} repeat purchases per customer in the holdout"
                    "<br>Repeat purchases in calibration: %{x}"
                    "<br>Customers: %{customdata:,}<extra></extra>"
                ),
            )
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="Repeat purchases in the calibration period", type="category")
    fig.update_yaxes(
        title_text="Repeat purchases per customer in the holdout (mean)", rangemode="tozero"
    )
    return styled(fig, title)


def revenue_share_chart(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """Grouped bars per segment of an e-commerce segment table: share of customers vs share of
    revenue in the order window (:func:`segwork.plots.segments.share_chart` of revenue).

    >>> t = pd.DataFrame({"country": ["DE", "FR"], "customers": [40, 10],
    ...     "customers_share": [0.8, 0.2], "revenue_share": [0.6, 0.4],
    ...     "small_segment": [False, True]})
    >>> t.attrs["window_months"] = 12
    >>> revenue_share_chart(t).layout.title.text
    'Share of customers vs share of revenue by segment (orders of the last 12 months)'
    """
    return share_chart(table, title, of="revenue")


def repeat_rate_chart(table: pd.DataFrame, title: str | None = None) -> go.Figure:
    """The repeat-purchase rate per segment with its Wilson interval as error bars, each value
    written above its interval.

    >>> t = pd.DataFrame({"rfm_segment": ["Loyal"], "customers": [50], "repeat_rate": [0.5],
    ...     "repeat_rate_low": [0.4], "repeat_rate_high": [0.6], "small_segment": [False]})
    >>> repeat_rate_chart(t).data[0].y.tolist()
    [0.5]
    """
    bar = interval_bar(
        table,
        "repeat_rate",
        "Repeat-purchase rate",
        PALETTE[2],
        "Repeat-purchase rate",
        unit=" of customers bought on 2+ days",
    )
    fig = go.Figure(bar)
    conf = table.attrs.get("confidence", 0.95)
    title_y = axis_title("repeat_rate", default="Repeat-purchase rate (% of customers)")
    fig.update_layout(
        yaxis={"tickformat": ".0%", "title": title_y, "rangemode": "tozero"},
        xaxis={"title": segment_axis_title(table)},
        showlegend=False,
        annotations=interval_labels(bar),
    )
    return styled(
        fig,
        title
        or f"Repeat-purchase rate by segment ({float(conf):.0%} Wilson interval)".replace(
            "%", " %"
        ),
    )


def segment_clv_chart(
    table: pd.DataFrame, title: str | None = None, *, currency: str = "USD"
) -> go.Figure:
    """Mean predicted CLV per customer by segment (bars), with the mean P(alive) on hover.

    The horizon, discount rate and gross margin (``table.attrs``) are stated in the title; a
    segment without a prediction has no bar and reads "no prediction".

    >>> t = pd.DataFrame({"country": ["DE"], "customers": [50], "mean_clv": [120.0],
    ...     "total_clv": [6000.0], "mean_p_alive": [0.8], "small_segment": [False]})
    >>> t.attrs.update(horizon_months=12, gross_margin=1.0, discount_rate=0.01)
    >>> segment_clv_chart(t, currency="EUR").data[0].text
    ('€120',)
    """
    mean = table["mean_clv"].to_numpy(dtype=float)
    total = table["total_clv"].to_numpy(dtype=float)
    alive = table["mean_p_alive"].to_numpy(dtype=float)
    text = [
        money_text(v, currency, short=True) if np.isfinite(v) else "no prediction" for v in mean
    ]
    hover = [
        f"Predicted CLV per customer: {money_text(m, currency)}"
        f"<br>Predicted CLV of the segment: {money_text(t, currency, short=True)}"
        f"<br>Chance still active, P(alive): {a:.0%}".replace("%", " %")
        if np.isfinite(m)
        else "no prediction"
        for m, t, a in zip(mean, total, alive, strict=True)
    ]
    fig = go.Figure(
        segment_bar(table, "Mean predicted CLV", mean, text, hover, textposition="outside")
    )
    fig.update_layout(
        yaxis={
            "title": axis_title(
                "mean_clv", currency, money_axis("Predicted CLV per customer", currency)
            ),
            "tickprefix": currency_prefix(currency),
            "rangemode": "tozero",
        },
        xaxis={"title": segment_axis_title(table)},
        showlegend=False,
    )
    return styled(
        fig, title or f"Predicted CLV per customer by segment ({_clv_terms(table.attrs)})"
    )


def _clv_terms(attrs: dict[str, Any]) -> str:
    """ "next 12 months, gross margin 100 %, 1 %/month discount" from a table's attrs."""
    parts = []
    if attrs.get("horizon_months") is not None:
        parts.append(f"next {int(attrs['horizon_months'])} months")
    if attrs.get("gross_margin") is not None:
        parts.append(f"gross margin {float(attrs['gross_margin']):.0%}".replace("%", " %"))
    if attrs.get("discount_rate") is not None:
        parts.append(f"{float(attrs['discount_rate']):.0%}/month discount".replace("%", " %"))
    return ", ".join(parts) or "terms not stated"


def clv_distribution_figure(
    predictions: pd.DataFrame,
    title: str | None = None,
    *,
    currency: str = "USD",
    bins: int = 40,
) -> go.Figure:
    """Histogram of the customers' predicted CLV, or of their P(alive) when no CLV is known.

    ``predictions`` has ``clv`` and ``p_alive`` per customer (:func:`segwork.clv.predict_clv`,
    :func:`segwork.metrics.predictions.customer_predictions`).  When every ``clv`` is missing (the
    order-value model failed) the histogram is of ``p_alive``, and the title says so.  The CLV
    axis is cut at the 99th percentile (customers above it counted in the last bar, said in
    the title) so that a few very large values do not flatten the picture.

    >>> p = pd.DataFrame({"clv": [10.0, 20.0, 30.0], "p_alive": [0.2, 0.5, 0.9]})
    >>> clv_distribution_figure(p).data[0].name
    'Customers'
    >>> clv_distribution_figure(p.assign(clv=float("nan"))).layout.xaxis.title.text
    'P(alive)'
    """
    clv = pd.to_numeric(predictions["clv"], errors="coerce").to_numpy(dtype=float)
    clv = clv[np.isfinite(clv)]
    fig = go.Figure()
    if len(clv):
        cap = float(np.quantile(clv, 0.99))
        above = int((clv > cap).sum())
        shown = np.minimum(clv, cap)
        counts, edges = np.histogram(shown, bins=bins)
        what = f"Distribution of predicted CLV ({len(clv):,} customers"
        what += f"; {above:,} above {money_text(cap, currency, short=True)} in the last bar)"
        what = what if above else what.split(";")[0] + ")"
        xaxis = {
            "title": axis_title("clv", currency, money_axis("Predicted CLV", currency)),
            "tickprefix": currency_prefix(currency),
        }
        bins_text = [
            f"Predicted CLV {money_text(lo, currency)} – {money_text(hi, currency)}"
            + (" and above" if above and k == len(edges) - 2 else "")
            for k, (lo, hi) in enumerate(itertools.pairwise(edges))
        ]
    else:
        alive = pd.to_numeric(predictions["p_alive"], errors="coerce").to_numpy(dtype=float)
        alive = alive[np.isfinite(alive)]
        counts, edges = np.histogram(alive, bins=20, range=(0.0, 1.0))
        what = f"Distribution of P(alive) ({len(alive):,} customers; no CLV prediction)"
        xaxis = {"title": "P(alive)", "tickformat": ".0%"}
        bins_text = [
            f"P(alive) {lo:.0%} – {hi:.0%}".replace("%", " %")
            for lo, hi in itertools.pairwise(edges)
        ]
    centres = (edges[:-1] + edges[1:]) / 2
    fig.add_trace(
        go.Bar(
            name="Customers",
            x=centres,
            y=counts,
            width=np.diff(edges),
            marker_color=PALETTE[0],
            hovertext=bins_text,
            hovertemplate="%{hovertext}<br>Customers: %{y:,}<extra></extra>",
        )
    )
    fig.update_layout(
        xaxis=xaxis, yaxis={"title": "Customers"}, showlegend=False, bargap=0.02
    )
    return styled(fig, title or what)
