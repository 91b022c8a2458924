"""What a page shows for one state (:class:`View`) and its downloads: frames made when needed
(:class:`Deferred`), prepared with the page or on a click (:func:`on_click`), as a link
(:func:`download_html`) or the live page's widget (:func:`download_widget`).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

import ipywidgets as widgets
import pandas as pd
import plotly.graph_objects as go

from segwork.widgets.tables import error_html, table_html

__all__ = [
    "DOWNLOAD_INLINE_ROWS",
    "INLINE_QUERY_CUSTOMERS",
    "Deferred",
    "Download",
    "View",
    "download_frame",
    "download_html",
    "download_widget",
    "on_click",
    "show_download",
    "table_widget",
]

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
    ``live=False`` marks a download that the live page offers with a control of its own (the
    segmentation page's export of the selected segments): :func:`download_widget` then draws
    nothing, so the page shows the file once; reports and the API keep it.

    >>> d = Deferred(2, lambda: pd.DataFrame({"x": [1, 2]}))
    >>> d.rows, d.frame()["x"].tolist()
    (2, [1, 2])
    """

    def __init__(
        self,
        rows: int,
        build: Callable[[], pd.DataFrame],
        *,
        inline: bool = True,
        live: bool = True,
    ) -> None:
        self.rows = int(rows)
        self.inline = bool(inline)
        self.live = bool(live)
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
    #: The KPI cards the page opens with, as HTML (set by the page with each change).
    kpi_html: str = ""
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
            kpi_html=self.kpi_html,
        )


def download_html(name: str, df: pd.DataFrame) -> str:
    """A data-URI link that downloads ``df`` as CSV (works in JupyterLab and Voila, no server)."""
    payload = base64.b64encode(df.to_csv(index=False).encode()).decode()
    return (
        f'<a download="{html.escape(name)}" href="data:text/csv;base64,{payload}" '
        f'style="font-weight:600">Download {html.escape(name)}</a> ({len(df):,} rows)'
    )


def table_widget(
    heading: str,
    table: pd.DataFrame,
    download: tuple[str, pd.DataFrame],
    rows: int,
    currency: str,
    css_class: str,
) -> widgets.Widget:
    """A page's table under its ``heading`` (HTML) with the CSS class ``css_class``; a long one
    shows its first ``rows`` rows and the rest behind a click, beside ``download`` (file name,
    frame: the whole table as the page has it, before what it shows is chosen)."""
    n, (file, full) = rows, download
    if len(table) <= n:
        return widgets.HTML(heading + table_html(table, currency=currency)).add_class(css_class)
    first = table_html(table.head(n), currency=currency)
    shown = widgets.HTML(heading + first).add_class(css_class)
    button = widgets.Button(
        description=f"Show all {len(table):,} rows", layout=widgets.Layout(width="auto")
    )
    note = widgets.HTML(
        f"<small>First {n} of {len(table):,} rows.</small> " + download_html(file, full)
    )

    def show_all(_button: widgets.Button) -> None:
        shown.value = heading + table_html(table, currency=currency)
        button.layout.display = "none"

    button.on_click(show_all)
    return widgets.VBox([shown, widgets.HBox([button, note])])


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
    >>> download_widget("c.csv", Deferred(1, pd.DataFrame, live=False)).layout.display
    'none'
    """
    if isinstance(df, Deferred) and not df.live:  # the page offers it with its own control
        return widgets.Box(layout=widgets.Layout(display="none"))
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
    failure is shown in ``link`` in words (:func:`~segwork.widgets.tables.error_html`, never
    swallowed) and the button stays for another try.

    >>> link, button = widgets.HTML(), widgets.Button()
    >>> show_download(link, button, "a.csv", Deferred(1, lambda: 1 / 0))
    >>> link.value, button.layout.display
    ('<div class="segwork-error">division by zero</div>', None)
    """
    try:
        link.value = download_html(name, download_frame(df))
    except Exception as err:  # shown in the page, never swallowed
        link.value = error_html(err)
        return
    button.layout.display = "none"
