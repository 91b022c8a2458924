"""Interactive explorers (ipywidgets + plotly) for the segwork pages."""

from segwork.widgets.base import Explorer, Param, View

__all__ = ["Explorer", "Param", "View"]
