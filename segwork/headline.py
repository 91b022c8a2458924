"""The MIME type of a page's headline figures, shared by the pages and the report.

A page (:class:`segwork.widgets.explorer.Explorer`) attaches its headline figures to its display
output under :data:`HEADLINE_MIME`; the report (:mod:`segwork.report`) collects them into
``metrics.json``.  A module of its own so that a headless report does not import the widgets
(ipywidgets) for the constant.
"""

from __future__ import annotations

__all__ = ["HEADLINE_MIME"]

#: MIME type under which an explorer's headline figures are attached to its display output.
HEADLINE_MIME = "application/vnd.segwork.headline+json"
