"""The suite's own ordering: the slowest files are collected first (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SLOW_FILES

ROOT = Path(__file__).resolve().parent.parent


def test_the_slow_files_exist() -> None:
    """A renamed or removed slow file would silently lose its place at the front."""
    missing = [f for f in SLOW_FILES if not (ROOT / f).is_file()]
    assert not missing, missing
    assert len(set(SLOW_FILES)) == len(SLOW_FILES)
