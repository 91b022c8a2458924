"""The house rules of issue 22, checked on the source: no import cycle (lazy imports included),
no underscore name imported from another module, no module over 800 lines, and the Dataset
module imports nothing above the data floor."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import segwork

ROOT = Path(segwork.__file__).parent
MAX_LINES = 800


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, list[str]]]:
    """(module imported, names imported) of every segwork import of a file, lazy ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("segwork"):
            names = [a.name for a in node.names]
            subs = [f"{node.module}.{n}" for n in names if f"{node.module}.{n}" in modules]
            found.append((node.module, [n for n in names if f"{node.module}.{n}" not in modules]))
            found.extend((s, []) for s in subs)
        elif isinstance(node, ast.Import):
            found.extend((a.name, []) for a in node.names if a.name.startswith("segwork"))
    return found


def test_no_import_cycle():
    modules = _modules()
    graph = {
        m: {t for t, _ in _imports(p, modules) if t in modules and t != m and t != "segwork"}
        for m, p in modules.items()
        if m != "segwork"  # the package's public face imports everything
    }
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                cycle = [*stack[stack.index(t):], t]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_no_underscore_name_crosses_a_module():
    modules = _modules()
    crossing = [
        f"{path.relative_to(ROOT.parent)} imports {name} from {module}"
        for path in modules.values()
        for module, names in _imports(path, modules)
        for name in names
        if name.startswith("_") and name != "__version__"
    ]
    assert not crossing, "\n".join(crossing)


def test_no_module_over_800_lines():
    long = {
        str(p.relative_to(ROOT.parent)): n
        for p in _modules().values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, long


def test_nothing_below_imports_the_package_root():
    """Modules import what they need from its home, never ``from segwork import ...`` (the
    package root imports every module, so that would be an arrow back up)."""
    modules = _modules()
    back = [
        str(p.relative_to(ROOT.parent))
        for m, p in modules.items()
        if m != "segwork" and any(t == "segwork" for t, _ in _imports(p, modules))
    ]
    assert not back, back


def test_a_page_imports_no_fitting_library():
    """A cold kernel pays every import before its first render: importing segwork and its pages
    loads neither scipy.stats nor scipy.optimize nor scikit-learn (seconds together); they are
    imported by the fits that need them."""
    code = (
        "import sys, segwork, segwork.widgets, segwork.report; "
        "print(sorted(m for m in ('scipy.stats', 'scipy.optimize', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "[]"
