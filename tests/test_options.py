"""segwork.options: shared keyword options read once, with the defaults of one signature."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

import segwork
from segwork.metrics.segments import SegmentOptions, segment_table
from segwork.options import bind_options


def _f(data: object, day: object, *, size: int = 3, colour: str = "red", shade: str) -> None:
    """A function with two leading arguments, two options with defaults and one without."""


def test_defaults_come_from_the_signature() -> None:
    got = bind_options(_f, {"shade": "dark"}, what="example", leading=2)
    assert got == {"size": 3, "colour": "red", "shade": "dark"}
    assert bind_options(_f, {"shade": "x"}, what="example", leading=2, exclude=["colour"]) == {
        "size": 3,
        "shade": "x",
    }


def test_an_unknown_or_missing_option_is_named() -> None:
    with pytest.raises(TypeError, match="unknown example option 'sise'; the options are: size"):
        bind_options(_f, {"sise": 1, "shade": "x"}, what="example", leading=2)
    with pytest.raises(TypeError, match="missing example option 'shade'"):
        bind_options(_f, {}, what="example", leading=2)
    # an excluded parameter is not an option either
    with pytest.raises(TypeError, match="unknown example option 'colour'"):
        bind_options(_f, {"colour": "blue", "shade": "x"}, what="example", leading=2,
                     exclude=["colour"])  # fmt: skip


def test_segment_tables_takes_segment_tables_options() -> None:
    """SegmentOptions lists segment_table's keyword options, in order; segment_tables names an
    unknown one."""
    names = list(inspect.signature(segment_table).parameters)[3:]
    assert names == list(SegmentOptions.__annotations__)
    customers = pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-05"], "plan": ["pro"]})
    mrr = pd.DataFrame({"customer_id": [1], "month": ["2024-03-01"], "mrr": [10.0]})
    data = segwork.load({"customers": customers, "mrr": mrr})
    with pytest.raises(TypeError, match="unknown segment table option 'window'"):
        segwork.segment_tables(data, [["plan"]], "2024-03-31", window=3)  # type: ignore[call-arg]
