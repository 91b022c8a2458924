"""Paths derived from the package location (never hard-coded elsewhere)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["NOTEBOOKS_DIR", "REPO_ROOT", "SAMPLE_DIR"]

#: The source checkout holding ``segwork/`` (for an installed wheel: the site-packages dir).
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The bundled sample data (``data/sample``); may be absent in an installed wheel.
SAMPLE_DIR = REPO_ROOT / "data" / "sample"
#: The product notebooks.
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
