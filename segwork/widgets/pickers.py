"""The pickers of a page's mappings, built from the column's values: the filter
(:class:`FilterPicker`: a multi-select of a category column's values, a range of a numeric one)
and the bin edges of numeric criteria (:class:`BinsPicker`), with :func:`column_values` (what a
column offers).

A picker's ``value`` is the JSON form of its parameter, the form of page links and notebook
parameters (``{"country": ["DE"], "company_size": {"min": 10, "max": 250}}``): the page reads and
sets it as it would a JSON box, and the picker shows it as rows.  A value the rows cannot show (a
list of values of a numeric column, a column the data does not have, text that is not JSON) is
shown as JSON, never dropped; a row writes back exactly what it was given until it is edited.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ipywidgets as widgets
import pandas as pd
import traitlets

from segwork.data.dates import to_date
from segwork.engine import Data, engine_for
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.ecommerce import ALIVE_BAND_EDGES, SHOP_ATTRIBUTES, clv_band_edges
from segwork.metrics.predictions import customer_predictions
from segwork.metrics.segments import segment_table
from segwork.widgets.controls import plain_number, text_width
from segwork.widgets.params import RANGE_KEYS

__all__ = [
    "MAX_OPTIONS",
    "BinsPicker",
    "ColumnValues",
    "FilterPicker",
    "column_values",
    "numeric_columns",
]

#: A category column lists at most this many values in its picker (the first, in order).
MAX_OPTIONS = 500


# -- the values of a column ------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnValues:
    """What a picker offers for one column: its values (a category) or its range (a number).

    Attributes
    ----------
    name : str
        The column (a criterion of the page).
    values : tuple
        A category column's values in order, missing ones left out (at most :data:`MAX_OPTIONS`;
        ``truncated`` says when there are more).
    low, high : float or None
        A numeric column's smallest and largest value (None for a category column).
    integer : bool
        Whether the numeric column holds whole numbers.
    edges : tuple of float
        Suggested bin edges: the quartiles rounded to two significant figures (equal ones merged),
        or a criterion's default band edges.
    truncated : bool
        Whether the category column has more values than ``values`` lists.

    Examples
    --------
    >>> ColumnValues("plan", values=("pro", "starter")).numeric
    False
    >>> ColumnValues("company_size", low=1, high=8192, integer=True).numeric
    True
    """

    name: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False
    edges: tuple[float, ...] = ()
    truncated: bool = False

    @property
    def numeric(self) -> bool:
        """Whether the column is a number (a range picker; bin edges apply)."""
        return self.low is not None and self.high is not None


def numeric_columns(data: Data) -> list[str]:
    """The numeric columns of ``customers`` (booleans and the id aside): the columns a range
    filter and bin edges apply to.

    >>> import segwork
    >>> numeric_columns(segwork.load_sample())
    ['company_size']
    """
    schema = engine_for(data).data.table("customers").schema()
    return [
        name
        for name, kind in schema.items()
        if kind.is_numeric() and name not in ("customer_id", "signup_date")
    ]


def _python(v: Any) -> Any:
    """A value of a pandas column as plain Python (JSON-serialisable)."""
    return v.item() if hasattr(v, "item") else v


def _two_figures(v: float) -> float:
    """``v`` rounded to two significant figures (1234.5 -> 1200.0)."""
    return float(f"{v:.2g}") if math.isfinite(v) and v != 0 else float(v)


def _quartile_edges(q: Sequence[float], low: float, high: float, integer: bool) -> tuple[Any, ...]:
    """Quartiles as bin edges: two significant figures, inside (low, high), distinct, sorted."""
    edges = sorted({_two_figures(v) for v in q if pd.notna(v) and low < _two_figures(v) < high})
    return tuple(int(e) if integer and float(e).is_integer() else e for e in edges)


def column_values(data: Data, name: str, as_of: Any, *, numbers: bool = False) -> ColumnValues:
    """The values a picker offers for criterion ``name`` at ``as_of``.

    A numeric column of ``customers`` gives its range and suggested bin edges (its quartiles,
    two significant figures); any other criterion its values: a customers column over all
    customers, a derived criterion (``current_plan``, ``lifecycle_stage``, ...) over the
    population at ``as_of`` (docs/metrics.md "Segmentations and derived attributes").  With
    ``numbers=True`` the bands of shop data (``clv_band``, ``alive_band``) give the range and
    default edges of the number they cut (predicted CLV, P(alive); docs/metrics.md "Predicted
    customer value").

    Parameters
    ----------
    data : Dataset or Engine
    name : str
        A criterion of the page (:func:`segwork.available_attributes`, the bands of shop data).
    as_of : date or str
        The page's as_of (derived criteria depend on it).
    numbers : bool, default False
        The bands' numbers rather than their labels (for bin edges).

    Returns
    -------
    ColumnValues

    Examples
    --------
    >>> import segwork
    >>> data = segwork.load_sample()
    >>> column_values(data, "billing_interval", "2024-12-31").values
    ('annual', 'monthly')
    >>> size = column_values(data, "company_size", "2024-12-31")
    >>> size.low, size.high, size.integer, size.edges
    (1, 8192, True, (7, 19, 60))
    """
    eng = engine_for(data)
    if numbers and name == "alive_band":
        return ColumnValues(name, low=0.0, high=1.0, edges=tuple(ALIVE_BAND_EDGES))
    if numbers and name == "clv_band":
        clv = customer_predictions(eng, as_of)["clv"].astype(float)
        clv = clv[clv.notna()]
        if clv.empty:
            return ColumnValues(name)
        return ColumnValues(
            name, low=float(clv.min()), high=float(clv.max()), edges=tuple(clv_band_edges(clv))
        )
    customers = eng.data.table("customers")
    if name in SHOP_ATTRIBUTES:  # the bands and products of shop data: the page's segments
        seg = segment_table(eng, [name], as_of)[name]
        found = sorted({_python(v) for v in seg if pd.notna(v)}, key=str)
        return ColumnValues(
            name, values=tuple(found[:MAX_OPTIONS]), truncated=len(found) > MAX_OPTIONS
        )
    if name in customers.columns:
        table = customers
        kind = customers[name].type()
        if kind.is_numeric():  # booleans are not
            col = customers[name]
            row = (
                customers.aggregate(
                    low=col.min(),
                    high=col.max(),
                    q1=col.quantile(0.25),
                    q2=col.quantile(0.5),
                    q3=col.quantile(0.75),
                )
                .to_pandas()
                .iloc[0]
            )
            if pd.notna(row["low"]) and pd.notna(row["high"]):
                integer = kind.is_integer()
                low, high = (int(row[k]) if integer else float(row[k]) for k in ("low", "high"))
                quartiles = [float(row[q]) for q in ("q1", "q2", "q3")]
                return ColumnValues(
                    name,
                    low=low,
                    high=high,
                    integer=integer,
                    edges=_quartile_edges(quartiles, float(low), float(high), integer),
                )
    else:
        table, _ = customer_attributes(eng, to_date(as_of), [name])
    got = (
        table.select(name)
        .filter(table[name].notnull())
        .distinct()
        .order_by(name)
        .limit(MAX_OPTIONS + 1)
        .to_pandas()[name]
    )
    values = tuple(_python(v) for v in got)
    return ColumnValues(name, values=values[:MAX_OPTIONS], truncated=len(values) > MAX_OPTIONS)


# -- the pickers -----------------------------------------------------------------------------------
class _Unshowable(Exception):
    """A value the rows of a picker cannot show (it is shown as JSON instead)."""


#: A row added in the page and not changed yet: it is not part of the value.
_NEW: Any = object()


def _number_text(v: float) -> str:
    """A bound or an edge in a hint: 8,192, 0.25, 1,234.5."""
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.6g}"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _word(v: Any) -> str:
    """A category value in words: yes / no for a flag, the value otherwise."""
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


class _Row:
    """One column of a picker: its name, its editor, a remove button.

    ``original`` is the value the row was given (kept as it is until the row is edited, so the
    rows write back exactly what they were given); ``read`` reads the editor.
    """

    def __init__(
        self,
        column: str,
        label: str,
        editor: widgets.Widget,
        watched: Sequence[widgets.Widget],
        read: Callable[[], Any],
        original: Any,
    ) -> None:
        self.column = column
        self.read = read
        self.original = original
        self.edited = False
        self.wired = False  # whether the picker listens to its editor
        self.watched = list(watched)
        self.remove = widgets.Button(
            icon="times",
            tooltip=f"Remove {label}",
            layout=widgets.Layout(width="32px", padding="0"),
        )
        name = widgets.HTML(
            f"<b>{html.escape(label)}</b>", layout=widgets.Layout(min_width="9em", margin="0 6px")
        )
        self.box = widgets.HBox(
            [name, editor, self.remove], layout=widgets.Layout(align_items="center")
        )

    def current(self) -> Any:
        """The row's value: as given until edited, then as its editor shows it."""
        return self.read() if self.edited else self.original


class _MappingPicker(widgets.VBox):
    """A ``{column: ...}`` parameter as rows, one per column, and its JSON form (``value``)."""

    #: The JSON form of the parameter (links, notebook parameters): what the page reads and sets.
    value = traitlets.Unicode("{}")
    #: The hover help (kept here and shown on the title: a box has no description, and a box's
    #: own tooltip breaks its view in ipywidgets 8).
    tooltip = traitlets.Unicode(None, allow_none=True)

    #: Said when there is no row.
    empty_text = ""
    #: The first entry of the "add" menu.
    add_text = "Add…"

    def __init__(
        self,
        description: str,
        columns: Sequence[tuple[str, str]],
        describe: Callable[[str], ColumnValues],
        *,
        placeholder: str = "",
    ) -> None:
        self.description = description
        self._labels = {value: label for label, value in columns}
        self._describe = describe
        self._rows: list[_Row] = []
        self._emitted: str | None = None
        self._quiet = False
        self._add = widgets.Dropdown(layout=widgets.Layout(width="auto"))
        self._toggle = widgets.ToggleButton(
            description="JSON",
            tooltip="The value as JSON, the form of page links and notebook parameters",
            layout=widgets.Layout(width="auto"),
        )
        self._json = widgets.Text(
            placeholder=placeholder,
            continuous_update=False,
            layout=widgets.Layout(width="28em", display="none"),
        )
        self._note = widgets.HTML()
        self._body = widgets.VBox()
        self._title = widgets.HTML(f"<b>{html.escape(description)}</b>")
        head = widgets.HBox(
            [self._title, self._add, self._toggle],
            layout=widgets.Layout(align_items="center", grid_gap="8px"),
        )
        super().__init__(
            [head, self._body, self._json, self._note],
            layout=widgets.Layout(
                border="1px solid #e0e0e0", padding="2px 8px", margin="2px 8px 4px 0"
            ),
        )
        self._add.observe(self._on_add, names="value")
        self._toggle.observe(self._on_toggle, names="value")
        self._json.observe(self._on_json, names="value")
        self.observe(self._on_value, names="value")
        self.observe(self._on_tooltip, names="tooltip")
        self._show(self.value)

    # -- to define in a subclass -------------------------------------------------------------------
    def _row(self, column: str, value: Any) -> _Row:  # pragma: no cover - abstract
        """The row showing ``value`` of ``column`` (``_NEW``: a row just added); raise
        ``_Unshowable`` (why, in words) when the rows cannot show it."""
        raise NotImplementedError

    # -- the value -------------------------------------------------------------------------------
    @property
    def mapping(self) -> dict[str, Any] | None:
        """The value as a mapping (None when it is not a JSON mapping)."""
        try:
            value = json.loads(self.value or "{}")
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    @property
    def shown_as_json(self) -> bool:
        """Whether the value is shown as JSON (asked for, or the rows cannot show it)."""
        return self._json.layout.display != "none"

    def _on_value(self, change: dict[str, Any]) -> None:
        if change["new"] == self._emitted:  # written by the rows: they show it already
            self._emitted = None
            return
        self._emitted = None
        self._show(change["new"])

    def _show(self, text: str) -> None:
        """Rows for the value ``text`` (or the JSON box, with why, when they cannot show it)."""
        self._set_quietly(self._json, text)
        try:
            try:
                value = json.loads(text) if text.strip() else {}
            except json.JSONDecodeError as err:
                raise _Unshowable(f"it is not valid JSON ({err.msg})") from None
            if not isinstance(value, dict):
                raise _Unshowable('it is not a mapping like {"column": ...}')
            rows = [self._row(str(column), v) for column, v in value.items()]
        except _Unshowable as why:
            self._rows = []
            self._note.value = (
                f"<small>Shown as JSON: {html.escape(str(why))}. Edit it here, or clear it "
                "to pick again.</small>"
            )
            self._set_quietly(self._toggle, True)
            self._json.layout.display = None
        else:
            self._rows = rows
            self._note.value = ""
        self._refresh()

    def _emit(self) -> None:
        """Write the rows' value (their JSON form) to ``value``."""
        out = {}
        for row in self._rows:
            v = row.current()
            if v is not _NEW:
                out[row.column] = v
        text = json.dumps(out)
        self._set_quietly(self._json, text)
        self._note.value = ""
        if text != self.value:
            self._emitted = text
            self.value = text

    # -- the page's events -----------------------------------------------------------------------
    def _on_add(self, change: dict[str, Any]) -> None:
        column = change["new"]
        if self._quiet or not column:
            return
        self._set_quietly(self._add, "")
        if any(r.column == column for r in self._rows):
            return
        try:
            row = self._row(column, _NEW)
        except _Unshowable as why:
            self._note.value = f"<small>{html.escape(str(why))}</small>"
            return
        self._rows.append(row)
        self._refresh()
        if row.edited:  # a row that starts with a value (suggested bin edges)
            self._emit()

    def _on_tooltip(self, change: dict[str, Any]) -> None:
        self._title.tooltip = change["new"]

    def _on_toggle(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self._json.layout.display = None if change["new"] else "none"

    def _on_json(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self.value = change["new"]

    def _edited(self, row: _Row) -> None:
        if self._quiet:
            return
        row.edited = True
        self._tidy(row)
        self._emit()

    def _tidy(self, row: _Row) -> None:
        """Make an edited row's editor show what the row writes (e.g. edges in order)."""

    def _remove(self, row: _Row) -> None:
        self._rows = [r for r in self._rows if r is not row]
        self._refresh()
        self._emit()

    # -- drawing ---------------------------------------------------------------------------------
    def _set_quietly(self, w: widgets.Widget, value: Any) -> None:
        self._quiet = True
        try:
            w.value = value
        finally:
            self._quiet = False

    def _refresh(self) -> None:
        """Draw the rows and the "add" menu (the columns without a row)."""
        for row in self._rows:
            if not row.wired:
                for w in row.watched:
                    w.observe(lambda _change, row=row: self._edited(row), names="value")
                row.remove.on_click(lambda _button, row=row: self._remove(row))
                row.wired = True
        empty = [widgets.HTML(f"<small>{html.escape(self.empty_text)}</small>")]
        self._body.children = [r.box for r in self._rows] or empty
        taken = {r.column for r in self._rows}
        options = [(self.add_text, "")] + [
            (label, column) for column, label in self._labels.items() if column not in taken
        ]
        self._quiet = True
        try:
            self._add.options = options
            self._add.value = ""
        finally:
            self._quiet = False

    # -- rows changed as a person would -----------------------------------------------------------
    def _find(self, column: str) -> _Row:
        for row in self._rows:
            if row.column == column:
                return row
        raise KeyError(f"no row for {column!r}; rows: {', '.join(r.column for r in self._rows)}")

    def add(self, column: str) -> None:
        """Add a row for ``column`` (as its choice in the "add" menu does; nothing when it has
        one)."""
        if column not in self._labels:
            raise ValueError(f"{column!r} is not offered; columns: {', '.join(self._labels)}")
        if all(r.column != column for r in self._rows):
            self._add.value = column

    def remove(self, column: str) -> None:
        """Remove the row of ``column`` (its button)."""
        self._find(column).remove.click()

    def _describe_or_why(self, column: str) -> tuple[str, ColumnValues]:
        if column not in self._labels:
            raise _Unshowable(f"{column!r} is not one of this page's criteria")
        try:
            return self._labels[column], self._describe(column)
        except Exception as err:  # said next to the value, which is shown as JSON
            raise _Unshowable(f"the values of {column!r} could not be read: {err}") from None


class FilterPicker(_MappingPicker):
    """The filter of a page (``where``) as rows: a multi-select of a category column's values,
    a range (from, to) of a numeric column.

    Its ``value`` is the filter's JSON form, ``{"country": ["DE", "FR"], "company_size": {"min":
    10, "max": 250}}`` (docs/metrics.md "Segmentations and derived attributes"); a row with
    nothing selected filters nothing, and a row added is part of the value once it is changed.

    Parameters
    ----------
    description : str
        The picker's title ("Filter").
    columns : sequence of (label, column)
        The criteria it offers, in words.
    describe : callable(str) -> ColumnValues
        The values of a column (:func:`column_values`, kept by the page).
    placeholder : str
        The JSON box's hint.

    Examples
    --------
    >>> values = {"plan": ColumnValues("plan", values=("pro", "starter")),
    ...           "company_size": ColumnValues("company_size", low=1, high=8192, integer=True)}
    >>> f = FilterPicker("Filter", [("Plan", "plan"), ("Company size", "company_size")],
    ...                  values.__getitem__)
    >>> f.value = '{"plan": ["pro"], "company_size": {"min": 10}}'
    >>> f.selected("plan"), f.bounds("company_size")
    (('pro',), (10, 8192))
    >>> f.set_bounds("company_size", 10, 250)
    >>> f.value
    '{"plan": ["pro"], "company_size": {"min": 10, "max": 250}}'
    """

    empty_text = "All customers (no filter)."
    add_text = "Filter on…"

    def _row(self, column: str, value: Any) -> _Row:
        label, info = self._describe_or_why(column)
        if info.numeric:
            return self._range_row(column, label, info, value)
        if isinstance(value, Mapping):
            raise _Unshowable(f"{label} is not a number: list its values instead of a range")
        given = [] if value is _NEW else list(value) if isinstance(value, list | tuple) else [value]
        if not all(v is None or isinstance(v, str | int | float | bool) for v in given):
            raise _Unshowable(f"the values of {label} are not plain values")
        known = list(info.values)
        extra = [v for v in dict.fromkeys(given) if v not in known]
        options = [(_word(v), v) for v in known]
        options += [(f"{_word(v)} (not in the data)", v) for v in extra]
        select = widgets.SelectMultiple(
            options=options,
            value=tuple(dict.fromkeys(given)),
            rows=min(6, max(2, len(options))),
            layout=widgets.Layout(width=text_width("", max((len(t) for t, _ in options),
                                                          default=8), "40px")),
        )  # fmt: skip
        more = f"<small>the first {len(known)} values</small>" if info.truncated else ""
        editor = widgets.HBox([select, widgets.HTML(more)]) if more else select

        def read() -> Any:
            chosen = set(select.value)  # in the order of the list; nothing: no filter
            return [v for _, v in options if v in chosen] or _NEW

        return _Row(column, label, editor, [select], read, value)

    def _range_row(self, column: str, label: str, info: ColumnValues, value: Any) -> _Row:
        if value is _NEW:
            low, high = info.low, info.high
        elif (
            isinstance(value, Mapping)
            and value
            and set(value) <= set(RANGE_KEYS)
            and all(_is_number(v) for v in value.values())
        ):
            low, high = value.get("min", info.low), value.get("max", info.high)
        else:
            raise _Unshowable(
                f'{label} is a number: the picker shows a range ({{"min": ..., "max": ...}}), '
                "not a list of values"
            )
        assert low is not None and high is not None
        whole = info.integer and float(low).is_integer() and float(high).is_integer()
        chars = max(len(plain_number(v)) for v in (info.low or 0, info.high or 0, low, high))
        box = widgets.Layout(width=text_width("", chars + (0 if whole else 3), "48px"))
        make: Any = widgets.IntText if whole else widgets.FloatText
        lo = make(value=int(low) if whole else float(low), layout=box)
        hi = make(value=int(high) if whole else float(high), layout=box)
        hint = widgets.HTML(
            f"<small>data: {_number_text(info.low or 0)} to {_number_text(info.high or 0)}</small>"
        )
        editor = widgets.HBox(
            [widgets.Label("from"), lo, widgets.Label("to"), hi, hint],
            layout=widgets.Layout(align_items="center", grid_gap="4px"),
        )

        def read() -> Any:
            return {"min": lo.value, "max": hi.value}

        return _Row(column, label, editor, [lo, hi], read, value)

    # -- the rows as a person sees them ---------------------------------------------------------
    def selected(self, column: str) -> tuple[Any, ...]:
        """The values selected in the row of a category column."""
        return tuple(self._find(column).watched[0].value)

    def select(self, column: str, values: Sequence[Any]) -> None:
        """Select ``values`` in the row of a category column (as clicks would)."""
        self._find(column).watched[0].value = tuple(values)

    def bounds(self, column: str) -> tuple[float, float]:
        """The (from, to) shown in the row of a numeric column."""
        lo, hi = self._find(column).watched
        return lo.value, hi.value

    def set_bounds(self, column: str, low: float, high: float) -> None:
        """Type ``low`` and ``high`` in the row of a numeric column."""
        lo, hi = self._find(column).watched
        lo.value, hi.value = low, high


class BinsPicker(_MappingPicker):
    """The bin edges of numeric criteria (``bins``) as rows: the edges of each column, typed as
    numbers; a row added starts with suggested edges (:attr:`ColumnValues.edges`).

    Its ``value`` is the JSON form, ``{"company_size": [10, 50, 250]}``; the edges a row writes
    are in increasing order, each once (docs/metrics.md "Segmentations and derived attributes":
    right-closed bins ``<= e0``, ``(e0, e1]``, ..., ``> en``).

    Examples
    --------
    >>> values = {"company_size": ColumnValues("company_size", low=1, high=8192, integer=True,
    ...                                        edges=(7, 19, 60))}
    >>> b = BinsPicker("Bin edges", [("Company size", "company_size")], values.__getitem__)
    >>> b.add("company_size")
    >>> b.value
    '{"company_size": [7, 19, 60]}'
    >>> b.set_edges("company_size", [250, 10, 50])
    >>> b.value, b.edges("company_size")
    ('{"company_size": [10, 50, 250]}', (10, 50, 250))
    """

    empty_text = "No bin edges: each value of a numeric criterion is a segment of its own."
    add_text = "Bin edges for…"

    def _row(self, column: str, value: Any) -> _Row:
        label, info = self._describe_or_why(column)
        if value is _NEW:
            edges = list(info.edges)
        elif isinstance(value, list) and all(_is_number(e) for e in value):
            edges = list(value)
        else:
            raise _Unshowable(f"the bin edges of {label} are not a list of numbers")
        whole = info.integer and all(float(e).is_integer() for e in edges)
        editor: Any = (
            widgets.IntsInput(value=[int(e) for e in edges], allow_duplicates=False)
            if whole
            else widgets.FloatsInput(value=[float(e) for e in edges], allow_duplicates=False,
                                     format=".6~g")
        )  # fmt: skip
        hint = (
            f"<small>data: {_number_text(info.low)} to {_number_text(info.high)}</small>"
            if info.low is not None and info.high is not None
            else ""
        )
        box = widgets.HBox(
            [editor, widgets.HTML(hint)], layout=widgets.Layout(align_items="center")
        )

        def read() -> Any:
            got = sorted(set(editor.value))
            return got or _NEW  # no edge: no bins for this column

        row = _Row(column, label, box, [editor], read, value)
        row.edited = value is _NEW and bool(edges)  # suggested edges apply at once
        return row

    def _tidy(self, row: _Row) -> None:
        editor = row.watched[0]
        shown = sorted(set(editor.value))
        if list(editor.value) != shown:
            self._set_quietly(editor, shown)

    def edges(self, column: str) -> tuple[float, ...]:
        """The edges shown in the row of ``column``."""
        return tuple(self._find(column).watched[0].value)

    def set_edges(self, column: str, edges: Sequence[float]) -> None:
        """Type ``edges`` in the row of ``column``."""
        self._find(column).watched[0].value = list(edges)
