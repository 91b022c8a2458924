"""Shared look of segwork figures: one template, one palette, explicit (no global plotly state)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from segwork.formatting import money_text
from segwork.labels import LABELS, column_title

__all__ = [
    "LABEL_FONT_SIZE", "PALETTE", "SEQUENTIAL", "axis_title", "money_ticks", "styled",
    "value_labels",
]  # fmt: skip

#: Qualitative colours for segments (colour-blind safe, Okabe-Ito order).
PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
)
#: Sequential scale for heat maps (retention: light = low, dark = high).
SEQUENTIAL = "Blues"


#: Trace types whose ``plotly_white`` defaults the segwork template carries (the ones segwork
#: draws, and the common ones a person adds to a returned figure).
_TEMPLATE_TRACES = (
    "bar", "scatter", "heatmap", "histogram", "box", "pie", "scattergl", "violin", "table",
)


@functools.lru_cache(maxsize=1)
def _template() -> go.layout.Template:
    """``plotly_white``'s layout and the defaults of :data:`_TEMPLATE_TRACES`, built once.

    The full template (defaults for 3-D, maps, ternary... traces) is copied and validated each
    time a figure takes it (23 ms a figure, a tenth of a page change) and sent to the browser
    with every figure; this one takes 6 ms and draws segwork's figures the same.  Read from
    ``plotly.io.templates`` without changing its default.
    """
    full = pio.templates["plotly_white"]
    return go.layout.Template(
        layout=full.layout, data={name: full.data[name] for name in _TEMPLATE_TRACES}
    )


#: Legends wider than this (px, estimated) stand at the right of the plot, not in a row above.
LEGEND_ROW_PX = 900


def styled(fig: go.Figure, title: str | None = None, *, height: int = 420) -> go.Figure:
    """Apply the segwork look to ``fig`` (in place) and return it.

    Uses the ``plotly_white`` template (its layout and common trace defaults) on the figure
    itself, never ``plotly.io.templates.default``, so importing or calling segwork changes no
    global plotting state.
    """
    fig.layout.template = _template()
    extra = {"title": {"text": title, "x": 0, "xanchor": "left"}} if title else {}
    fig.update_layout(
        colorway=list(PALETTE),
        height=height,
        margin={"l": 60, "r": 20, "t": 84 if title else 40, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
        **extra,
    )
    entries = [
        str(t.name) for t in fig.data
        if t.type in ("bar", "scatter") and t.showlegend is not False and t.name
    ]
    row_px = sum(40 + 7 * len(name) for name in entries)
    if row_px > LEGEND_ROW_PX and "yaxis2" not in fig.layout:
        # one row above the plot would wrap onto the title: a column at the right instead
        fig.update_layout(
            legend={"orientation": "v", "yanchor": "top", "y": 1, "xanchor": "left", "x": 1.02}
        )
    return fig


#: Size (px) of the value labels written on or beside bars and in heat-map cells: the smallest
#: text a stakeholder reads without zooming.
LABEL_FONT_SIZE = 12


def axis_title(name: str, currency: str | None = None, default: str | None = None) -> str:
    """The title of an axis, colour bar or legend showing column ``name``: the page vocabulary's
    title (:func:`segwork.labels.column_title`, money with the currency code) when it lists the
    name, else ``default`` (a title written for this figure), else the name in words.

    >>> axis_title("mrr", "EUR"), axis_title("repeat_rate", default="Repeat-purchase rate (%)")
    ('MRR (EUR)', 'Repeat-purchase rate (%)')
    >>> axis_title("plan_tier")
    'Plan tier'
    """
    if str(name).lower() in LABELS or default is None:
        return column_title(name, currency)
    return default


def value_labels(
    x: Sequence[Any], tops: Sequence[float], texts: Sequence[str], *, horizontal: bool = False
) -> list[dict[str, Any]]:
    """Annotations writing each bar's value just beyond the end of its interval (``tops``: the
    upper end of the error bar, or the bar's end when it has none; 0 when neither is finite).

    Error bars then never run through a label, whatever the interval's width; plotly includes
    annotations when it sizes the axis, so the labels are never cut off.

    >>> a = value_labels(["a", "b"], [0.03, float("nan")], ["2.5 %", "undefined"])
    >>> [(d["x"], d["y"], d["text"], d["yanchor"]) for d in a]
    [('a', 0.03, '2.5 %', 'bottom'), ('b', 0.0, 'undefined', 'bottom')]
    """
    out = []
    for xi, top, text in zip(x, tops, texts, strict=True):
        end = float(top) if top is not None and math.isfinite(float(top)) else 0.0
        pos: dict[str, Any] = (
            {"y": xi, "x": end, "xanchor": "left", "xshift": 4, "yanchor": "middle"}
            if horizontal
            else {"x": xi, "y": end, "yanchor": "bottom", "yshift": 3, "xanchor": "center"}
        )
        out.append(
            {
                **pos,
                "text": text,
                "showarrow": False,
                "xref": "x",
                "yref": "y",
                "name": "value label",
                "font": {"size": LABEL_FONT_SIZE, "color": "#333"},
            }
        )
    return out


def money_ticks(low: float, high: float, currency: str | None, n: int = 6) -> dict[str, Any]:
    """Axis settings with round money ticks from ``low`` to ``high`` written as the pages write
    amounts, the sign before the currency ("-$50k", never plotly's "$−50k").

    >>> t = money_ticks(-48_000, 99_000, "USD")
    >>> t["ticktext"]
    ['-$50k', '$0', '$50k', '$100k']
    """
    span = max(float(high) - float(low), 1e-9)
    raw = span / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(float(low) / step) * step
    vals = [first + i * step for i in range(math.ceil((float(high) - first) / step) + 1)]
    vals = [round(v, 9) for v in vals]
    return {
        "tickmode": "array",
        "tickvals": vals,
        "ticktext": [money_text(v, currency, short=True) for v in vals],
    }
