"""``<out>/index.html`` (segwork/report_index.py): every report with links, newest first."""

from __future__ import annotations

import json
import re

from segwork.report_index import index_html, write_index


def plant(root, day, notebooks, *, pdf=False, skipped=None):
    folder = root / day
    folder.mkdir(parents=True)
    books = {n: {"title": n.replace("_", " ").capitalize()} for n in notebooks}
    metrics = {"as_of": day, "generated_at": f"{day}T23:00:00+00:00", "notebooks": books,
               "skipped": skipped or {}, "data": {"format": "segwork", "currency": "USD"}}  # fmt: skip
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "summary.md").write_text("# digest\n")
    for n in notebooks:
        (folder / f"{n}.html").write_text("<html></html>")
        if pdf:
            (folder / f"{n}.pdf").write_bytes(b"%PDF-1.4")


def test_index_lists_every_report_newest_first_with_links(tmp_path):
    plant(tmp_path, "2024-10-31", ["market_sizing"])
    plant(tmp_path, "2024-12-31", ["customer_segmentation", "cohort_retention"], pdf=True,
          skipped={"market_sizing": "the data has no market table"})  # fmt: skip
    plant(tmp_path, "2024-11-30", ["market_sizing", "cohort_retention"])
    (tmp_path / "assets").mkdir()
    (tmp_path / ".tmp-2025-01-31-123").mkdir()  # a run under way is not listed
    path = write_index(tmp_path)
    assert path == tmp_path / "index.html" and path.read_text() == index_html(tmp_path)
    page = path.read_text()
    days = re.findall(r"<td><b>(\d{4}-\d\d-\d\d)</b></td>", page)
    assert days == ["2024-12-31", "2024-11-30", "2024-10-31"]
    links = re.findall(r'href="([^"]+)"', page)
    assert links == [
        "summary.md",
        "2024-12-31/customer_segmentation.html",
        "2024-12-31/customer_segmentation.pdf",
        "2024-12-31/cohort_retention.html",
        "2024-12-31/cohort_retention.pdf",
        "2024-12-31/summary.md",
        "2024-11-30/market_sizing.html",
        "2024-11-30/cohort_retention.html",
        "2024-11-30/summary.md",
        "2024-10-31/market_sizing.html",
        "2024-10-31/summary.md",
    ]
    for link in links[1:]:
        assert (tmp_path / link).exists(), link
    assert "market sizing not run: the data has no market table" in page
    assert ">Customer segmentation</a>" in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert not list(tmp_path.glob(".index.html.*"))  # written atomically, nothing left


def test_an_empty_folder_says_so(tmp_path):
    assert "No reports yet." in index_html(tmp_path)
