"""The cohort retention notebook runs headless (papermill) and under nbval.

Runs notebooks/03_cohort_retention.ipynb with non-default parameters on the bundled sample and on
a transactions-only data set, and checks the static HTML the explorer leaves in the output.
"""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import papermill
import pytest

from segwork.paths import SAMPLE_DIR

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "03_cohort_retention.ipynb"


def _run(tmp_path: Path, parameters: dict[str, Any]) -> str:
    """Execute the notebook; return the text/html output of the cell displaying the explorer."""
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters=parameters, kernel_name="python3", cwd=str(tmp_path),
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    shown = [c for c in nb.cells if c.cell_type == "code" and c.source.strip() == "explorer"]
    assert len(shown) == 1
    htmls = [o["data"]["text/html"] for o in shown[0].outputs if "text/html" in o.get("data", {})]
    assert len(htmls) == 1
    return "".join(htmls[0]) if isinstance(htmls[0], list) else str(htmls[0])


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in ("data", "as_of", "period", "metric", "cohort", "by", "where", "horizon"):
        assert f"\n{name} = " in "\n" + tagged[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_sample_with_non_default_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGWORK_DATA", raising=False)
    page = _run(tmp_path, {"period": "quarter", "metric": "nrr", "by": "plan", "horizon": 8})
    assert '<div class="segwork-error">' not in page
    for part in ("Cohort retention", "Cohort table", "Net revenue retention by cohort (quarters)",
                 "segwork-cohortexplorer-heatmap", "segwork-cohortexplorer-curves",
                 "segwork-cohortexplorer-mrr-movements", "segwork-cohortexplorer-survival",
                 "Survival: number at risk", "Churn conventions", "12-month retention of the",
                 *(html.escape(json.dumps(v)) for v in ("quarter", "nrr", "plan"))):
        assert part in page, part


def test_transactions_only_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "shop"
    data_dir.mkdir()
    for name in ("customers.csv", "transactions.csv"):
        shutil.copy(SAMPLE_DIR / name, data_dir / name)
    page = _run(tmp_path, {"data": str(data_dir), "period": "quarter", "metric": "nrr",
                           "by": "plan", "horizon": 8})
    assert '<div class="segwork-error">' not in page
    assert "MRR sections do not apply to transactions-only data" in page
    assert "segwork-cohortexplorer-heatmap" in page
    assert "segwork-cohortexplorer-mrr-movements" not in page


def test_nbval() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", str(NOTEBOOK), "-q", "-p",
         "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
