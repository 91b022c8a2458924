"""Interactive explorers (ipywidgets + plotly) for the segwork pages."""

from segwork.widgets.cohorts import CohortExplorer
from segwork.widgets.explorer import Explorer
from segwork.widgets.market import MarketExplorer
from segwork.widgets.params import Param
from segwork.widgets.segments import SegmentExplorer
from segwork.widgets.view import View

__all__ = ["CohortExplorer", "Explorer", "MarketExplorer", "Param", "SegmentExplorer", "View"]
