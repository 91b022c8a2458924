"""notebooks/01_market_sizing.ipynb runs headless with papermill (non-default parameters) and its
static HTML output carries the page's headings and figures."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest

from segwork.paths import NOTEBOOKS_DIR
from tests.notebooks import static_html

NOTEBOOK = NOTEBOOKS_DIR / "01_market_sizing.ipynb"


def test_notebook_is_stored_clean() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert code[0].metadata.get("tags") == ["parameters"]
    assert nb.metadata["kernelspec"]["name"] == "python3"
    source = "\n".join(c.source for c in code)
    assert "def " not in source and "for " not in source and "class " not in source


def test_papermill_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGWORK_DATA", raising=False)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out),
        parameters={
            "serviceable": {"region": ["Europe", "North America"]},
            "share": 0.03,
            "share_low": 0.01,
            "share_high": 0.06,
            "n_draws": 2000,
            "top_down": 2.5e10,
        },
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    html = static_html(nb)
    for text in (
        "Market sizing",
        "Market segments",
        "TAM / SAM / SOM",
        "What moves SOM",
        "Top-down vs bottom-up",
        "Penetration by segment",
        "Ideal customer profile",
        "segwork-marketexplorer-funnel",
        "segwork-marketexplorer-tornado",
        "segwork-marketexplorer-penetration",
        "<code>share</code> = 0.03",
        "<code>n_draws</code> = 2000",
        "Europe",
    ):
        assert text in html, text
    assert "Could not update the page" not in html
