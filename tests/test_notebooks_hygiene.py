"""Product notebooks: stored without outputs, a tagged parameters cell papermill can read, no code
logic (no def/class/loops): the package computes, notebooks orchestrate."""

from __future__ import annotations

import ast
import json

import papermill
import pytest

from segwork.paths import NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None, path.name
    assert "widgets" not in nb.get("metadata", {})


PRODUCT = [p for p in NOTEBOOKS if p.name[:2].isdigit()]


@pytest.mark.parametrize("path", PRODUCT, ids=[p.name for p in PRODUCT])
def test_parameters_cell_is_readable_by_papermill(path):
    nb = json.loads(path.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    source = "".join(tagged[0]["source"])
    assigned = {t.id for node in ast.parse(source).body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    found = set(papermill.inspect_notebook(str(path)))
    assert found == assigned, f"papermill misses {assigned - found} (no '=' in comments)"
    assert {"data", "as_of"} <= found


@pytest.mark.parametrize("path", PRODUCT, ids=[p.name for p in PRODUCT])
def test_no_definitions_or_logic_in_notebooks(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse("".join(cell["source"]))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
                                  | ast.For | ast.While | ast.If), f"{path.name}: {ast.dump(node)[:80]}"
