"""Plotly figure builders: a DataFrame in, a ``go.Figure`` out; no metric computation here."""

from segwork.plots._style import PALETTE, styled

__all__ = ["PALETTE", "styled"]
