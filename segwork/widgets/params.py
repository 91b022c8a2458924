"""The parameters of a page: :class:`Param` (one parameter, its value checked and put in its
JSON state form), the filter rule every page shares (:func:`check_filter`) and the page URL's
query read back into parameter values (:func:`parse_query`, the deep links of
:meth:`segwork.widgets.explorer.Explorer.url_query`).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

import pandas as pd

from segwork.engine import Data
from segwork.labels import label

__all__ = [
    "RANGE_KEYS",
    "Choices",
    "Kind",
    "Param",
    "Words",
    "check_filter",
    "criterion_text",
    "param_label",
    "parse_query",
]

Kind = Literal["date", "multi", "choice", "int", "float", "bool", "json", "text"]
Choices = Sequence[Any] | Callable[[Data], Sequence[Any]] | None
#: The words a control shows for an allowed value: a mapping (values not in it read as they
#: are) or a function of the value.
Words = Mapping[Any, str] | Callable[[Any], str] | None
#: The keys of a range in a filter: ``{"company_size": {"min": 10, "max": 250}}``.
RANGE_KEYS = ("min", "max")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T].*)?$")


@dataclass(frozen=True)
class Param:
    """One parameter of an explorer (and of its notebook).

    Parameters
    ----------
    name : str
        The parameter name (the notebook's papermill parameter of the same name).
    default : Any
        JSON-serialisable default; ``None`` makes the parameter optional.
    kind : {"date", "multi", "choice", "int", "float", "bool", "json", "text"}
        How values are validated and which default widget edits them.
    choices : sequence or callable(Dataset or Engine) -> sequence, optional
        Allowed values for ``choice`` and ``multi`` (a callable is resolved on the explorer's
        engine, which keeps what it queries).
    low, high, step : float, optional
        Bounds (inclusive) and widget step for ``int`` / ``float``.
    label, help : str
        Widget label and tooltip.
    section : str, optional
        The title of the :class:`View` section that alone uses this parameter (e.g. ``k`` of
        "Personas"): changing it opens that section, whose result is then what was asked for.
    words : mapping or callable, optional
        The words a ``choice`` or ``multi`` control shows for each allowed value
        (:meth:`option_text`); the state, links and notebooks keep the values themselves.

    Examples
    --------
    >>> p = Param("metric", "logo", kind="choice", choices=("logo", "nrr"),
    ...           words={"logo": "Logo retention"})
    >>> p.check("nrr"), p.option_text("logo"), p.option_text("nrr")
    ('nrr', 'Logo retention', 'nrr')
    """

    name: str
    default: Any
    kind: Kind = "text"
    choices: Choices = None
    low: float | None = None
    high: float | None = None
    step: float | None = None
    label: str | None = None
    help: str = ""
    section: str | None = None
    words: Words = None

    def option_text(self, value: Any) -> str:
        """The words shown for the allowed value ``value`` (the value itself when none are
        given; ``None`` reads "(none)")."""
        if callable(self.words):
            return str(self.words(value))
        if self.words is not None and value in self.words:
            return self.words[value]
        return "(none)" if value is None else str(value)

    @property
    def optional(self) -> bool:
        return self.default is None

    def check(self, value: Any, choices: Sequence[Any] | None = None) -> Any:
        """The value in its JSON state form, or a ValueError naming what is allowed."""
        name = self.name
        if value is None:
            if self.optional or self.kind in ("json",):
                return None
            what = "pick a date (YYYY-MM-DD)" if self.kind == "date" else "enter a value"
            raise ValueError(f"{name} must not be empty: {what}")
        kind = self.kind
        if kind == "date":
            if isinstance(value, str) and not value.strip() and self.optional:
                return None
            not_a_date = ValueError(f"{name}={value!r} is not a date (use YYYY-MM-DD)")
            if isinstance(value, str):
                if not _ISO_DATE.match(value.strip()):
                    raise not_a_date  # no guessing between 03/04 and 04/03
                try:
                    return dt.date.fromisoformat(value.strip()[:10]).isoformat()
                except ValueError as err:
                    raise not_a_date from err
            if isinstance(value, dt.datetime | pd.Timestamp):
                return value.strftime("%Y-%m-%d")
            if isinstance(value, dt.date):
                return value.isoformat()
            raise not_a_date
        if kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                try:
                    value = float(value)
                except (TypeError, ValueError) as err:
                    raise ValueError(f"{name} must be a number, got {value!r}") from err
            if kind == "int":
                if float(value) != int(value):
                    raise ValueError(f"{name} must be a whole number, got {value!r}")
                value = int(value)
            else:
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError(f"{name} must be finite, got {value!r}")
            too_low = self.low is not None and value < self.low
            too_high = self.high is not None and value > self.high
            if (too_low or too_high) and self.low is not None and self.high is not None:
                low, high = _bound(self.low), _bound(self.high)
                raise ValueError(f"{name} must be between {low} and {high}, got {value}")
            if too_low:
                raise ValueError(f"{name} must be at least {_bound(self.low)}, got {value}")
            if too_high:
                raise ValueError(f"{name} must be at most {_bound(self.high)}, got {value}")
            return value
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false, got {value!r}")
            return value
        if kind == "choice":
            allowed = list(choices if choices is not None else self._static_choices())
            if allowed and value not in allowed:
                raise ValueError(
                    f"{name}={value!r} is not allowed; choose one of: {_join(allowed)}"
                )
            return value
        if kind == "multi":
            values = [value] if isinstance(value, str) else list(value)
            allowed = list(choices if choices is not None else self._static_choices())
            bad = [v for v in values if allowed and v not in allowed]
            if bad:
                raise ValueError(f"{name}: {_join(bad)} not allowed; choose from: {_join(allowed)}")
            if len(set(values)) != len(values):
                raise ValueError(f"{name} lists a value twice: {values}")
            return values
        if kind == "json":
            if isinstance(value, str):
                text = value.strip()
                if not text:
                    return copy.deepcopy(self.default)
                try:
                    value = json.loads(text)
                except json.JSONDecodeError as err:
                    how = (
                        '; write a mapping like {"column": [values]}'
                        if isinstance(self.default, dict)
                        else ""
                    )
                    raise ValueError(
                        f"{name} is not valid JSON ({err.msg}): {text!r}{how}"
                    ) from err
            try:
                json.dumps(value)
            except TypeError as err:
                raise ValueError(f"{name} must be JSON-serialisable, got {value!r}") from err
            if isinstance(self.default, dict) and not isinstance(value, dict):
                raise ValueError(f'{name} must be a mapping like {{"column": [values]}}')
            return copy.deepcopy(value)
        return str(value)

    def _static_choices(self) -> Sequence[Any]:
        return self.choices if isinstance(self.choices, Sequence) else ()


def _bound(v: float | None) -> str:
    """A bound as people write it: 1000000 and 2147483647 in full, 0.01 and 1e+15 short."""
    if v is None:
        return "unbounded"
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e12 else f"{v:g}"


def _join(values: Sequence[Any]) -> str:
    return ", ".join(repr(v) for v in values)


def param_label(p: Param) -> str:
    """The name a page shows for parameter ``p``: its label, else its name.

    >>> param_label(Param("k", 4)), param_label(Param("k", 4, label="Personas"))
    ('k', 'Personas')
    """
    return p.label or p.name


def criterion_text(name: Any) -> str:
    """A criterion (a customer attribute, derived or not) in words, as a page's controls show it
    (:func:`segwork.labels.label`).

    >>> criterion_text("current_plan"), criterion_text("rfm_segment")
    ('Current plan', 'RFM segment')
    """
    return "(none)" if name is None else label(str(name)).text


def check_filter(name: str, mapping: Mapping[str, Any] | None) -> None:
    """A ValueError when the filter ``mapping`` cannot be right whatever the data.

    A filter maps a column to a value, a list of values, or for a numeric column a range
    ``{"min": a, "max": b}`` (both inclusive, either may be left out; docs/metrics.md
    "Segmentations and derived attributes").  An empty list matches nobody; a range needs at
    least one bound, finite numbers, and ``min <= max``.

    Examples
    --------
    >>> check_filter("where", {"plan": ["pro"], "company_size": {"min": 10, "max": 250}})
    >>> check_filter("where", {"company_size": {"min": 250, "max": 10}})
    Traceback (most recent call last):
    ...
    ValueError: where['company_size'] runs from 250 to 10: the smaller number comes first (as "min")
    """
    for column, values in (mapping or {}).items():
        if isinstance(values, list | tuple) and not values:
            raise ValueError(
                f"{name}[{column!r}] lists no value, so it matches nobody: list at least one "
                f'value (e.g. {{"{column}": ["..."]}}) or remove {column!r}'
            )
        if isinstance(values, Mapping):
            _check_range(f"{name}[{column!r}]", column, values)


def _check_range(what: str, column: str, bounds: Mapping[str, Any]) -> None:
    """Refuse a range that is not ``{"min": a, "max": b}`` of finite numbers with a <= b."""
    example = f'e.g. {{"{column}": {{"min": 10, "max": 250}}}}'
    other = sorted(str(k) for k in bounds if k not in RANGE_KEYS)
    if other or not bounds:
        why = f"has {', '.join(repr(k) for k in other)}" if other else "is empty"
        raise ValueError(
            f'{what} {why}: a range takes "min" and/or "max" ({example}), a list of values '
            'takes brackets (["a", "b"])'
        )
    for key, v in bounds.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"{what}: {key} must be a number, got {v!r} ({example})")
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        raise ValueError(
            f"{what} runs from {bounds['min']} to {bounds['max']}: the smaller number comes "
            'first (as "min")'
        )


def parse_query(query: str, allowed: Sequence[str]) -> dict[str, Any]:
    """URL query -> state changes: values are JSON when they parse as JSON, else plain text.

    Only the explorer's parameters are taken; other keys (e.g. Voila's own) are ignored.
    """
    out: dict[str, Any] = {}
    for key, text in parse_qsl(query.lstrip("?"), keep_blank_values=True):
        if key not in allowed:
            continue
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    return out
