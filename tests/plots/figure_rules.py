"""What a stakeholder reads on a figure, checked on any ``go.Figure``: titles and hover text in
words (no ``snake_case`` column name), money titles naming the currency, numbers in the hover
formatted (no scientific notation, no raw float).

Used by ``test_readable.py`` on every figure the pages draw from the sample data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import plotly.graph_objects as go

#: Words that make a title an amount of money: it must then name the currency code.
MONEY_WORDS = re.compile(r"\b(MRR|LTV|CLV|ARPA|revenue|value|TAM|SAM|SOM|amount)\b", re.I)
#: Placeholders of a hover template: ``%{ref}`` or ``%{ref:format}`` / ``%{ref|date format}``.
PLACEHOLDER = re.compile(r"%\{([^}:|]+)([:|][^}]*)?\}")
#: Number formats that can write scientific notation or SI suffixes ("1e+06", "1.5G").
SCIENTIFIC = re.compile(r"[egs]$")


def titles(fig: go.Figure) -> Iterator[tuple[str, str]]:
    """(where, text) of every axis, legend and colour-bar title of ``fig``."""
    layout = fig.layout
    for name in dir(layout):
        if re.fullmatch(r"[xy]axis\d*", name):
            axis = getattr(layout, name)
            if axis is not None and axis.title is not None and axis.title.text:
                yield name, axis.title.text
    if layout.legend is not None and layout.legend.title is not None and layout.legend.title.text:
        yield "legend", layout.legend.title.text
    if layout.coloraxis is not None and layout.coloraxis.colorbar.title.text:
        yield "coloraxis", layout.coloraxis.colorbar.title.text
    for i, trace in enumerate(fig.data):
        bar = getattr(trace, "colorbar", None)
        if bar is not None and bar.title is not None and bar.title.text:
            yield f"trace {i} colorbar", bar.title.text


def axes_without_title(fig: go.Figure) -> list[str]:
    """The visible axes that carry data but no title."""
    used = {getattr(t, "xaxis", None) or "x" for t in fig.data} | {
        getattr(t, "yaxis", None) or "y" for t in fig.data
    }
    out = []
    for ref in sorted(used):
        axis = fig.layout[f"{ref[0]}axis{ref[1:]}"]
        if axis.visible is False:
            continue
        if axis.title is None or not axis.title.text:
            out.append(ref)
    return out


def _values(trace: Any, ref: str) -> Any:
    m = re.fullmatch(r"customdata\[(\d+)\]", ref)
    if m:
        data = np.asarray(trace.customdata, dtype=object)
        return data[..., int(m.group(1))] if data.ndim >= 2 else data
    if ref in ("x", "y", "z", "customdata", "text", "hovertext", "base"):
        return getattr(trace, ref, None)
    return None


def _numeric(values: Any) -> bool:
    """Whether ``values`` hold a number plotly would write unformatted badly: a non-integral
    float (whole numbers such as ages read as they are)."""
    flat = np.asarray(values if values is not None else [], dtype=object).ravel()
    return any(
        isinstance(v, float | np.floating) and np.isfinite(v) and float(v) != round(float(v))
        for v in flat
    )


def hover_problems(fig: go.Figure) -> list[str]:
    """What is wrong with the hover of each trace: a ``_`` (a column name), a line not starting
    as words do, a number without a format or with a scientific one."""
    problems = []
    for i, trace in enumerate(fig.data):
        if getattr(trace, "hoverinfo", None) == "skip":
            continue
        template = getattr(trace, "hovertemplate", None)
        if not template:
            problems.append(f"trace {i} ({trace.name}): no hovertemplate")
            continue
        texts = [str(t) for t in np.asarray(trace.hovertext or [], dtype=object).ravel()]
        texts += [str(t) for t in np.asarray(trace.customdata, dtype=object).ravel()
                  if isinstance(t, str)] if trace.customdata is not None else []
        words = PLACEHOLDER.sub("", template)
        for text in [words, *texts]:
            if "_" in text:
                problems.append(f"trace {i} ({trace.name}): '_' in hover {text!r}")
        for ref, fmt in PLACEHOLDER.findall(template):
            values = _values(trace, ref)
            if fmt.startswith(":") and SCIENTIFIC.search(fmt):
                problems.append(f"trace {i} ({trace.name}): %{{{ref}{fmt}}} can be scientific")
            if not fmt and _numeric(values) and ref != "customdata":
                problems.append(f"trace {i} ({trace.name}): %{{{ref}}} has no number format")
            if not fmt and ref == "customdata" and _numeric(values):
                problems.append(f"trace {i} ({trace.name}): %{{customdata}} has no format")
        body = template.split("<extra>")[0]
        for line in re.split(r"<br>", body):
            line = re.sub(r"</?b>", "", line).strip()
            if line and not re.match(r"[A-Z0-9%(+\-$€£¥]", line):
                problems.append(f"trace {i} ({trace.name}): hover line {line!r} not in words")
    return problems


def title_problems(fig: go.Figure, currency: str) -> list[str]:
    """Titles with a ``_``, starting in lower case, or naming money without ``currency``."""
    problems = [f"{ref}: no title" for ref in axes_without_title(fig)]
    for where, text in titles(fig):
        if "_" in text:
            problems.append(f"{where}: '_' in {text!r}")
        if text[:1].islower():
            problems.append(f"{where}: {text!r} starts in lower case")
        lower = text.lower()
        money = MONEY_WORDS.search(text) and "%" not in text and not (
            "share" in lower or "ratio" in lower
        )
        if money and currency not in text:
            problems.append(f"{where}: money title {text!r} does not name {currency}")
    return problems


def problems(fig: go.Figure, currency: str = "USD") -> list[str]:
    """Every problem :func:`title_problems` and :func:`hover_problems` find."""
    return title_problems(fig, currency) + hover_problems(fig)
