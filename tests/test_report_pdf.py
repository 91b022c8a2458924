"""Report pages printed to PDF (segwork/report_pdf.py) by Debian's chromium: figures drawn, text
extractable (checked with poppler's pdftotext / pdfinfo)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from segwork.report_pdf import pdf_unavailable, write_pdfs
from segwork.report_render import clean_notebook, render_html, write_assets
from tests.test_report_render import executed_notebook

pytestmark = [
    pytest.mark.skipif(pdf_unavailable() is not None, reason=f"no PDFs here: {pdf_unavailable()}"),
    pytest.mark.skipif(
        shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
        reason="poppler-utils (pdftotext, pdfinfo) not installed: apt-get install poppler-utils",
    ),
]


def pdf_text(path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.parametrize("self_contained", [False, True], ids=["shared-plotly", "self-contained"])
def test_pdf_beside_the_page_with_its_figure_and_text(tmp_path, self_contained):
    folder = tmp_path / "2024-12-31"
    folder.mkdir()
    if not self_contained:
        write_assets(tmp_path)
    nb = executed_notebook()
    clean_notebook(nb)
    page = folder / "market_sizing.html"
    page.write_text(render_html(nb, name="market_sizing", title="Market sizing",
                                as_of="2024-12-31", self_contained=self_contained))  # fmt: skip
    assert write_pdfs([page]) == [folder / "market_sizing.pdf"]
    info = subprocess.run(["pdfinfo", str(folder / "market_sizing.pdf")], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "Title:           Market sizing · 2024-12-31" in info and "A4" in info
    text = pdf_text(folder / "market_sizing.pdf")
    assert "Market sizing" in text and "Stakeholder text." in text
    assert "papermill" not in text
    # the bar chart was drawn: its category labels are text in the PDF (plotly's SVG)
    assert "Alpha" in text and "Beta" in text


def test_a_page_that_never_gets_ready_is_named(tmp_path, monkeypatch):
    import segwork.report_pdf as report_pdf

    page = tmp_path / "broken.html"
    page.write_text('<html><body><div class="plotly-graph-div"></div></body></html>')
    monkeypatch.setattr(report_pdf, "PAGE_TIMEOUT_MS", 1_000)
    with pytest.raises(RuntimeError, match=r"^broken\.html: "):
        write_pdfs([page])
    assert not (tmp_path / "broken.pdf").exists()
