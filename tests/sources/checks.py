"""Checks shared by the export readers' tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

import segwork
from segwork.data.contract import DataContractError
from segwork.sources.base import Imported


def left_out(imported: Imported, table: str | None = None) -> dict[str, int]:
    """Rows left out per reason (all of them of ``table`` when it is given)."""
    frame = imported.left_out_frame()
    if table is not None:
        assert set(frame["table"]) <= {table}
    return frame.groupby("reason")["rows"].sum().astype(int).to_dict()


def assert_names(err: DataContractError, file: str, column: str | None, rule: str,
                 lines: list[int] | None = None) -> None:
    """The refusal names the file, the column, the rule and (for row rules) the first rows,
    by their line in the file."""
    assert (err.table, err.column, err.rule) == (file, column, rule)
    text = str(err)
    assert f"'{file}'" in text and f"'{rule}'" in text
    if column:
        assert f"'{column}'" in text
    if lines is not None:
        assert err.n_rows == len(lines)
        assert err.examples["line"].tolist() == lines[:5]
        assert "first" in text


def assert_same_order_metrics(got: segwork.Dataset, truth: segwork.Dataset,
                              as_of: Sequence[str]) -> None:
    """RFM at every date and cohort retention (logo, quarterly NRR, signup cohorts) at all but
    the first are equal, exactly, on transactions data."""
    for day in as_of:
        pd.testing.assert_frame_equal(segwork.rfm(got, day), segwork.rfm(truth, day))
    for day in as_of[1:]:
        choices: list[dict[str, Any]] = [
            {"metric": "logo"}, {"metric": "nrr", "period": "quarter"},
            {"cohort": "signup", "period": "month"},
        ]  # fmt: skip
        for kw in choices:
            pd.testing.assert_frame_equal(
                segwork.cohort_retention(got, as_of=day, **kw),
                segwork.cohort_retention(truth, as_of=day, **kw),
            )
