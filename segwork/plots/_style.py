"""Shared look of segwork figures: one template, one palette, explicit (no global plotly state)."""

from __future__ import annotations

import plotly.graph_objects as go

__all__ = ["PALETTE", "SEQUENTIAL", "styled"]

#: Qualitative colours for segments (colour-blind safe, Okabe-Ito order).
PALETTE: tuple[str, ...] = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
)
#: Sequential scale for heat maps (retention: light = low, dark = high).
SEQUENTIAL = "Blues"


def styled(fig: go.Figure, title: str | None = None, *, height: int = 420) -> go.Figure:
    """Apply the segwork look to ``fig`` (in place) and return it.

    Uses the ``plotly_white`` template on the figure itself, never ``plotly.io.templates.default``,
    so importing or calling segwork changes no global plotting state.
    """
    fig.update_layout(
        template="plotly_white",
        colorway=list(PALETTE),
        height=height,
        margin={"l": 60, "r": 20, "t": 60 if title else 30, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        font={"family": "Inter, Segoe UI, Helvetica, Arial, sans-serif", "size": 13},
    )
    if title:
        fig.update_layout(title={"text": title, "x": 0, "xanchor": "left"})
    return fig
