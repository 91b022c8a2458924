"""Report pages printed to PDF by Debian's chromium driven by playwright (``report --pdf``).

No browser is downloaded: chromium is the system's (``shutil.which("chromium")``, apt package
``chromium``) and playwright only drives it.  Each page is opened from its file, and printed once
it is ready: every plotly figure drawn (its ``.main-svg``) and the fonts loaded, never after a
fixed sleep.  The text of a PDF is text (extractable with ``pdftotext``), the figures vectors.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CHROMIUM_ARGS", "PAGE_TIMEOUT_MS", "chromium_path", "pdf_unavailable", "write_pdfs"]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
#: Longest wait for one page to be ready (a bound on a hung page, not an expectation).
PAGE_TIMEOUT_MS = 120_000
# A4 with 10 mm margins is 718 CSS px wide; printed at 75 % the layout is 957 px wide, and the
# page is laid out (its figures sized) at that width before printing
_SCALE = 0.75
_WIDTH = 957
_READY = """() => document.readyState === 'complete'
  && Array.from(document.querySelectorAll('.plotly-graph-div'))
       .every(d => d.querySelector('.main-svg') !== null)"""


def chromium_path() -> str | None:
    """The system chromium (``chromium``, else ``chromium-browser``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def pdf_unavailable() -> str | None:
    """Why PDFs cannot be written here (one line), or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install 'segwork[pdf]')"
    if chromium_path() is None:
        return "chromium is not installed (apt-get install chromium)"
    return None


def write_pdfs(pages: Sequence[Path]) -> list[Path]:
    """Print each HTML page to a PDF beside it (``x.html`` -> ``x.pdf``); return the PDFs.

    Raises
    ------
    RuntimeError
        With the page and the reason when chromium cannot be started or a page is not ready in
        :data:`PAGE_TIMEOUT_MS`.
    """
    if not pages:
        return []
    reason = pdf_unavailable()
    if reason:
        raise RuntimeError(reason)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            for page_path in pages:
                target = page_path.with_suffix(".pdf")
                page = browser.new_page(viewport={"width": _WIDTH, "height": 1200})
                try:
                    page.goto(page_path.resolve().as_uri(), wait_until="load")
                    page.wait_for_function(_READY, timeout=PAGE_TIMEOUT_MS)
                    page.evaluate("() => document.fonts.ready.then(() => true)")
                    page.pdf(
                        path=str(target),
                        format="A4",
                        scale=_SCALE,
                        print_background=True,
                        margin={"top": "10mm", "bottom": "10mm", "left": "10mm", "right": "10mm"},
                    )
                except PlaywrightError as err:
                    first = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
                    raise RuntimeError(f"{page_path.name}: {first}") from None
                finally:
                    page.close()
                written.append(target)
        finally:
            browser.close()
    return written
