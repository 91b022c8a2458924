"""A plotly figure in the live page: :func:`figure_output`, through plotly's own renderer."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

__all__ = ["figure_output"]


def _plain(obj: Any) -> Any:
    """Figure JSON with plotly's base64 typed arrays (``{"dtype", "bdata", "shape"}``) decoded
    into plain lists (NaN as null): the JupyterLab/Voila plotly renderer does not read them for 2-D
    data such as heat maps."""
    import numpy as np

    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            arr = np.frombuffer(base64.b64decode(obj["bdata"]), dtype=np.dtype(obj["dtype"]))
            if "shape" in obj:
                arr = arr.reshape([int(n) for n in str(obj["shape"]).split(",")])
            return _plain(arr.tolist())
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def figure_output(fig: go.Figure) -> widgets.Output:
    """A widget showing ``fig`` through plotly's mimetype renderer (JupyterLab and Voila, offline).

    The output is set directly (``out.outputs``), not appended from a kernel callback, so it renders
    the same in every frontend; plotly's renderer extension ships with the plotly package.
    """
    out = widgets.Output()
    out.outputs = (
        {
            "output_type": "display_data",
            "data": {
                "application/vnd.plotly.v1+json": {
                    **_plain(json.loads(fig.to_json())),
                    "config": {"responsive": True, "displaylogo": False},
                },
                "text/plain": f"<plotly figure: {fig.layout.title.text or 'untitled'}>",
            },
            "metadata": {},
        },
    )
    return out
