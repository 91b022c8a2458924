"""A page as static HTML (headless runs: papermill, nbconvert, reports): :func:`page_html`, with
what a closed section shows (:data:`SECTION_CLOSED`); the page's "Download PDF" prints it
(:func:`write_page_pdf`, :func:`pdf_link_html`).
"""

from __future__ import annotations

import base64
import html
import json
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from segwork.widgets.tables import CSS, error_text, table_html, text_html
from segwork.widgets.view import View, download_frame, download_html

__all__ = [
    "SECTION_CLOSED",
    "SECTION_UPDATING",
    "page_html",
    "pdf_link_html",
    "slug",
    "write_page_pdf",
]

#: What a closed section holds until it is opened.
SECTION_CLOSED = (
    "<em>Computed when opened (the section then follows every change until it is closed).</em>"
)
#: What an open section shows between the page's answer to a change and its own new numbers.
SECTION_UPDATING = "<em>Updating for the new values…</em>"


def slug(text: str) -> str:
    """``text`` as a piece of an HTML id: lower case, runs of other characters as ``-``.

    >>> slug("Cohort Explorer: MRR")
    'cohort-explorer--mrr'
    """
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def page_html(
    view: View,
    *,
    page: str,
    title: str,
    description: str,
    state: Mapping[str, Any],
    error: str | None,
    result_title: str,
    table_heading: Callable[[str, pd.DataFrame], str],
    include_plotlyjs: bool | str = False,
    sections: Literal["all", "computed"] = "all",
    figures_first: bool = False,
    shown: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    currency: str | None = None,
) -> str:
    """A page's ``view`` as static HTML (headings, parameters, texts, tables, figures).

    Parameters
    ----------
    view : View
        What the page shows; its sections are computed here as ``sections`` asks.
    page : str
        The page's name (its class name), in the figures' HTML ids.
    title, description : str
        The page's heading and its paragraph (none when empty).
    state : mapping
        The page's parameters, listed under the heading.
    error : str or None
        The page's error, shown in its error box.
    result_title : str
        The heading of the main table.
    table_heading : callable(str, DataFrame) -> str
        A table's heading (``<h3>``) from its title and frame.
    include_plotlyjs : bool or str
        Passed to plotly for the first figure only (``True`` inlines plotly.js once, for an
        offline standalone page); later figures reuse it.
    sections : {"all", "computed"}
        ``"all"`` computes the sections not computed yet (a report shows everything);
        ``"computed"`` shows those computed so far and names the others.
    figures_first : bool
        Draw the figures before the main table (a page whose main table is long).
    shown : callable(DataFrame) -> DataFrame, optional
        A table as the page shows it (:meth:`Explorer.shown`); default the table itself.
    currency : str, optional
        The amounts' currency code, named in the money columns' headers ("MRR (EUR)").

    Returns
    -------
    str
        The HTML.
    """
    if sections not in ("all", "computed"):
        raise ValueError(f"sections must be 'all' or 'computed', got {sections!r}")
    v = view
    show = shown or (lambda t: t)
    parts = [CSS]
    if title:
        parts.append(f"<h2>{html.escape(title)}</h2>")
    if description:
        parts.append(f"<p>{html.escape(description)}</p>")
    params = ", ".join(
        f"<code>{html.escape(k)}</code> = {html.escape(json.dumps(val))}"
        for k, val in state.items()
    )
    parts.append(f"<p style='color:#555'>Parameters: {params}</p>")
    if error:
        parts.append(f'<div class="segwork-error">{html.escape(error)}</div>')
    if v.kpi_html:
        parts.append(v.kpi_html)
    js: bool | str = include_plotlyjs
    views: list[tuple[str | None, View | Exception]] = [(None, v)]
    for section in v.sections:
        if sections == "computed" and section not in v.resolved:
            views.append((section, View(texts={"closed": SECTION_CLOSED})))
            continue
        try:
            views.append((section, v.section(section)))
        except Exception as err:  # said in the page, where the section would be
            views.append((section, err))
    for heading, part in views:
        if heading is not None:
            parts.append(f"<h3 class='segwork-section'>{html.escape(heading)}</h3>")
        if isinstance(part, Exception):
            parts.append(
                f'<div class="segwork-error">Could not compute {html.escape(str(heading))}: '
                f"{html.escape(error_text(part))}</div>"
            )
            continue
        parts.extend(text_html(t) for t in part.texts.values())
        result = []
        if len(part.result.columns):
            heading = table_heading(result_title, part.result)
            result.append(heading + table_html(show(part.result), currency=currency))
        figures = []
        for name, fig in part.figures.items():
            figures.append(
                fig.to_html(
                    full_html=False,
                    include_plotlyjs=js,
                    div_id=f"segwork-{slug(page)}-{slug(name)}",
                )
            )
            js = False
        parts.extend([*figures, *result] if figures_first else [*result, *figures])
        for name, table in part.tables.items():
            parts.append(table_heading(name, table) + table_html(show(table), currency=currency))
        for name, df in part.downloads.items():
            parts.append(f"<p>{download_html(name, download_frame(df))}</p>")
    return "\n".join(parts)


def write_page_pdf(fragment: str, title: str) -> bytes:
    """The PDF of a page's static HTML ``fragment`` (:func:`page_html` with plotly.js inlined),
    printed by chromium (:func:`segwork.report_pdf.write_pdfs`: once every figure is drawn).

    The printing runs in a thread of its own: playwright's synchronous API refuses to run in a
    thread with an asyncio loop, as the kernel's.  Raises RuntimeError (chromium or playwright
    missing, a page not ready) like :func:`~segwork.report_pdf.write_pdfs`.
    """
    from segwork.report_pdf import write_pdfs

    document = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        '<style>body{font-family:system-ui,sans-serif;margin:0 8px}</style></head>'
        f"<body>{fragment}</body></html>"
    )
    out: dict[str, bytes | BaseException] = {}
    with tempfile.TemporaryDirectory(prefix="segwork-pdf-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(document, encoding="utf-8")

        def run() -> None:
            try:
                out["pdf"] = write_pdfs([page])[0].read_bytes()
            except BaseException as err:  # raised in the caller's thread below
                out["error"] = err

        worker = threading.Thread(target=run, name="segwork-pdf")
        worker.start()
        worker.join()
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    pdf = out["pdf"]
    assert isinstance(pdf, bytes)
    return pdf


def pdf_link_html(pdf: bytes, title: str) -> str:
    """A data-URI link that downloads ``pdf`` as ``<title>.pdf``.

    >>> pdf_link_html(b"%PDF-1.4", "Cohort retention 2024-12-31")[:60]
    '<a download="Cohort retention 2024-12-31.pdf" href="data:app'
    """
    payload = base64.b64encode(pdf).decode()
    return (
        f'<a download="{html.escape(title)}.pdf" href="data:application/pdf;base64,{payload}" '
        f'style="font-weight:600">Save {html.escape(title)}.pdf</a> ({len(pdf) / 1024:,.0f} kB)'
    )
