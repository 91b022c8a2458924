"""Tests of the customer-value figures (segwork/plots/clv.py): values come from the frame."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from segwork.plots.clv import clv_validation_figure

TABLE = pd.DataFrame(
    {
        "frequency": ["0", "1", "2", "7+"],
        "customers": [100, 40, 10, 3],
        "actual": [0.2, 0.5, 0.9, 3.0],
        "predicted": [0.25, 0.45, 1.0, 2.8],
        "error": [0.05, -0.05, 0.1, -0.2],
    }
)


def test_grouped_bars_actual_and_predicted_per_bucket() -> None:
    fig = clv_validation_figure(TABLE, title="Holdout check")
    assert isinstance(fig, go.Figure)
    assert [t.type for t in fig.data] == ["bar", "bar"]
    actual, predicted = fig.data
    assert (actual.name, predicted.name) == ("Actual", "Predicted")
    assert list(actual.x) == ["0", "1", "2", "7+"] == list(predicted.x)
    assert list(actual.y) == [0.2, 0.5, 0.9, 3.0]
    assert list(predicted.y) == [0.25, 0.45, 1.0, 2.8]
    assert list(actual.customdata) == [100, 40, 10, 3]
    assert fig.layout.barmode == "group"
    assert fig.layout.xaxis.title.text == "Repeat purchases in the calibration period"
    assert fig.layout.yaxis.title.text == "Repeat purchases per customer in the holdout (mean)"
    assert fig.layout.title.text == "Holdout check"


def test_default_title_and_missing_column() -> None:
    assert clv_validation_figure(TABLE).layout.title.text
    with pytest.raises(ValueError, match=r"missing column.*predicted"):
        clv_validation_figure(TABLE.drop(columns="predicted"))
