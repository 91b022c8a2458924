"""docs/metrics.md, the metric reference: its citations of code and tests stay true.

Every section ends with one line ``Implemented by: `a.b.c`, ... Checked by: `tests/x.py::test_y`,
...``.  Each implementing name must resolve (module imported, attributes looked up), and each test
file, test function and parametrised case it names must exist.  Code and tests under
``segwork.sources`` / ``tests/sources/`` are being written: a module or test file that does not
exist yet is skipped, not failed.  The contract rules the loader raises are all documented, and the
RFM table is the code's.  Nothing here touches data: it runs in well under a second once segwork is
imported.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from segwork.paths import REPO_ROOT

DOC = REPO_ROOT / "docs" / "metrics.md"

#: Headings cited from code, messages and tests: renaming one breaks those citations.
CITED = (
    "Conventions",
    "Extensions to the definitions",
    "Input tables",
    "Rows set aside",
    "Currencies",
    "Imported data",
    "Imported data: Stripe",
    "Imported data: Shopify",
    "Imported data: Online Retail (order lines)",
    "Nothing vanishes",
    "MRR",
    "Active customer",
    "MRR movements",
    "ARPA",
    "Logo churn",
    "Churn window",
    "Churn conventions",
    "Gross MRR churn",
    "NRR and GRR",
    "Quick ratio",
    "LTV",
    "Confidence intervals",
    "Small segments",
    "Cohorts",
    "Logo retention",
    "Revenue retention",
    "Cohort comparison",
    "Survival",
    "Retention projection",
    "Predicted customer value",
    "Segmentations and derived attributes",
    "Current and first plan",
    "Plan moves",
    "Segment table",
    "Segment members",
    "RFM",
    "Engagement",
    "Mix shift",
    "Personas",
    "Market sizing",
    "Market ranges and Monte Carlo",
    "Sensitivity",
    "Penetration",
    "Ideal customer profile",
)

#: Code and tests still being written: absent ones are skipped.
PENDING_MODULES = "segwork.sources"
PENDING_TESTS = "tests/sources/"

_TICKED = re.compile(r"`([^`]+)`")
_TEST = re.compile(r"^(tests/[\w/]+\.py)(?:::(\w+)(?:\[([^\]]+)\])?)?$")
_RULE = re.compile(r"^[a-z]+(?:_[a-z0-9]+)+$")


def _sections() -> dict[str, list[str]]:
    """``{heading: lines}`` of every ``## `` section of the reference."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            assert heading not in out, f"heading {heading!r} appears twice"
            current = out[heading] = []
        elif current is not None:
            current.append(line)
    return out


SECTIONS = _sections()


def _citation(heading: str) -> tuple[list[str], list[str]]:
    """The names after ``Implemented by:`` and the tests after ``Checked by:`` of a section."""
    lines = [ln for ln in SECTIONS[heading] if ln.strip()]
    assert lines, f"section {heading!r} is empty"
    last = lines[-1]
    assert last.startswith("Implemented by: ") and " Checked by: " in last, (
        f"section {heading!r} must end with 'Implemented by: ... Checked by: ...', got {last!r}"
    )
    implemented, checked = last.removeprefix("Implemented by: ").split(" Checked by: ", 1)
    names, tests = _TICKED.findall(implemented), _TICKED.findall(checked)
    assert names, f"section {heading!r} names no implementing function"
    assert tests, f"section {heading!r} names no test"
    return names, tests


def _resolve(name: str) -> Any:
    """The object a dotted name stands for, part by part: in a package a submodule first (the
    package may re-export a function under the submodule's name), else an attribute.

    A submodule of a package that does not exist raises ModuleNotFoundError (a pending module);
    any other missing part AttributeError.
    """
    first, *rest = name.split(".")
    obj: Any = importlib.import_module(first)
    for part in rest:
        if isinstance(obj, ModuleType) and hasattr(obj, "__path__"):
            full = f"{obj.__name__}.{part}"
            try:
                obj = importlib.import_module(full)
                continue
            except ModuleNotFoundError as err:
                if err.name != full or not hasattr(obj, part):
                    raise
        obj = getattr(obj, part)
    return obj


def test_reference_has_the_cited_sections():
    missing = [h for h in CITED if h not in SECTIONS]
    assert not missing, f"docs/metrics.md lacks the cited sections {missing}"


@pytest.mark.parametrize("heading", list(SECTIONS))
def test_implementing_names_resolve(heading):
    names, _ = _citation(heading)
    for name in names:
        assert name.startswith("segwork."), f"{heading!r}: {name!r} is not a segwork name"
        if name.startswith(PENDING_MODULES):
            try:
                _resolve(name)
            except ModuleNotFoundError as err:
                if (err.name or "").startswith(PENDING_MODULES):
                    continue  # written now by others: the reference is ahead of the code
                pytest.fail(f"{heading!r}: {name!r} does not resolve: {err}")
            except AttributeError as err:
                pytest.fail(f"{heading!r}: {name!r} does not resolve: {err}")
            continue
        try:
            _resolve(name)
        except (ImportError, AttributeError) as err:
            pytest.fail(f"{heading!r}: {name!r} does not resolve: {err}")


@pytest.mark.parametrize("heading", list(SECTIONS))
def test_checking_tests_exist(heading):
    _, tests = _citation(heading)
    for cited in tests:
        found = _TEST.match(cited)
        assert found, f"{heading!r}: {cited!r} is not tests/<path>.py[::test_name[case]]"
        path, function, case = found.groups()
        file = REPO_ROOT / path
        if not file.exists():
            if path.startswith(PENDING_TESTS):
                continue  # written now by others
            pytest.fail(f"{heading!r}: {path} does not exist")
        if function is None:
            continue
        assert function.startswith("test_"), f"{heading!r}: {cited!r} names no test function"
        assert re.search(rf"^\s*(?:async\s+)?def {function}\(", file.read_text(), re.M), (
            f"{heading!r}: {path} has no function {function}"
        )
        if case is not None:  # a parametrised case: its id is written in a module beside it
            texts = (p.read_text() for p in file.parent.glob("*.py"))
            assert any(f'"{case}"' in t for t in texts), (
                f"{heading!r}: no case id {case!r} beside {path}"
            )


def _raised_rules() -> set[str]:
    """The rule names the loader can raise, read from its source (not run)."""
    from segwork.data.contract import TABLE_SPECS

    rules = {r for spec in TABLE_SPECS.values() for c in spec.columns
             for r in (c.min_rule if c.minimum is not None else None,
                       c.allowed_rule if c.allowed is not None else None) if r}  # fmt: skip
    for name in ("contract.py", "load.py", "csv_shape.py", "encoding.py"):
        tree = ast.parse((REPO_ROOT / "segwork" / "data" / name).read_text())
        for node in ast.walk(tree):
            value: ast.expr | None = None
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "ContractBreach":
                value = node.args[2] if len(node.args) > 2 else None
            elif isinstance(node, ast.Tuple) and len(node.elts) == 4:
                value = node.elts[1]  # (column, rule, description, predicate) of a row rule
            elif (
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Tuple)
                and any(getattr(t, "id", "") == "rule" for t in node.targets[0].elts)
                and isinstance(node.value, ast.Tuple)
            ):
                value = node.value.elts[0]
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                if _RULE.match(value.value):
                    rules.add(value.value)
    return rules


def test_every_contract_rule_is_documented():
    rules = _raised_rules()
    assert {"missing_column", "duplicate_key", "ragged_row", "not_utf8"} <= rules  # the parse works
    section = "\n".join(SECTIONS["Input tables"])
    undocumented = sorted(r for r in rules if f"`{r}`" not in section)
    assert not undocumented, f'rules missing from docs/metrics.md "Input tables": {undocumented}'


def test_rfm_table_is_the_codes():
    from segwork.metrics.rfm import RFM_SEGMENTS

    # the row format ("| 5 | New | ...") is the one tests/metrics/test_rfm.py parses
    rows = [ln for ln in SECTIONS["RFM"] if re.match(r"\s*\| [1-5] \|", ln)]
    parsed = {}
    for ln in rows:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        parsed.update({(int(cells[0]), f + 1): name for f, name in enumerate(cells[1:])})
    assert parsed == RFM_SEGMENTS
    others = [h for h, lines in SECTIONS.items() if h != "RFM"
              and any(re.match(r"\s*\| [1-5] \|", ln) for ln in lines)]  # fmt: skip
    assert not others, f"rows like the RFM table's outside it, in {others}"


def test_billing_intervals_are_the_codes():
    from segwork.data.contract import BILLING_INTERVALS

    section = "\n".join(SECTIONS["MRR"])
    for interval in BILLING_INTERVALS:
        assert f"| `{interval}` |" in section, f'interval {interval!r} missing from "MRR"'


def test_contents_list_is_the_headings_in_order():
    text = DOC.read_text(encoding="utf-8")
    start = text.index("Sections, in order:\n\n") + len("Sections, in order:\n\n")
    block = text[start : text.index("\n\n", start)].splitlines()  # the list, up to a blank line
    bullets: list[str] = []
    for line in (ln.strip() for ln in block):
        if line.startswith("- "):
            bullets.append(line[2:])
        else:
            bullets[-1] += " " + line
    listed = []
    for bullet in bullets:
        _, items = bullet.split(": ", 1)  # "<group>: <heading>; <heading>; ... ."
        listed += [i.strip() for i in items.rstrip(".").split(";")]
    assert listed == list(SECTIONS)


def test_headings_are_plain_text():
    # cited as docs/metrics.md "<Section>": no markup, no quotes in a heading
    for heading in SECTIONS:
        assert heading == heading.strip() and not re.search(r'[`*"#]', heading), heading


def test_doc_is_where_the_code_says():
    assert Path(DOC).is_file()
