"""Interactive explorers (ipywidgets + plotly) for the segwork pages."""

from segwork.widgets.base import Explorer, Param, View
from segwork.widgets.cohorts import CohortExplorer
from segwork.widgets.market import MarketExplorer
from segwork.widgets.segments import SegmentExplorer

__all__ = ["CohortExplorer", "Explorer", "MarketExplorer", "Param", "SegmentExplorer", "View"]
