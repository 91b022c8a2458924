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

import contextlib
import copy
import datetime as dt
import html
import json
import traceback
from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, Literal, TypeVar
from urllib.parse import urlencode

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from segwork.data.dataset import Dataset
from segwork.engine import Engine, PageMemo
from segwork.headline import (
    HEADLINE_MIME,
    KPI_CARDS,
    Kpi,
    kpi_cards_html,
    kpis_of,
    previous_period,
)
from segwork.metrics.segments import prepare_totals, segment_table
from segwork.settings import AS_OF_ENV, env
from segwork.sources import open_data
from segwork.widgets.controls import default_control
from segwork.widgets.figures import figure_output
from segwork.widgets.idle import IdleSteps, kernel_loop
from segwork.widgets.params import Param, param_label, parse_query
from segwork.widgets.static import (
    SECTION_CLOSED,
    SECTION_UPDATING,
    page_html,
    pdf_link_html,
    slug,
    write_page_pdf,
)
from segwork.widgets.tables import CSS, column_kind, error_text, failure_html, text_html
from segwork.widgets.view import View, download_frame, download_widget, table_widget
from segwork.widgets.voila_page import page_query, served_by_voila

__all__ = ["Explorer"]

T = TypeVar("T")
E = TypeVar("E", bound="Explorer")


class Explorer:
    """Base of the segwork explorers (see the module docstring; subclasses set ``params``)."""

    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    result_title: ClassVar[str] = "Result"
    #: The first tab's title (the main part of the page; each section is a tab after it).
    overview_title: ClassVar[str] = "Overview"
    #: Draw the figures, then the other tables, before the main table (whose table is long).
    figures_first: ClassVar[bool] = False
    #: A table longer than this shows its first rows, the rest behind a click (and a download).
    long_table_rows: ClassVar[int] = 25
    params: ClassVar[tuple[Param, ...]] = ()
    #: Compute the first render like a one-off call (the plan of its date alone) and build the
    #: tables that serve every date when the kernel is idle: for a page whose as_of-independent
    #: tables cost more than its first date (the market page's segment history).
    first_date_alone: ClassVar[bool] = False

    def __init__(self, data: Any = None, **state: Any) -> None:
        self.data: Dataset = open_data(data)
        #: the page's engine state (caches, segment histories): a page changes as_of, so it
        #: keeps the engine tables that serve every date (from its first render, or from when
        #: it is idle: :attr:`first_date_alone`)
        self.engine = Engine(self.data, reuse_across_dates=not self.first_date_alone)
        self._choices: dict[str, Sequence[Any] | None] = {}
        self._defaults = self.default_state()
        self._state: dict[str, Any] = copy.deepcopy(self._defaults)
        # None for a parameter that has a default means "the page's default for this data"
        state = {k: v for k, v in state.items() if v is not None or self._defaults.get(k) is None}
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
        self._pending: set[tuple[int, str]] = set()  # (id of a view, section) drawn soon
        self._shown_tab: str | None = None  # the section whose tab is shown (None: overview)
        self._tabbing = False  # while the page sets its tabs itself
        self.controls: dict[str, widgets.Widget] = {}
        #: what the page builds ahead once it is shown and its kernel is idle
        self.idle = IdleSteps(self.preparations)
        self._build()
        self._recompute()

    # -- to override ------------------------------------------------------------------------------
    def compute(self, state: dict[str, Any]) -> View:  # pragma: no cover - abstract
        """The View for a validated state (pure: use :meth:`memo` for expensive pieces)."""
        raise NotImplementedError

    def validate(self, state: dict[str, Any]) -> None:
        """Cross-parameter checks; raise ValueError.  Single values are checked by each Param."""

    def default_state(self) -> dict[str, Any]:
        """The page's state before any choice: each parameter's default, which a page may adapt
        to its data (criteria the data does not have are not proposed)."""
        return {p.name: copy.deepcopy(p.default) for p in self.params}

    def preparations(self) -> list[Callable[[], object]]:
        """What a later change would otherwise build first, built ahead once the page is shown
        (:mod:`segwork.widgets.idle`): by default the histograms that give the rows set aside
        at any earlier as_of (:meth:`segwork.Engine.prepare_set_aside`), one step per table the
        page reads, then what the key numbers of any date read (:func:`prepare_totals`).  Pages
        add their own (the cohort page: quarters and years)."""
        tables = self.engine.dated_tables(self.tables_read(self._state))
        steps = [partial(self.engine.prepare_set_aside, [name]) for name in tables]
        return [*steps, partial(prepare_totals, self.engine)]

    def prepare(self) -> None:
        """Build now what :meth:`preparations` builds when the kernel is idle (a script or a
        benchmark, which has no idle kernel, calls this; a change works without it)."""
        self.idle.run()

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
        query = page_query()
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
            if value == self._defaults[p.name]:
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

    def shown(self, table: pd.DataFrame) -> pd.DataFrame:
        """A table as the page shows it (a page may relabel values, as cohorts "2022-01"); the
        API (:attr:`result`, :attr:`tables`) and the downloads keep the table itself."""
        return table

    def result_heading(self) -> str:
        """The heading of the main table (by default :attr:`result_title`; a page may adapt it
        to its data, as the segment table ordered by predicted CLV on shop data)."""
        return self.result_title

    def kpis(self, state: dict[str, Any]) -> list[Kpi]:
        """The KPI cards the page opens with: the key numbers at as_of and their change against
        :func:`~segwork.headline.previous_period` (MRR, customers, churn and NRR on subscription
        data; revenue, buyers and predicted CLV on transactions-only data; none otherwise).

        The totals are :func:`segwork.metrics.segment_table`'s total row (one per date, kept by
        :meth:`memo`); before the first signup there is no previous period to compare with."""
        as_of, kind = state.get("as_of"), self.data.kind
        if not as_of or kind not in KPI_CARDS:
            return []
        gm = float(state.get("gross_margin", 1.0)) if kind == "transactions" else 1.0

        def total(day: str) -> dict[str, Any]:
            return self.memo(
                ("kpi_total", day, gm),
                lambda: segment_table(self.engine, None, day, gross_margin=gm).iloc[0].to_dict(),
            )

        before_day = previous_period(as_of)
        first = self.first_signup()
        before = total(before_day) if first is None or before_day >= first.isoformat() else None
        return kpis_of(kind, total(as_of), before)

    def _kpi_html(self, state: dict[str, Any]) -> str:
        """The KPI cards as HTML; a failure is said where the cards would be (never hides the
        page)."""
        try:
            cards = self.kpis(state)
        except Exception as err:  # said in the page, the rest of the page stays
            why = html.escape(error_text(err))
            return f'<div class="segwork-error">Key numbers not available: {why}</div>'
        as_of = state.get("as_of")
        previous = previous_period(as_of) if as_of else ""
        return kpi_cards_html(cards, self.data.currency, previous=previous)

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
            self._choices[name] = list(c(self.engine)) if callable(c) else (list(c) if c else None)
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
        opened = [p.section for p in self.params if p.section and p.name in changes]
        self._open.update(opened)
        if opened:  # the section of the changed value is the one shown
            self._shown_tab = opened[-1]
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
            self._shown_tab = title
        else:
            self._open.discard(title)
            if self._shown_tab == title:
                self._shown_tab = None
        self._render()

    def memo(self, key: Hashable, fn: Callable[[], T]) -> T:
        """``fn()`` kept under ``key`` by the page's :attr:`engine` (its bounded LRU)."""
        return self.engine.value(PageMemo(type(self).__name__, key), fn)

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
            if kernel_loop() is None:  # the open sections with the change, else just after it
                for title in (t for t in view.sections if t in self._open):
                    view.section(title)
            as_of = self._state.get("as_of")
            aside = self._set_aside_note(as_of, self.tables_read(self._state)) if as_of else ""
            # the page's data note: the currency of its amounts, then what was set aside
            view.texts.setdefault("set_aside", f"Amounts in {self.data.currency}. {aside}".strip())
            view.kpi_html = self._kpi_html(self.state)
            self.view = view
            self._render()
        except Exception as err:  # shown in the page, never swallowed
            self.error = error_text(err)
            self._last_traceback = traceback.format_exc()
            if self.view is not previous:  # the new view could not be drawn: back to the last
                self.view = previous
                with contextlib.suppress(Exception):  # the error above is what the page says
                    self._render()
            if self._failed_by is None or self.error != self._failure:
                self._failed_by = self._changing  # a new failure: after this change
            self._failure = self.error
            self._status.value = failure_html(err, self._failed_by, shown=self._shown)
            return
        self._shown = True
        self.idle.again()  # what the new state's sections need, built ahead when idle
        self.error = self._failed_by = self._failure = None
        self._status.value = ""
        self._link.value = (
            f'<a href="{html.escape(self.url_query() or "?")}" style="font-size:12px">'
            "Link to this view</a>"
        )

    def shows_money(self, title: str, table: pd.DataFrame) -> bool:
        """Whether the table ``title`` holds amounts (its heading then names their currency):
        by default, a number column named like money (``mrr``, ``ltv``, ``tam``, the MRR
        movements...: :func:`format_frame`'s rule)."""
        return any(
            column_kind(str(c).lower()) == "money"
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
            counts = self.engine.set_aside(as_of, tables).groupby("table", sort=False)
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
    def _build(self) -> None:
        # the page's title and its introduction are the notebook's own "# Title" cell, shown
        # once above the widget; the static page (to_html) carries both: a PDF stands alone
        header = widgets.HTML(CSS)
        for p in self.params:
            w = self.make_control(p) or default_control(p, self.choices)
            if p.help:
                w.tooltip = p.help
            w.value = self.to_widget(p, self._state[p.name])
            w.observe(self._on_change(p), names="value")
            self.controls[p.name] = w
        self._status = widgets.HTML()
        self._link = widgets.HTML()
        self._kpis = widgets.HTML()
        self._body = widgets.VBox()  # the overview tab: the main part of the page
        self._tabs = widgets.Tab(children=[self._body], titles=[self.overview_title])
        self._tabs.observe(self._on_tab, names="selected_index")
        self.pdf_button = widgets.Button(
            description="Download PDF",
            icon="file-pdf-o",
            tooltip="A PDF of the page as shown (the open tabs' sections included)",
            layout=widgets.Layout(width="auto"),
        )
        self.pdf_link = widgets.HTML()
        self.pdf_button.on_click(lambda _button: self.prepare_pdf())
        controls = widgets.HBox(
            list(self.controls.values()), layout=widgets.Layout(flex_flow="row wrap")
        )
        tools = widgets.HBox(
            [self._link, self.pdf_button, self.pdf_link],
            layout=widgets.Layout(align_items="center", grid_gap="12px"),
        )
        self.widget = widgets.VBox([header, controls, tools, self._status, self._kpis, self._tabs])

    def prepare_pdf(self) -> bytes:
        """Print the page as shown (its computed sections, with figures) to PDF with chromium
        (:func:`segwork.report_pdf.write_pdfs`) and put a download link of it beside the button;
        a failure is said there.  Returns the PDF's bytes (empty on failure)."""
        self.pdf_link.value = "<em>preparing the PDF…</em>"
        name = f"{self.title or type(self).__name__} {self._state.get('as_of') or ''}".strip()
        try:
            pdf = write_page_pdf(self.to_html(include_plotlyjs=True, sections="computed"), name)
        except Exception as err:  # shown in the page, never swallowed
            text = error_text(err)
            self.pdf_link.value = (
                f'<span class="segwork-error">The PDF could not be made: {html.escape(text)}</span>'
            )
            return b""
        self.pdf_link.value = pdf_link_html(pdf, name)
        return pdf

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
                self._changing = ", ".join(param_label(p) for p in params)
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
            text = error_text(err)
            if not isinstance(err, ValueError):
                self._last_traceback = "".join(traceback.format_exception(err))
            names = ", ".join(param_label(p) for p in params)
            help_text = params[0].help if params else ""
            lines.append(
                f"<b>{html.escape(names)}:</b> {html.escape(text)}"
                + (f"<br><i>{html.escape(help_text)}</i>" if help_text else "")
            )
            texts.append(text)
            fields += [param_label(p) for p in params if param_label(p) not in fields]
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

    def _table_widget(
        self, title: str, table: pd.DataFrame, css_class: str = "segwork-part"
    ) -> widgets.Widget:
        """A table with its heading; a long one shows its first :attr:`long_table_rows` rows and
        the rest behind a click (the whole table is also a CSV download).  ``css_class`` marks
        the table's widget in the page (``segwork-result`` for the page's main table)."""
        heading, file = self._heading(title, table), f"{slug(title)}.csv"
        parts = (self.long_table_rows, self.data.currency, css_class)
        return table_widget(heading, self.shown(table), (file, table), *parts)

    def _view_widgets(self, v: View) -> list[widgets.Widget]:
        children: list[widgets.Widget] = []
        for text in v.texts.values():
            children.append(widgets.HTML(text_html(text)))
        result = (
            [self._table_widget(self.result_heading(), v.result, "segwork-result")]
            if len(v.result.columns)
            else []
        )
        figures = [figure_output(fig) for fig in v.figures.values()]
        tables = [self._table_widget(name, table) for name, table in v.tables.items()]
        # figures first: the charts, the short tables, then the (long) main table
        order = [figures, tables, result] if self.figures_first else [result, figures, tables]
        children += [w for part in order for w in part]
        children += [download_widget(n, d) for n, d in v.downloads.items()]
        return children

    def _render(self) -> None:
        v = self.view
        self._kpis.value = v.kpi_html
        self._body.children = (*self._view_widgets(v), *self.after_render())
        boxes = []
        for title in v.sections:
            box = widgets.VBox()
            self._fill_section(box, v, title)
            boxes.append(box)
        shown = self._shown_tab if self._shown_tab in v.sections else None
        self._tabbing = True
        try:
            self._tabs.children = (self._body, *boxes)
            self._tabs.titles = (self.overview_title, *v.sections)
            self._tabs.selected_index = 0 if shown is None else list(v.sections).index(shown) + 1
        finally:
            self._tabbing = False

    @property
    def pending_sections(self) -> tuple[str, ...]:
        """Open sections of the current view still to be drawn after the page's answer."""
        return tuple(t for key, t in self._pending if key == id(self.view))

    def _fill_section(self, box: widgets.VBox, v: View, title: str, now: bool = False) -> None:
        """A section's tab: computed when opened, recomputed with changes while open.  On a
        kernel's loop, an open section not computed yet is drawn on the loop's next turn: the
        page answers a change with its main part first (a change after it supersedes it)."""
        if title not in v.resolved and title not in self._open:
            box.children = [widgets.HTML(SECTION_CLOSED)]
            return
        loop = None if now or title in v.resolved else kernel_loop()
        if loop is not None:
            box.children = [widgets.HTML(SECTION_UPDATING)]
            self._pending.add((id(v), title))
            loop.call_soon(self._fill_later, box, v, title)
            return
        try:
            box.children = self._view_widgets(v.section(title))
        except Exception as err:  # shown in the section, never swallowed
            self._last_traceback = traceback.format_exc()
            text = error_text(err)
            box.children = [
                widgets.HTML(
                    f'<div class="segwork-error"><b>Could not compute {html.escape(title)}'
                    f":</b> {html.escape(text)}<br>Change the values above to retry.</div>"
                )
            ]

    def _fill_later(self, box: widgets.VBox, v: View, title: str) -> None:
        self._pending.discard((id(v), title))
        if self.view is v and title in self._open:  # else a later change drew the page again
            self._fill_section(box, v, title, now=True)

    def _on_tab(self, change: dict[str, Any]) -> None:
        """A click on a tab: the section shown before is closed (no longer recomputed with
        changes), the one clicked is opened (computed now if it was not)."""
        if self._tabbing:
            return
        titles = list(self.view.sections)
        index = change["new"] or 0
        if self._shown_tab is not None:
            self._open.discard(self._shown_tab)
        self._shown_tab = titles[index - 1] if 0 < index <= len(titles) else None
        if self._shown_tab is None:
            return
        self._open.add(self._shown_tab)
        box = self._tabs.children[index]
        box.children = [widgets.HTML("<em>computing…</em>")]
        self._fill_section(box, self.view, self._shown_tab, now=True)

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
        return page_html(
            self.view,
            page=type(self).__name__,
            title=self.title,
            description=self.description,
            state=self._state,
            error=self.error,
            result_title=self.result_heading(),
            table_heading=self._heading,
            figures_first=self.figures_first,
            shown=self.shown,
            include_plotlyjs=include_plotlyjs,
            sections=sections,
            currency=self.data.currency,
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view, the static HTML of the whole page and the headline figures.

        Served by Voila, a page always shows its widget view, so the static HTML there holds
        only what is computed (the sections wait to be opened) and no headline is attached;
        elsewhere (JupyterLab, papermill reports, nbconvert) every section is computed for it.
        """
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        self.idle.schedule()  # shown: build ahead when the kernel is idle
        served = served_by_voila()
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
