"""The explorer base: parameters <-> widgets, recompute, result, figures, errors shown in the page.

Every segwork page (market sizing, segmentation, cohorts) is an :class:`Explorer` subclass that
declares its parameters (:class:`Param`, the same names as its notebook's papermill parameters)
and one pure method, :meth:`Explorer.compute`, turning a validated state into a :class:`View`.
The base does the rest: validation with clear errors, widgets bound to the parameters, caching
(:meth:`Explorer.memo`), showing errors in the page while keeping the last good view, and a
static HTML rendering for headless runs (papermill, nbconvert).

State lives on the instance (no module globals); handlers never swallow errors: a value typed in
the page that is refused, or a state that cannot be computed, is said in the page (what is wrong,
what to do) while the last good view stays, and no exception escapes a widget handler.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import html
import json
import math
import os
import re
import traceback
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar
from urllib.parse import parse_qsl, urlencode

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from segwork.data.dataset import Dataset
from segwork.settings import AS_OF_ENV, env
from segwork.sources import open_data

__all__ = [
    "BASE_READY",
    "Deferred",
    "Explorer",
    "Param",
    "View",
    "check_filter",
    "download_frame",
    "download_html",
    "download_widget",
    "error_html",
    "figure_output",
    "format_frame",
    "on_click",
    "parse_query",
    "show_download",
]

T = TypeVar("T")
E = TypeVar("E", bound="Explorer")

#: MIME type under which an explorer's headline figures are attached to its display output.
HEADLINE_MIME = "application/vnd.segwork.headline+json"
Kind = Literal["date", "multi", "choice", "int", "float", "bool", "json", "text"]
Choices = Sequence[Any] | Callable[[Dataset], Sequence[Any]] | None

_MEMO_SIZE = 64
#: What a closed section holds until it is opened.
_SECTION_CLOSED = (
    "<em>Computed when opened (the section then follows every change until it is closed).</em>"
)
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
    choices : sequence or callable(Dataset) -> sequence, optional
        Allowed values for ``choice`` and ``multi`` (a callable is resolved on the explorer's data).
    low, high, step : float, optional
        Bounds (inclusive) and widget step for ``int`` / ``float``.
    label, help : str
        Widget label and tooltip.
    section : str, optional
        The title of the :class:`View` section that alone uses this parameter (e.g. ``k`` of
        "Personas"): changing it opens that section, whose result is then what was asked for.
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


#: Downloads of more rows than this are prepared on a click in the live page (the link holds the
#: whole CSV, sent to the browser with every change otherwise: 3 MB for 50,000 members).
DOWNLOAD_INLINE_ROWS = 10_000
#: A page on more customers than this prepares a download that needs its own query (the members
#: of a segment) on a click whatever its size: the query reads the whole data (0.1-0.15 s at 1M
#: customers), which every change of the page would pay otherwise.
INLINE_QUERY_CUSTOMERS = 100_000


class Deferred:
    """A download frame made when it is needed: its row count known at once, the rows later.

    A page's best segment at 1M customers has tens of thousands of members; a big download is
    prepared on a click (:data:`DOWNLOAD_INLINE_ROWS`), so its query need not run with every
    change either.  ``build()`` runs once, on the first :meth:`frame`.

    ``inline=False`` marks a build that is costly whatever the rows (a query reading the whole
    of a large Dataset): the page prepares it on a click even when small (:func:`on_click`).

    >>> d = Deferred(2, lambda: pd.DataFrame({"x": [1, 2]}))
    >>> d.rows, d.frame()["x"].tolist()
    (2, [1, 2])
    """

    def __init__(
        self, rows: int, build: Callable[[], pd.DataFrame], *, inline: bool = True
    ) -> None:
        self.rows = int(rows)
        self.inline = bool(inline)
        self._build: Callable[[], pd.DataFrame] | None = build
        self._frame: pd.DataFrame | None = None

    def frame(self) -> pd.DataFrame:
        """The frame, built on the first call (exceptions propagate; a later call retries)."""
        if self._frame is None:
            assert self._build is not None
            self._frame = self._build()
            self._build = None
        return self._frame

    def __repr__(self) -> str:
        done = "built" if self._frame is not None else "not built yet"
        return f"Deferred({self.rows:,} rows, {done})"


#: A download in a :class:`View`: the frame, or a :class:`Deferred` one.
Download: TypeAlias = pd.DataFrame | Deferred


def on_click(d: Download) -> bool:
    """Whether the live page prepares download ``d`` on a click rather than with the page: more
    than :data:`DOWNLOAD_INLINE_ROWS` rows, or a :class:`Deferred` that is not ``inline``.

    >>> on_click(pd.DataFrame({"x": [1]})), on_click(Deferred(1, pd.DataFrame, inline=False))
    (False, True)
    """
    if isinstance(d, Deferred):
        return d.rows > DOWNLOAD_INLINE_ROWS or not d.inline
    return len(d) > DOWNLOAD_INLINE_ROWS


def download_frame(d: Download) -> pd.DataFrame:
    """The frame of a download (building a :class:`Deferred` one)."""
    return d.frame() if isinstance(d, Deferred) else d


@dataclass
class View:
    """What a page shows for one state: made by :meth:`Explorer.compute`, drawn by the base.

    ``sections`` are the page's slower parts (personas, mix shift, projection, survival...), each
    a title and a function making its own (partial) View.  The page computes the main part at
    once and a section only when it is opened (or was open); the API (:attr:`Explorer.tables`,
    :attr:`Explorer.figures`, :meth:`Explorer.to_html`...) computes every section, once per view.

    Examples
    --------
    >>> v = View(texts={"a": "main"}, sections={"More": lambda: View(texts={"b": "later"})})
    >>> v.resolved
    {}
    >>> v.complete().texts
    {'a': 'main', 'b': 'later'}
    >>> list(v.resolved)
    ['More']
    """

    result: pd.DataFrame = field(default_factory=pd.DataFrame)
    figures: dict[str, go.Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    downloads: dict[str, Download] = field(default_factory=dict)
    sections: dict[str, Callable[[], View]] = field(default_factory=dict)
    #: The sections computed so far, by title (kept with the view they belong to).
    resolved: dict[str, View] = field(default_factory=dict, repr=False)

    def section(self, title: str) -> View:
        """The View of section ``title``, computed on the first call (exceptions propagate)."""
        if title not in self.resolved:
            self.resolved[title] = self.sections[title]()
        return self.resolved[title]

    def complete(self) -> View:
        """The main part and every section in one View (computing the sections not yet done)."""
        parts = [self, *(self.section(t) for t in self.sections)]
        return View(
            result=self.result,
            figures={k: v for p in parts for k, v in p.figures.items()},
            tables={k: v for p in parts for k, v in p.tables.items()},
            texts={k: v for p in parts for k, v in p.texts.items()},
            downloads={k: v for p in parts for k, v in p.downloads.items()},
        )


def _bound(v: float | None) -> str:
    """A bound as people write it: 1000000 and 2147483647 in full, 0.01 and 1e+15 short."""
    if v is None:
        return "unbounded"
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e12 else f"{v:g}"


def _join(values: Sequence[Any]) -> str:
    return ", ".join(repr(v) for v in values)


_PCT = (
    "rate",
    "share",
    "retention",
    "churn",
    "nrr",
    "grr",
    "penetration",
    "pct",
    "survival",
    "ci_",
)
_MONEY = (
    "mrr",
    "arpa",
    "ltv",
    "arr",
    "tam",
    "sam",
    "som",
    "revenue",
    "acv",
    "monetary",
    "headroom",
)


#: Amounts whose names read like rates (the MRR movements of a month).
_MONEY_NAMES = frozenset(
    {"new", "reactivation", "expansion", "contraction", "churn", "fx_adjustment"}
)
#: Fractions whose names carry no rate word.
_PCT_NAMES = frozenset({"weight_a", "weight_b", "growth", "arr_to_som"})


def _number(v: float) -> str:
    """A plain number: thousands separators, never scientific notation from 1,000 on."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.4g}"


def _kind(name: str) -> Literal["pct", "pp", "money", "number"]:
    if name in _MONEY_NAMES:
        return "money"
    if name.endswith("_effect") or name.startswith("diff_"):
        return "pp"  # a difference of two rates
    if name in _PCT_NAMES or name.endswith("_share") or name.startswith("share_"):
        return "pct"
    if any(k in name for k in _PCT) and not any(name.startswith(k) for k in _MONEY):
        return "pct"
    if any(k in name for k in _MONEY):
        return "money"
    return "number"


def format_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A display copy: rates as percentages, money with thousands separators, NaN as '—'.

    Chosen by column name (``*rate*``, ``*_share``, ``retention``, ``nrr``... as %; differences
    of rates, ``*_effect`` and ``diff_*``, in percentage points; ``mrr``, ``arpa``, ``ltv``, the
    MRR movements... as money); other numbers with separators (never ``1.2e+09``); integers and
    text are left as they are.

    >>> format_frame(pd.DataFrame({"mrr_share": [0.25], "rate_effect": [-0.0012],
    ...     "churn": [41748.2], "point": [1.2e9], "silhouette": [0.2158]})).iloc[0].tolist()
    ['25.0%', '-0.12 pp', '41,748', '1,200,000,000', '0.2158']
    """
    formats: dict[str, Callable[[float], str]] = {
        "pct": lambda v: f"{v:.1%}",
        "pp": lambda v: f"{100 * v:+.2f} pp",
        "money": lambda v: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}",
        "number": _number,
    }
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if not pd.api.types.is_float_dtype(s):
            continue
        fmt = formats[_kind(str(col).lower())]
        out[col] = s.map(lambda v, fmt=fmt: "—" if pd.isna(v) else fmt(v))
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def _cell(v: Any) -> str:
    """One table cell's text: missing values as '—', everything else escaped."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT or v is pd.NA:
        return "—"
    return html.escape(str(v))


def _table_html(df: pd.DataFrame, max_rows: int = 200) -> str:
    """The first ``max_rows`` rows of ``df`` as a ``segwork-table`` (formatted by
    :func:`format_frame`; small segments greyed with a tooltip), and how many more there are.

    Written out directly (pandas' ``to_html`` took 30 ms for 200 rows, a tenth of a page
    change).

    >>> h = _table_html(pd.DataFrame({"a": [1, None], "b": ["<x>", "y"]}))
    >>> h.count("<tr>"), "<th>a</th><th>b</th>" in h, "<td>—</td><td>y</td>" in h, "&lt;x&gt;" in h
    (2, True, True, True)
    """
    shown = df.head(max_rows)
    small = (
        shown["small_segment"].fillna(False).to_numpy(dtype=bool)
        if "small_segment" in shown.columns
        else None
    )
    text = format_frame(shown)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in text.columns)
    columns = [text[c].to_numpy(dtype=object) for c in text.columns]
    rows = []
    for i in range(len(text)):
        cells = [_cell(col[i]) for col in columns]
        first = (
            '<td style="color:#888;font-style:italic" title="small segment: rates unreliable">'
            if small is not None and small[i]
            else "<td>"
        )
        rows.append(
            "<tr>" + first + "</td><td>".join(cells) + "</td></tr>" if cells else "<tr></tr>"
        )
    more = f"<p><em>{len(df) - max_rows} more rows not shown</em></p>" if len(df) > max_rows else ""
    return (
        '<div style="overflow-x:auto"><table border="0" class="dataframe segwork-table">'
        f'<thead><tr style="text-align: right;">{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def download_html(name: str, df: pd.DataFrame) -> str:
    """A data-URI link that downloads ``df`` as CSV (works in JupyterLab and Voila, no server)."""
    payload = base64.b64encode(df.to_csv(index=False).encode()).decode()
    return (
        f'<a download="{html.escape(name)}" href="data:text/csv;base64,{payload}" '
        f'style="font-weight:600">Download {html.escape(name)}</a> ({len(df):,} rows)'
    )


def download_widget(name: str, df: Download) -> widgets.Widget:
    """The download of ``df`` in the live page: the link itself, or for a big frame a button that
    makes the link when clicked (so a change of the page does not send megabytes it may not need;
    a :class:`Deferred` frame of that size is only built then).

    >>> w = download_widget("a.csv", pd.DataFrame({"x": range(3)}))
    >>> "Download a.csv" in w.value
    True
    >>> big = download_widget("b.csv", pd.DataFrame({"x": range(DOWNLOAD_INLINE_ROWS + 1)}))
    >>> big.children[0].description
    'Prepare b.csv (10,001 rows)'
    >>> big.children[0].click()
    >>> "Download b.csv" in big.children[1].value, big.children[0].layout.display
    (True, 'none')
    """
    rows = df.rows if isinstance(df, Deferred) else len(df)
    if not on_click(df):
        return widgets.HTML(download_html(name, download_frame(df)))
    button = widgets.Button(
        description=f"Prepare {name} ({rows:,} rows)",
        icon="download",
        layout=widgets.Layout(width="auto"),
    )
    link = widgets.HTML()
    button.on_click(lambda _button: show_download(link, button, name, df))
    return widgets.HBox([button, link])


def show_download(link: widgets.HTML, button: widgets.Button, name: str, df: Download) -> None:
    """Put the download link of ``df`` in ``link`` and hide the ``button`` that asked for it; a
    failure is shown in ``link`` (never swallowed) and the button stays for another try."""
    try:
        link.value = download_html(name, download_frame(df))
    except Exception as err:  # shown in the page, never swallowed
        link.value = error_html(err)
        return
    button.layout.display = "none"


def error_html(err: BaseException) -> str:
    """An exception as the page's error box: ``<div class="segwork-error">Type: message</div>``.

    >>> error_html(ValueError("a < b"))
    '<div class="segwork-error">ValueError: a &lt; b</div>'
    """
    return (
        f'<div class="segwork-error">{html.escape(type(err).__name__)}: '
        f"{html.escape(str(err))}</div>"
    )


_CSS = (
    "<style>.segwork-table{border-collapse:collapse;font-size:13px}"
    ".segwork-table th,.segwork-table td{padding:3px 8px;border-bottom:1px solid #e5e5e5;"
    "text-align:right}.segwork-table th{background:#f6f6f6}"
    ".segwork-error{color:#b00020;background:#fdecea;padding:6px 10px;border-radius:4px;"
    "white-space:pre-wrap}</style>"
)


class Explorer:
    """Base of the segwork explorers (see the module docstring; subclasses set ``params``)."""

    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    result_title: ClassVar[str] = "Result"
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, data: Any = None, **state: Any) -> None:
        self.data: Dataset = open_data(data)
        # a page changes as_of: keep the engine tables that serve every date
        self.data.reuse_across_dates = True
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self._choices: dict[str, Sequence[Any] | None] = {}
        self._state: dict[str, Any] = {p.name: copy.deepcopy(p.default) for p in self.params}
        new = {**self._state, **self._checked(state)}
        self.validate(new)
        self._state = new
        self.view = View()
        self.error: str | None = None
        self._syncing = False
        self._typed: dict[str, Any] = {}  # values typed in the page and not applied yet
        self._changing: str | None = None  # labels of the fields being applied from the page
        self._failed_by: str | None = None  # the change after which the page stopped updating
        self._failure: str | None = None  # why, then
        self._shown = False  # whether a view was ever drawn
        self._open: set[str] = set()  # titles of the sections open in the page
        self.controls: dict[str, widgets.Widget] = {}
        self._build()
        self._recompute()
        self.prepare()

    # -- to override ------------------------------------------------------------------------------
    def compute(self, state: dict[str, Any]) -> View:  # pragma: no cover - abstract
        """The View for a validated state (pure: use :meth:`memo` for expensive pieces)."""
        raise NotImplementedError

    def validate(self, state: dict[str, Any]) -> None:
        """Cross-parameter checks; raise ValueError.  Single values are checked by each Param."""

    def prepare(self) -> None:
        """Build, with the first render, what a later change would otherwise build first (the
        engine tables of another period, say), so that every change is equally quick."""

    def tables_read(self, state: dict[str, Any]) -> Sequence[str] | None:
        """The tables the page's numbers read at ``state`` (None: any of them); the note of
        rows set aside at as_of counts only these (:meth:`segwork.Dataset.set_aside`)."""
        return None

    def make_control(self, param: Param) -> widgets.Widget | None:
        """A custom widget for ``param``; None uses the default widget for its kind."""
        return None

    def after_render(self) -> list[widgets.Widget]:
        """Extra widgets shown under the view after each render (e.g. an export control)."""
        return []

    def to_widget(self, param: Param, value: Any) -> Any:
        """State value -> the value of the param's widget."""
        if param.kind == "date":
            return None if value is None else dt.date.fromisoformat(value)
        if param.kind == "multi":
            return tuple(value)
        if param.kind == "json":
            return "" if value is None else json.dumps(value)
        if param.kind == "text":
            return "" if value is None else value
        return value

    def from_widget(self, param: Param, value: Any) -> Any:
        """Widget value -> the state value (before validation)."""
        if param.kind == "date":
            return None if value is None else value.isoformat()
        if param.kind == "multi":
            return list(value)
        if param.kind == "text" and param.optional and value == "":
            return None
        return value

    @classmethod
    def from_url(cls: type[E], data: Any = None, **state: Any) -> E:
        """Build from the notebook's parameters, with the page URL's query applied on top.

        Under Voila the query of the page URL (``?by=["plan"]&as_of=2024-06-30``, values as JSON or
        plain text) restores a shared view (:meth:`url_query` makes such links); outside Voila there
        is no query and this is the constructor.  ``as_of=None`` means ``$SEGWORK_AS_OF`` (set by
        ``segwork app --as-of``), else the last date in the data.  A bad query value is shown in
        the page, never raised: the page still opens with the notebook's parameters.
        """
        dataset = open_data(data)
        if state.get("as_of", "") is None:
            state["as_of"] = env(AS_OF_ENV) or dataset.data_end.isoformat()
        query = _page_query()
        problem = ""
        if query:
            # the linked view is computed once (not the notebook's view first, then the link's)
            try:
                parsed = parse_query(query, [p.name for p in cls.params])
                linked = cls(dataset, **{**state, **parsed})
            except ValueError as err:
                problem = str(err)
            else:
                if linked.error is None:
                    return linked
                problem = linked.error
        explorer = cls(dataset, **state)
        if problem:
            explorer.error = f"The link's parameters were not applied: {problem}"
            explorer._status.value = (
                f'<div class="segwork-error">{html.escape(explorer.error)}</div>'
            )
        return explorer

    def url_query(self) -> str:
        """The current state as a URL query (``?as_of=...&by=[...]``) that restores this view."""
        items = []
        for p in self.params:
            value = self._state[p.name]
            if value == p.default:
                continue
            text = (
                value
                if isinstance(value, str) and p.kind in ("date", "choice", "text")
                else (json.dumps(value, separators=(",", ":")))
            )
            items.append((p.name, text))
        return "?" + urlencode(items) if items else ""

    def headline(self) -> dict[str, Any]:
        """The page's headline figures (JSON-serialisable), collected into report metrics.json."""
        return {}

    # -- state ------------------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        """The current parameters as JSON-serialisable values (the notebook's parameters)."""
        return copy.deepcopy(self._state)

    def choices(self, name: str) -> Sequence[Any] | None:
        """The allowed values of parameter ``name`` on this explorer's data (or None)."""
        if name not in self._choices:
            param = self._param(name)
            c = param.choices
            self._choices[name] = list(c(self.data)) if callable(c) else (list(c) if c else None)
        return self._choices[name]

    def _param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ValueError(
            f"unknown parameter {name!r} for {type(self).__name__}; allowed: "
            + ", ".join(p.name for p in self.params)
        )

    def _checked(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        out = {}
        for name, value in changes.items():
            param = self._param(name)
            out[name] = param.check(value, self.choices(name))
        return out

    def set(self, **changes: Any) -> Explorer:
        """Validate and apply ``changes`` (ValueError on a bad key or value), then recompute.

        A failure while computing is shown in the page (``.error``) and keeps the last good view.
        """
        new = {**self._state, **self._checked(changes)}
        self.validate(new)
        self._open.update(
            p.section for p in self.params if p.section and p.name in changes
        )
        self._state = new
        self._sync_widgets()
        self._recompute()
        return self

    # -- results ----------------------------------------------------------------------------------
    @property
    def result(self) -> pd.DataFrame:
        """The main table currently shown."""
        return self.view.result

    @property
    def figures(self) -> dict[str, go.Figure]:
        """The plotly figures of the current view, by name (every section's included)."""
        return self.view.complete().figures

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables of the current view, by title (every section's included)."""
        return self.view.complete().tables

    @property
    def texts(self) -> dict[str, str]:
        """The sentences of the current view, by name (every section's included)."""
        return self.view.complete().texts

    @property
    def downloads(self) -> dict[str, pd.DataFrame]:
        """The downloadable frames of the current view, by file name (every section's included).

        Frames the page prepares on a click (:class:`Deferred`) are built here.
        """
        return {name: download_frame(d) for name, d in self.view.complete().downloads.items()}

    @property
    def open_sections(self) -> tuple[str, ...]:
        """Titles of the sections open in the page (computed with every change)."""
        return tuple(t for t in self.view.sections if t in self._open)

    def open_section(self, title: str, is_open: bool = True) -> None:
        """Open (compute and show) or close the page's section ``title``, as a click on it does.

        An open section is recomputed with every change; a failure is shown in the section.
        """
        if title not in self.view.sections:
            raise ValueError(
                f"no section {title!r} on this page; sections: {', '.join(self.view.sections)}"
            )
        if is_open:
            self._open.add(title)
        else:
            self._open.discard(title)
        self._render()

    def memo(self, key: Hashable, fn: Callable[[], T]) -> T:
        """``fn()`` cached under ``key`` (bounded; per explorer instance)."""
        try:
            value = self._memo.pop(key)
        except KeyError:
            value = fn()
        self._memo[key] = value
        while len(self._memo) > _MEMO_SIZE:
            self._memo.popitem(last=False)
        return value

    def first_signup(self) -> dt.date | None:
        """The first ``signup_date`` of the data (None without customers), queried once."""

        if not self.data.has("customers"):
            return None
        try:
            return self.data.first_signup  # remembered by the Dataset
        except ValueError:  # an empty customers table
            return None

    def check_date(self, name: str, day: str | None) -> None:
        """A ValueError naming ``name`` when the date ``day`` lies outside the data.

        Before the first signup there is no customer yet.  After the month of the last dated row
        nothing is observed: running subscriptions would count as going on unchanged (no churn,
        the same MRR), a made-up view rather than a measured one.  Subclasses call this from
        :meth:`compute` for their dates; data without a customers table is not checked.
        """
        first = self.first_signup() if day is not None else None
        if day is None or first is None:
            return
        end = self.data.data_end
        last = (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date()
        when = dt.date.fromisoformat(day)
        todo = f"choose a date from {first} to {last}"
        if when < first:
            raise ValueError(
                f"{name}={day} is before all data (the first customer signed up on {first}): {todo}"
            )
        if when > last:
            raise ValueError(
                f"{name}={day} is after the end of the data ({end}): nothing is observed after "
                f"it, so running subscriptions would count as going on unchanged; {todo}"
            )

    def _recompute(self) -> None:
        self._status.value = "<em>computing…</em>"
        previous = self.view
        try:
            view = self.compute(self.state)
            for title in view.sections:  # the open ones are part of the change
                if title in self._open:
                    view.section(title)
            as_of = self._state.get("as_of")
            aside = self._set_aside_note(as_of, self.tables_read(self._state)) if as_of else ""
            # the page's data note: the currency of its amounts, then what was set aside
            view.texts.setdefault("set_aside", f"Amounts in {self.data.currency}. {aside}".strip())
            self.view = view
            self._render()
        except Exception as err:  # shown in the page, never swallowed
            self.error = f"{type(err).__name__}: {err}"
            self._last_traceback = traceback.format_exc()
            if self.view is not previous:  # the new view could not be drawn: back to the last
                self.view = previous
                with contextlib.suppress(Exception):  # the error above is what the page says
                    self._render()
            if self._failed_by is None or self.error != self._failure:
                self._failed_by = self._changing  # a new failure: after this change
            self._failure = self.error
            self._status.value = self._failure_html(err)
            return
        self._shown = True
        self.error = self._failed_by = self._failure = None
        self._status.value = ""
        self._link.value = (
            f'<a href="{html.escape(self.url_query() or "?")}" style="font-size:12px">'
            "Link to this view</a>"
        )

    def _failure_html(self, err: Exception) -> str:
        """Why the page was not updated (what went wrong, after which change) and what to do."""
        text = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
        kept = (
            "the last good result is still shown"
            if self._shown
            else "nothing can be shown until then"
        )
        if self._failed_by:
            field = html.escape(self._failed_by)
            head = f"<b>Could not update the page</b> after the change of <b>{field}</b>: "
            todo = f"Change {field} (or another value above) to update it; {kept}."
        else:
            head = "<b>Could not update the page.</b> "
            todo = f"Change the values above to update it; {kept}."
        return f'<div class="segwork-error">{head}{html.escape(text)}<br>{todo}</div>'

    def shows_money(self, title: str, table: pd.DataFrame) -> bool:
        """Whether the table ``title`` holds amounts (its heading then names their currency):
        by default, a number column named like money (``mrr``, ``ltv``, ``tam``, the MRR
        movements...: :func:`format_frame`'s rule)."""
        return any(
            _kind(str(c).lower()) == "money"
            and pd.api.types.is_numeric_dtype(dtype)
            and not pd.api.types.is_bool_dtype(dtype)
            for c, dtype in table.dtypes.items()
        )

    def _heading(self, title: str, table: pd.DataFrame) -> str:
        """A table's ``<h3>``; a table of amounts names their currency ("· amounts in EUR")."""
        money = self.shows_money(title, table)
        cur = f" <small>· amounts in {html.escape(self.data.currency)}</small>" if money else ""
        return f"<h3>{html.escape(title)}{cur}</h3>"

    def _left_out_note(self) -> str:
        """One sentence naming the rows of an export left out at import, by table and reason."""
        left = self.data.left_out
        if not len(left):
            return ""
        by = left.groupby(["table", "reason"], sort=False)["rows"].sum()
        parts = [f"{int(n):,} {table} rows ({reason})" for (table, reason), n in by.items()]
        return f"Left out when the {self.data.format} export was read: {'; '.join(parts)}."

    def _set_aside_note(self, as_of: str, tables: Sequence[str] | None = None) -> str:
        """One sentence naming the rows set aside at as_of (docs/metrics.md "Rows set aside") in
        ``tables`` (default every table)."""

        def sentence() -> str:
            counts = self.data.set_aside(as_of, tables).groupby("table", sort=False)
            parts = [
                f"{int(g['rows'].sum()):,} of {int(g['table_rows'].iloc[0]):,} {table}"
                for table, g in counts
                if int(g["rows"].sum()) > 0
            ]
            text = ""
            if parts:
                text = (
                    f"Set aside at as_of {as_of} (dated after it, or of customers who signed up "
                    f"after it; not counted here): {', '.join(parts)} rows."
                )
            return " ".join(t for t in (text, self._left_out_note()) if t)

        return self.memo(("set_aside", as_of, None if tables is None else tuple(tables)), sentence)

    # -- widgets ----------------------------------------------------------------------------------
    def _default_control(self, p: Param) -> widgets.Widget:
        label = p.label or p.name.replace("_", " ").capitalize()
        style = {"description_width": "initial"}
        if p.kind == "date":
            return widgets.DatePicker(description=label, style=style)
        if p.kind == "multi":
            return widgets.SelectMultiple(
                options=list(self.choices(p.name) or []),
                description=label,
                rows=min(8, max(3, len(self.choices(p.name) or []))),
                style=style,
            )
        if p.kind == "choice":
            return widgets.Dropdown(
                options=list(self.choices(p.name) or []), description=label, style=style
            )
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

    def _build(self) -> None:
        header = widgets.HTML(
            _CSS
            + (f"<h2 style='margin:4px 0'>{html.escape(self.title)}</h2>" if self.title else "")
            + (
                f"<p style='margin:2px 0 8px'>{html.escape(self.description)}</p>"
                if self.description
                else ""
            )
        )
        for p in self.params:
            w = self.make_control(p) or self._default_control(p)
            if p.help:
                w.tooltip = p.help
            w.value = self.to_widget(p, self._state[p.name])
            w.observe(self._on_change(p), names="value")
            self.controls[p.name] = w
        self._status = widgets.HTML()
        self._link = widgets.HTML()
        self._body = widgets.VBox()
        controls = widgets.HBox(
            list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")
        )
        self.widget = widgets.VBox([header, controls, self._link, self._status, self._body])

    def _on_change(self, p: Param) -> Callable[[dict[str, Any]], None]:
        def handler(change: dict[str, Any]) -> None:
            if self._syncing:
                return
            try:
                self._typed[p.name] = self.from_widget(p, change["new"])
            except Exception as err:  # said in the page, as below
                self._refuse([([p], err)])
                return
            self._apply_typed(p)

        return handler

    def _apply_typed(self, changed: Param) -> None:
        """Apply the values typed in the page, all together or none (then the page says why).

        A refused value stays in its widget and is retried with the next change, so a rule
        between fields (``share_low <= share``) can be met by correcting either of them; nothing
        typed is dropped silently.  No exception leaves a widget handler: it is shown instead.
        """
        params = [changed, *(self._param(n) for n in self._typed if n != changed.name)]
        problems: list[tuple[list[Param], Exception]] = []
        try:
            checked = {}
            for param in params:  # each value on its own first: the message names its field
                try:
                    checked[param.name] = param.check(
                        self._typed[param.name], self.choices(param.name)
                    )
                except ValueError as err:
                    problems.append(([param], err))
            try:  # then the rules between fields, on the values that passed
                self.validate({**copy.deepcopy(self._state), **checked})
            except ValueError as err:
                problems.append(([p for p in params if p.name in checked], err))
            if not problems:
                self._changing = ", ".join(_label(p) for p in params)
                self.set(**self._typed)
        except Exception as err:  # a bug rather than a bad value: said in the page all the same
            problems.append((params, err))
        finally:
            self._changing = None
        if problems:
            self._refuse(problems)

    def _refuse(self, problems: Sequence[tuple[Sequence[Param], Exception]]) -> None:
        """Say in the page which typed values were not applied, why, and what to do."""
        lines, texts, fields = [], [], []
        for params, err in problems:
            if isinstance(err, ValueError):
                text = str(err)
            else:
                text = f"{type(err).__name__}: {err}"
                self._last_traceback = "".join(traceback.format_exception(err))
            names = ", ".join(_label(p) for p in params)
            help_text = params[0].help if params else ""
            lines.append(
                f"<b>{html.escape(names)}:</b> {html.escape(text)}"
                + (f"<br><i>{html.escape(help_text)}</i>" if help_text else "")
            )
            texts.append(text)
            fields += [_label(p) for p in params if _label(p) not in fields]
        self.error = "; ".join(texts)
        kept = " (the last good result is still shown)" if self._shown else ""
        self._status.value = (
            '<div class="segwork-error">'
            + "<br>".join(lines)
            + f"<br>Not applied{kept}: correct {html.escape(', '.join(fields))} to update the "
            "page.</div>"
        )

    def _sync_widgets(self) -> None:
        self._typed.clear()  # the widgets show the state again
        self._syncing = True
        try:
            for p in self.params:
                w = self.controls.get(p.name)
                if w is not None:
                    value = self.to_widget(p, self._state[p.name])
                    if w.value != value:
                        w.value = value
        finally:
            self._syncing = False

    def _view_widgets(self, v: View) -> list[widgets.Widget]:
        children: list[widgets.Widget] = []
        for text in v.texts.values():
            children.append(widgets.HTML(_text_html(text)))
        if len(v.result.columns):
            children.append(
                widgets.HTML(self._heading(self.result_title, v.result) + _table_html(v.result))
            )
        for fig in v.figures.values():
            children.append(figure_output(fig))
        for name, table in v.tables.items():
            children.append(widgets.HTML(self._heading(name, table) + _table_html(table)))
        children += [download_widget(n, d) for n, d in v.downloads.items()]
        return children

    def _render(self) -> None:
        v = self.view
        sections = [self._section_widget(v, title) for title in v.sections]
        self._body.children = (*self._view_widgets(v), *sections, *self.after_render())

    def _section_widget(self, v: View, title: str) -> widgets.Widget:
        """A collapsible section: computed when opened, recomputed with changes while open."""
        box = widgets.VBox()
        acc = widgets.Accordion(children=[box], layout=widgets.Layout(margin="6px 0"))
        acc.set_title(0, title)

        def fill() -> None:
            if title not in v.resolved and title not in self._open:
                box.children = [widgets.HTML(_SECTION_CLOSED)]
                return
            try:
                box.children = self._view_widgets(v.section(title))
            except Exception as err:  # shown in the section, never swallowed
                self._last_traceback = traceback.format_exc()
                text = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
                box.children = [
                    widgets.HTML(
                        f'<div class="segwork-error"><b>Could not compute {html.escape(title)}'
                        f":</b> {html.escape(text)}<br>Change the values above to retry.</div>"
                    )
                ]

        def toggled(change: dict[str, Any]) -> None:
            if change["new"] is None:
                self._open.discard(title)
                return
            self._open.add(title)
            box.children = [widgets.HTML("<em>computing…</em>")]
            fill()

        fill()
        acc.selected_index = 0 if title in self._open else None
        acc.observe(toggled, names="selected_index")
        return acc

    # -- static rendering ------------------------------------------------------------------------
    def to_html(
        self,
        *,
        include_plotlyjs: bool | str = False,
        sections: Literal["all", "computed"] = "all",
    ) -> str:
        """The current state as static HTML (headings, parameters, texts, tables, figures).

        ``include_plotlyjs`` is passed to plotly for the first figure only (``True`` inlines
        plotly.js once, for an offline standalone page); later figures reuse it.  ``sections``:
        ``"all"`` computes the sections not computed yet (a report shows everything);
        ``"computed"`` shows those computed so far and names the others.
        """
        if sections not in ("all", "computed"):
            raise ValueError(f"sections must be 'all' or 'computed', got {sections!r}")
        v = self.view
        parts = [_CSS]
        if self.title:
            parts.append(f"<h2>{html.escape(self.title)}</h2>")
        if self.description:
            parts.append(f"<p>{html.escape(self.description)}</p>")
        params = ", ".join(
            f"<code>{html.escape(k)}</code> = {html.escape(json.dumps(val))}"
            for k, val in self._state.items()
        )
        parts.append(f"<p style='color:#555'>Parameters: {params}</p>")
        if self.error:
            parts.append(f'<div class="segwork-error">{html.escape(self.error)}</div>')
        js: bool | str = include_plotlyjs
        views: list[tuple[str | None, View | Exception]] = [(None, v)]
        for title in v.sections:
            if sections == "computed" and title not in v.resolved:
                views.append((title, View(texts={"closed": _SECTION_CLOSED})))
                continue
            try:
                views.append((title, v.section(title)))
            except Exception as err:  # said in the page, where the section would be
                views.append((title, err))
        for heading, part in views:
            if heading is not None:
                parts.append(f"<h3 class='segwork-section'>{html.escape(heading)}</h3>")
            if isinstance(part, Exception):
                parts.append(
                    f'<div class="segwork-error">Could not compute {html.escape(str(heading))}: '
                    f"{html.escape(f'{type(part).__name__}: {part}')}</div>"
                )
                continue
            parts.extend(_text_html(t) for t in part.texts.values())
            if len(part.result.columns):
                heading = self._heading(self.result_title, part.result)
                parts.append(heading + _table_html(part.result))
            for name, fig in part.figures.items():
                parts.append(
                    fig.to_html(
                        full_html=False,
                        include_plotlyjs=js,
                        div_id=f"segwork-{_slug(type(self).__name__)}-{_slug(name)}",
                    )
                )
                js = False
            for name, table in part.tables.items():
                parts.append(self._heading(name, table) + _table_html(table))
            for name, df in part.downloads.items():
                parts.append(f"<p>{download_html(name, download_frame(df))}</p>")
        return "\n".join(parts)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view, the static HTML of the whole page and the headline figures.

        Served by Voila, a page always shows its widget view, so the static HTML there holds
        only what is computed (the sections wait to be opened) and no headline is attached;
        elsewhere (JupyterLab, papermill reports, nbconvert) every section is computed for it.
        """
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        served = _served_by_voila()
        bundle["text/html"] = self.to_html(sections="computed" if served else "all")
        bundle["text/plain"] = repr(self)
        if served:
            return bundle
        try:
            bundle[HEADLINE_MIME] = {
                "page": type(self).__name__,
                "state": self.state,
                "error": self.error,
                "currency": self.data.currency,  # of every amount in the figures
                "figures": self.headline(),
            }
        except Exception as err:  # the headline must never hide the page
            bundle[HEADLINE_MIME] = {"page": type(self).__name__, "error": str(err)}
        return bundle

    def __repr__(self) -> str:
        state = ", ".join(f"{k}={v!r}" for k, v in self._state.items())
        return f"{type(self).__name__}({state})"


def _plain(obj: Any) -> Any:
    """Figure JSON with plotly's base64 typed arrays (``{"dtype", "bdata", "shape"}``) decoded
    into plain lists (NaN as null): the JupyterLab/Voila plotly renderer does not read them for 2-D
    data such as heat maps."""
    import numpy as np

    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            if "shape" in obj:
                arr = arr.reshape([int(n) for n in str(obj["shape"]).split(",")])
            return _plain(arr.tolist())
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def figure_output(fig: go.Figure) -> widgets.Output:
    """A widget showing ``fig`` through plotly's mimetype renderer (JupyterLab and Voila, offline).

    The output is set directly (``out.outputs``), not appended from a kernel callback, so it renders
    the same in every frontend; plotly's renderer extension ships with the plotly package.
    """
    out = widgets.Output()
    out.outputs = (
        {
            "output_type": "display_data",
            "data": {
                "application/vnd.plotly.v1+json": {
                    **_plain(json.loads(fig.to_json())),
                    "config": {"responsive": True, "displaylogo": False},
                },
                "text/plain": f"<plotly figure: {fig.layout.title.text or 'untitled'}>",
            },
            "metadata": {},
        },
    )
    return out


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


def _served_by_voila() -> bool:
    """Whether this kernel serves a Voila page (Voila sets these in its kernels' environment)."""
    return bool(os.environ.get("VOILA_KERNEL_ID")) or "QUERY_STRING" in os.environ


def _page_query() -> str:
    """The query string of the Voila page this kernel serves ("" outside Voila)."""
    if not _served_by_voila():
        return ""
    if os.environ.get("VOILA_PREHEAT", "False") != "False":
        from voila.utils import get_query_string  # blocks until the page is requested

        return get_query_string() or ""
    return os.environ.get("QUERY_STRING", "")


def _label(p: Param) -> str:
    return p.label or p.name


def check_filter(name: str, mapping: Mapping[str, Any] | None) -> None:
    """A ValueError when the filter ``mapping`` (``{column: [values]}``) lists no value for a
    column: such a filter matches nobody, whatever the data."""
    for column, values in (mapping or {}).items():
        if isinstance(values, list | tuple) and not values:
            raise ValueError(
                f"{name}[{column!r}] lists no value, so it matches nobody: list at least one "
                f'value (e.g. {{"{column}": ["..."]}}) or remove {column!r}'
            )


def _text_html(text: str) -> str:
    return f"<p style='font-size:15px;margin:6px 0'>{html.escape(text)}</p>"


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


#: Marker for helpers waiting on this file.
BASE_READY = True
