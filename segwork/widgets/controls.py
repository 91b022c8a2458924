"""The default widget of each kind of :class:`~segwork.widgets.params.Param`: date picker,
multi-select and dropdown showing words (the values stay what links and notebooks use), a number
box as wide as its words and its largest value, check box, text.  The pickers of a filter and of
bin edges are in :mod:`segwork.widgets.pickers`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from segwork.widgets.params import Param

__all__ = ["default_control", "plain_number", "text_width"]

#: The style of every control: the description takes the width of its words.
_STYLE = {"description_width": "initial"}


def text_width(label: str, chars: int, extra: str = "40px") -> str:
    """The CSS width of a control showing ``label`` and ``chars`` characters of value: the words
    and the value fit (``ch`` is the width of a digit; ``extra`` holds the box's padding, border
    and arrows).

    >>> text_width("Churn window (months)", 2)
    'calc(23ch + 40px)'
    """
    return f"calc({len(label) + chars}ch + {extra})"


def plain_number(v: float) -> str:
    """A number as a box shows it, without separators.

    >>> plain_number(36.0), plain_number(1_000_000), plain_number(0.01)
    ('36', '1000000', '0.01')
    """
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _number_chars(p: Param) -> int:
    """Characters of the largest value a number box of ``p`` shows (its bounds and default,
    with the decimals of its step for a float)."""
    values = [float(v) for v in (p.low, p.high, p.default) if isinstance(v, int | float)]
    chars = max((len(plain_number(round(v))) for v in values), default=6)
    if p.kind == "float":
        step = plain_number(p.step or 0.01)
        chars += 1 + (len(step.split(".")[1]) if "." in step else 0)
    return max(chars, 2)


def default_control(p: Param, choices: Callable[[str], Sequence[Any] | None]) -> widgets.Widget:
    """The widget that edits parameter ``p`` when its page makes none of its own.

    Dropdowns and multi-selects show each allowed value in words (:meth:`Param.option_text`)
    and keep the value itself; a number box is wide enough for its words and its largest value.

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
    >>> w = default_control(Param("window", 12, kind="int", low=1, high=36,
    ...                           label="Churn window (months)"), lambda name: None)
    >>> w.layout.width
    'calc(23ch + 40px)'
    >>> menu = default_control(Param("value", "pct", kind="choice", words={"pct": "Rates"}),
    ...                        lambda name: ["pct", "count"])
    >>> menu.options, menu.label
    ((('Rates', 'pct'), ('count', 'count')), 'Rates')
    """
    label = p.label or p.name.replace("_", " ").capitalize()
    if p.kind == "date":
        return widgets.DatePicker(description=label, style=_STYLE)
    if p.kind in ("multi", "choice"):
        options = [(p.option_text(v), v) for v in choices(p.name) or []]
        longest = max((len(text) for text, _ in options), default=8)
        if p.kind == "multi":
            return widgets.SelectMultiple(
                options=options,
                description=label,
                rows=min(8, max(3, len(options))),
                style=_STYLE,
                layout=widgets.Layout(width=text_width(label, longest, "48px")),
            )
        return widgets.Dropdown(
            options=options,
            description=label,
            style=_STYLE,
            layout=widgets.Layout(width=text_width(label, longest, "56px")),
        )
    # Not the Bounded* widgets: they clamp a typed value to their bounds without a word (a
    # gross margin of 0 silently became 0.01); out of range, Param.check says what is allowed.
    if p.kind in ("int", "float"):
        width = widgets.Layout(width=text_width(label, _number_chars(p)))
        if p.kind == "int":
            return widgets.IntText(
                description=label, step=int(p.step or 1), style=_STYLE, layout=width
            )
        return widgets.FloatText(description=label, step=p.step or 0.01, style=_STYLE, layout=width)
    if p.kind == "bool":
        return widgets.Checkbox(description=label, indent=False)
    return widgets.Text(
        description=label,
        style=_STYLE,
        continuous_update=False,
        placeholder='JSON, e.g. {"plan": ["pro"]}' if p.kind == "json" else "",
    )
