"""Papermill runs of the product notebooks."""

from __future__ import annotations

from typing import Any


def static_html(nb: Any) -> str:
    """The text/html outputs of an executed notebook, joined (what a static report shows)."""
    return "".join(
        o.get("data", {}).get("text/html", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
