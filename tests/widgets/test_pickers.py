"""The controls of the pages (issue 24, "Stakeholders' view"): pickers of the filter and of the
bin edges built from the columns' values, whose value is the JSON form of links and notebook
parameters (the two round-trip); a range filter on a numeric column (docs/metrics.md
"Segmentations and derived attributes"); dropdowns in words; number boxes wide enough for their
largest value; the members' download shown once; errors in words without a class name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import ipywidgets as widgets
import pandas as pd
import pandas.testing as pdt
import pytest

import segwork
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.cohorts import cohort_retention
from segwork.metrics.segments import segment_table
from segwork.widgets import CohortExplorer, SegmentExplorer
from segwork.widgets.controls import default_control
from segwork.widgets.params import Param, check_filter, parse_query
from segwork.widgets.pickers import BinsPicker, ColumnValues, FilterPicker, column_values
from segwork.widgets.tables import error_html

AS_OF = "2024-12-31"


# -- a range filter, by hand -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def six() -> segwork.Dataset:
    """Six customers, sizes 5, 10, 30, 50, 80 and one unknown, all signed up on 2024-01-05."""
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "signup_date": [dt.date(2024, 1, 5)] * 6,
            "company_size": pd.array([5, 10, 30, 50, 80, None], dtype="Int64"),
            "plan": ["pro", "pro", "starter", "pro", "starter", None],
        }
    )
    return segwork.load({"customers": customers})


def _ids(data: segwork.Dataset, **kw: Any) -> list[int]:
    t, _ = customer_attributes(data, dt.date(2024, 6, 30), kw.pop("by", None), **kw)
    return sorted(int(i) for i in t.to_pandas()["customer_id"])


def test_where_range_by_hand(six: segwork.Dataset) -> None:
    # both bounds inclusive; a missing size is in no range
    assert _ids(six, where={"company_size": {"min": 10, "max": 50}}) == [2, 3, 4]
    assert _ids(six, where={"company_size": {"min": 30}}) == [3, 4, 5]
    assert _ids(six, where={"company_size": {"max": 9.5}}) == [1]
    # with a list of values on another column: both apply
    assert _ids(six, where={"company_size": {"min": 10}, "plan": ["pro"]}) == [2, 4]
    # the range applies to the sizes, before they are cut into bins
    t, _ = customer_attributes(
        six, dt.date(2024, 6, 30), ["company_size"],
        where={"company_size": {"min": 10}}, bins={"company_size": [20]},
    )  # fmt: skip
    got = t.to_pandas().sort_values("customer_id")["company_size"].tolist()
    assert got == ["<= 20", "> 20", "> 20", "> 20"]
    with pytest.raises(ValueError, match="a range, which needs a numeric column; 'plan' is"):
        _ids(six, where={"plan": {"min": 1}})
    with pytest.raises(ValueError, match='a range takes "min" and/or "max"'):
        _ids(six, where={"company_size": {"from": 1}})
    with pytest.raises(ValueError, match="matches no customer"):
        _ids(six, where={"company_size": {"min": 81}})


def test_check_filter_says_what_is_wrong() -> None:
    check_filter("where", {"plan": "pro", "company_size": {"min": 1, "max": 1}})
    cases = [
        ({"plan": []}, "lists no value, so it matches nobody"),
        ({"company_size": {}}, "where['company_size'] is empty: a range takes"),
        ({"company_size": {"low": 1}}, "where['company_size'] has 'low'"),
        ({"company_size": {"min": "10"}}, "min must be a number, got '10'"),
        ({"company_size": {"max": float("nan")}}, "max must be a number"),
        ({"company_size": {"min": 50, "max": 10}}, "runs from 50 to 10"),
    ]
    for where, says in cases:
        with pytest.raises(ValueError, match=re.escape(says)):
            check_filter("where", where)


def test_column_values_by_hand(six: segwork.Dataset) -> None:
    size = column_values(six, "company_size", AS_OF)
    # quartiles of 5, 10, 30, 50, 80 (linear): 10, 30, 50, inside (5, 80)
    assert (size.low, size.high, size.integer, size.edges) == (5, 80, True, (10, 30, 50))
    assert size.numeric and not column_values(six, "plan", AS_OF).numeric
    assert column_values(six, "plan", AS_OF).values == ("pro", "starter")  # missing left out
    # a derived criterion, at as_of: 177 days after signup is "growth" (31 to 180 days)
    assert column_values(six, "lifecycle_stage", "2024-06-30").values == ("growth",)
    assert column_values(six, "signup_month", "2024-06-30").values == ("2024-01",)


# -- the pickers and the JSON form ----------------------------------------------------------------
VALUES = {
    "plan": ColumnValues("plan", values=("enterprise", "pro", "starter")),
    "uses_api": ColumnValues("uses_api", values=(False, True)),
    "company_size": ColumnValues("company_size", low=1, high=8192, integer=True, edges=(7, 19, 60)),
}
COLUMNS = [("Plan", "plan"), ("Uses API", "uses_api"), ("Company size", "company_size")]


def _filter(value: str = "{}") -> FilterPicker:
    picker = FilterPicker("Filter", COLUMNS, VALUES.__getitem__)
    picker.value = value
    return picker


@pytest.mark.parametrize(
    "value",
    [
        "{}",
        '{"plan": ["pro", "enterprise"]}',
        '{"plan": "pro"}',
        '{"uses_api": [true]}',
        '{"company_size": {"min": 10, "max": 250}}',
        '{"company_size": {"min": 10}}',
        '{"plan": ["platinum"], "company_size": {"max": 2.5}}',
    ],
)
def test_filter_json_round_trip(value: str) -> None:
    """JSON -> picker -> JSON: the value stays as given, also when another row is edited."""
    picker = _filter(value)
    assert not picker.shown_as_json and picker.value == value
    want = json.loads(value)
    # a change of another row writes the rows not edited back exactly as they were given
    column = "uses_api" if "uses_api" not in want else "plan"
    picker.add(column)
    first = VALUES[column].values[0]
    picker.select(column, [first])
    assert json.loads(picker.value) == {**want, column: [first]}
    picker.remove(column)
    assert json.loads(picker.value) == want
    # picker -> JSON -> picker: a new picker shows what this one shows
    again = _filter(picker.value)
    for row in json.loads(picker.value):
        if VALUES[row].numeric:
            assert again.bounds(row) == picker.bounds(row)
        else:
            assert again.selected(row) == picker.selected(row)


def test_filter_rows_as_a_person_uses_them() -> None:
    picker = _filter()
    picker.add("plan")  # a row added is not part of the value until it is changed
    assert picker.value == "{}" and picker.selected("plan") == ()
    picker.select("plan", ["pro", "starter"])
    assert json.loads(picker.value) == {"plan": ["pro", "starter"]}
    picker.add("company_size")
    assert picker.bounds("company_size") == (1, 8192)  # the data's range to start with
    picker.set_bounds("company_size", 10, 250)
    assert json.loads(picker.value) == {
        "plan": ["pro", "starter"],
        "company_size": {"min": 10, "max": 250},
    }
    picker.select("plan", [])  # nothing selected: no filter on the plan
    assert json.loads(picker.value) == {"company_size": {"min": 10, "max": 250}}
    # the menu offers the columns without a row, in words
    assert [label for label, _ in picker._add.options] == ["Filter on…", "Uses API"]
    # a flag reads yes / no
    picker.add("uses_api")
    assert [label for label, _ in picker._find("uses_api").watched[0].options] == ["no", "yes"]


def test_values_the_rows_cannot_show_stay_as_json() -> None:
    for value, why in [
        ('{"company_size": [1, 2]}', "Company size is a number"),
        ('{"colour": ["red"]}', "'colour' is not one of this page's criteria"),
        ('{"plan": {"min": 1}}', "Plan is not a number"),
        ('{"plan": ', "it is not valid JSON"),
        ("[1, 2]", "it is not a mapping"),
    ]:
        picker = _filter(value)
        assert picker.shown_as_json and picker._json.value == value
        assert why in picker._note.value.replace("&#x27;", "'")
        assert picker.value == value  # kept, never dropped
    # corrected in its JSON box: shown as rows again
    picker._json.value = '{"plan": ["pro"]}'
    assert picker.value == '{"plan": ["pro"]}' and picker.selected("plan") == ("pro",)


def test_bins_picker_suggests_and_orders_edges() -> None:
    picker = BinsPicker("Bin edges", COLUMNS[2:], VALUES.__getitem__)
    picker.add("company_size")  # the quartiles, two significant figures
    assert json.loads(picker.value) == {"company_size": [7, 19, 60]}
    picker.set_edges("company_size", [250, 10, 50, 10])
    assert json.loads(picker.value) == {"company_size": [10, 50, 250]}
    assert picker.edges("company_size") == (10, 50, 250)  # shown as written
    again = BinsPicker("Bin edges", COLUMNS[2:], VALUES.__getitem__)
    again.value = picker.value
    assert again.edges("company_size") == (10, 50, 250) and again.value == picker.value
    again.value = '{"company_size": [100, 50]}'  # as given (the page says what is wrong)
    assert again.edges("company_size") == (100, 50) and not again.shown_as_json
    again.value = '{"company_size": "10, 50"}'
    assert again.shown_as_json and "not a list of numbers" in again._note.value


# -- the pages ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data() -> segwork.Dataset:
    return segwork.load_sample()


def _html_texts(w: widgets.Widget) -> list[str]:
    """Every HTML text of a widget tree (what the live page shows as text)."""
    out = [w.value] if isinstance(w, widgets.HTML) else []
    for child in getattr(w, "children", ()):
        out += _html_texts(child)
    return out


def test_segment_page_filter_and_bins_from_pickers(data: segwork.Dataset) -> None:
    ex = SegmentExplorer(data, by=["company_size"], k=2)
    where, bins = ex.controls["where"], ex.controls["bins"]
    assert isinstance(where, FilterPicker) and isinstance(bins, BinsPicker)
    bins.add("company_size")
    assert ex.state["bins"] == {"company_size": [7, 19, 60]}  # the sample's quartiles
    where.add("company_size")
    where.set_bounds("company_size", 10, 250)
    where.add("plan")
    where.select("plan", ["pro", "enterprise"])
    state = ex.state
    assert state["where"] == {
        "company_size": {"min": 10, "max": 250},
        "plan": ["enterprise", "pro"],
    }
    assert ex.error is None
    want = segment_table(data, ["company_size"], AS_OF, bins=state["bins"], where=state["where"])
    pdt.assert_frame_equal(ex.result, want)
    # the range is the list of the sizes in it (on sizes not cut into bins)
    sizes = data.to_pandas("customers")["company_size"]
    listed = {
        "company_size": sorted(int(v) for v in sizes.unique() if 10 <= v <= 250),
        "plan": ["enterprise", "pro"],
    }
    pdt.assert_frame_equal(
        segment_table(data, ["region"], AS_OF, where=state["where"]),
        segment_table(data, ["region"], AS_OF, where=listed),
    )
    # the link restores the view, and its pickers show the same
    query = ex.url_query()
    assert "where=" in query and "bins=" in query
    linked = SegmentExplorer(data, **parse_query(query, [p.name for p in ex.params]))
    assert linked.state == state
    assert linked.controls["where"].bounds("company_size") == (10, 250)
    assert linked.controls["where"].selected("plan") == ("enterprise", "pro")
    assert linked.controls["bins"].edges("company_size") == (7, 19, 60)
    # the notebook's dict form is the same state
    assert SegmentExplorer(data, **state).state == state


def test_segment_page_shows_the_members_download_once(data: segwork.Dataset) -> None:
    ex = SegmentExplorer(data, by=["plan"], k=2)
    shown = " ".join(_html_texts(ex.widget))
    assert shown.count("Download segment_members.csv") == 1  # in the export control
    assert "Download segment_members.csv" in ex.export_link.value
    assert "segment_members.csv" in ex.downloads  # the API and the report keep it
    assert ex.to_html().count("Download segment_members.csv") == 1


def test_cohort_page_controls_in_words(data: segwork.Dataset) -> None:
    ex = CohortExplorer(data, horizon=6)
    c = ex.controls
    assert dict(c["metric"].options) == {
        "Logo retention (customers)": "logo",
        "Net revenue retention (NRR)": "nrr",
        "Gross revenue retention (GRR)": "grr",
    }
    assert c["cohort"].label == "First active period" and c["cohort"].value == "first_active"
    assert c["value"].label == "Rate (%)" and c["period"].label == "Month"
    assert ("Current plan", "current_plan") in c["by"].options
    # the horizon names its unit, the period's
    assert c["horizon"].description == "Projection horizon (months)"
    c["period"].value = "quarter"
    assert ex.error is None and c["horizon"].description == "Projection horizon (quarters)"
    c["period"].value = "month"
    # the filter's picker drives the state; the result is the metric's
    c["where"].add("company_size")
    c["where"].set_bounds("company_size", 10, 50)
    assert ex.state["where"] == {"company_size": {"min": 10, "max": 50}} and ex.error is None
    want = cohort_retention(data, AS_OF, where={"company_size": {"min": 10, "max": 50}})
    pdt.assert_frame_equal(ex.result, want)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        (Param("window_months", 12, kind="int", low=1, high=36, label="Churn window (months)"), 36),
        (Param("min_customers", 30, kind="int", low=1, high=1_000_000, label="Min size"), 1_000_000),
        (Param("random_state", 0, kind="int", low=0, high=2**31 - 1), 2**31 - 1),
        (Param("gross_margin", 1.0, kind="float", low=0.01, high=1.0, step=0.01), 0.01),
        (Param("horizon", 24, kind="int", low=1, high=240, label="Projection horizon (quarters)"),
         240),
    ],
)  # fmt: skip
def test_number_boxes_fit_words_and_largest_value(param: Param, value: float) -> None:
    w = default_control(param, lambda name: None)
    width = re.fullmatch(r"calc\((\d+)ch \+ 40px\)", w.layout.width)
    assert width, w.layout.width
    text = str(value) if param.kind == "int" else f"{value:.2f}"
    assert int(width.group(1)) >= len(w.description) + len(text)


def test_errors_read_in_words() -> None:
    assert error_html(ValueError("as_of=2019-01-01 is before all data")) == (
        '<div class="segwork-error">as_of=2019-01-01 is before all data</div>'
    )
    assert "KeyError" not in error_html(KeyError("plan"))
    assert "Something went wrong" in error_html(AssertionError())
