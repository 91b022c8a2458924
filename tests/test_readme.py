"""The README's quick start runs as written (in a directory holding an ``exports/`` folder whose
customers file names its key ``id``, as the snippet's ``columns=`` mapping expects)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import segwork

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block(after_heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(after_heading):]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, f"no python block after {after_heading!r}"
    return match.group(1)


def test_quick_start_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    exports = tmp_path / "exports"
    segwork.load_sample().write(exports)
    customers = pd.read_csv(exports / "customers.csv")
    customers.rename(columns={"customer_id": "id"}).to_csv(exports / "customers.csv", index=False)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(_python_block("## Quick start"), "README quick start", "exec"), namespace)
    out = capsys.readouterr().out
    assert "net_mrr_churn" in out  # the bridge's last months were printed
    mine = namespace["mine"]
    assert isinstance(mine, segwork.Dataset)
    assert "customer_id" in mine.table("customers").columns
    tables = namespace["tables"]
    assert isinstance(tables, list) and len(tables) == 2
    assert list(tables[1].columns[:2]) == ["plan", "region"]
    assert "plan" in namespace["by_plan"].columns  # type: ignore[attr-defined]
