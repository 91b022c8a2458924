"""notebooks/02_customer_segmentation.ipynb runs headless with papermill (non-default parameters)
and its static HTML output carries the page's headings, sentences and figures (issue 5)."""

from __future__ import annotations

import ast
import json
from html import escape as html_escape
from pathlib import Path

import nbformat
import papermill
import pytest

from segwork.paths import NOTEBOOKS_DIR
from segwork.widgets.segments import SegmentExplorer
from tests.notebooks import static_html

NOTEBOOK = NOTEBOOKS_DIR / "02_customer_segmentation.ipynb"


def test_notebook_is_stored_clean() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert code[0].metadata.get("tags") == ["parameters"]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    source = "\n".join(c.source for c in code)
    # no function or class definitions, loops or branches: only calls and assignments
    logic = (ast.FunctionDef, ast.ClassDef, ast.For, ast.While, ast.If, ast.Lambda)
    assert not [n for n in ast.walk(ast.parse(source)) if isinstance(n, logic)]
    # the parameters cell holds exactly the explorer's parameters, plus data
    params = {line.split("=")[0].strip() for line in code[0].source.splitlines() if "=" in line}
    assert params == {"data", *(p.name for p in SegmentExplorer.params)}


def test_papermill_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGWORK_DATA", raising=False)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "by": ["billing_interval"],
            "k": 3,
            "gross_margin": 0.8,
            "min_customers": 50,
            "compare_as_of": "2024-06-30",
        },
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    html = static_html(nb)
    for text in (
        "Customer segmentation",
        "Segment table (ordered by LTV)",
        "Best customers (highest LTV among segments of at least 50 customers, gross margin 80 %)",
        "Customers on annual plans: LTV",
        "Personas: 3 k-means clusters",
        "Silhouette by k",
        "Mix shift: churn (2024-06-30 → 2024-12-31)",
        "Mix shift: NRR (2024-06-30 → 2024-12-31)",
        "segment_members.csv",
        "segwork-segmentexplorer-share",
        "segwork-segmentexplorer-churn",
        "segwork-segmentexplorer-ltv",
        "segwork-segmentexplorer-personas",
        "segwork-segmentexplorer-mix",
        "gross margin 80 %",
        "<code>k</code> = 3",
        f"<code>by</code> = {html_escape(json.dumps(['billing_interval']))}",
    ):
        assert text in html, text
    assert "Could not update the page" not in html
    assert "segwork-error" not in html.split("</style>", 1)[-1]
