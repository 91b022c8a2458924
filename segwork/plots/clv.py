"""Figures of predicted customer value: the calibration/holdout check of the BG/NBD model.

DataFrame in (the ``by_frequency`` table of :func:`segwork.clv.clv_validation`), ``go.Figure``
out; nothing is computed here beyond picking columns.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from segwork.plots._style import PALETTE, styled

__all__ = ["clv_validation_figure"]

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
        Two bar traces, "actual" and "predicted", one bar per bucket in the table's order; the
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
    (['actual', 'predicted'], [0.25, 0.45, 3.2])
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
        fig.add_trace(
            go.Bar(
                x=labels,
                y=by_frequency[column].astype("float64").tolist(),
                name=column,
                marker_color=PALETTE[i],
                customdata=customers,
                hovertemplate=(
                    f"{column}: %{{y:.2f}}<br>calibration repeat purchases: %{{x}}"
                    "<br>customers: %{customdata:,}<extra></extra>"
                ),
            )
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text="repeat purchases in calibration", type="category")
    fig.update_yaxes(title_text="mean repeat purchases in holdout", rangemode="tozero")
    return styled(fig, title)
