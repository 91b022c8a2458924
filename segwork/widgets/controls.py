"""The default widget of each kind of :class:`~segwork.widgets.params.Param` (date picker,
multi-select, dropdown, number, check box, text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from segwork.widgets.params import Param

__all__ = ["default_control"]


def default_control(p: Param, choices: Callable[[str], Sequence[Any] | None]) -> widgets.Widget:
    """The widget that edits parameter ``p`` when its page makes none of its own.

    Parameters
    ----------
    p : Param
        The parameter; its ``kind`` picks the widget, its ``label`` (else its name) labels it.
    choices : callable(str) -> sequence or None
        The allowed values of a parameter by name (:meth:`Explorer.choices`), for ``choice`` and
        ``multi`` parameters.

    Returns
    -------
    ipywidgets.Widget
        The widget, its value not set yet.

    Examples
    --------
    >>> default_control(Param("k", 4, kind="int"), lambda name: None).description
    'K'
    """
    label = p.label or p.name.replace("_", " ").capitalize()
    style = {"description_width": "initial"}
    if p.kind == "date":
        return widgets.DatePicker(description=label, style=style)
    if p.kind == "multi":
        return widgets.SelectMultiple(
            options=list(choices(p.name) or []),
            description=label,
            rows=min(8, max(3, len(choices(p.name) or []))),
            style=style,
        )
    if p.kind == "choice":
        return widgets.Dropdown(options=list(choices(p.name) or []), description=label, style=style)
    # Not the Bounded* widgets: they clamp a typed value to their bounds without a word (a
    # gross margin of 0 silently became 0.01); out of range, Param.check says what is allowed.
    if p.kind == "int":
        return widgets.IntText(
            description=label,
            step=int(p.step or 1),
            style=style,
            layout=widgets.Layout(width="200px"),
        )
    if p.kind == "float":
        return widgets.FloatText(
            description=label,
            step=p.step or 0.01,
            style=style,
            layout=widgets.Layout(width="220px"),
        )
    if p.kind == "bool":
        return widgets.Checkbox(description=label, indent=False)
    return widgets.Text(
        description=label,
        style=style,
        continuous_update=False,
        placeholder='JSON, e.g. {"plan": ["pro"]}' if p.kind == "json" else "",
    )
