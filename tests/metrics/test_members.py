"""Tests of segment_members (docs/metrics.md "Segment members", "Active customer"; population
signup <= as_of).

Expected members are listed by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import segwork
from segwork.metrics.members import segment_members
from segwork.metrics.segments import segment_table

AS_OF = "2024-03-31"


def hand_data() -> segwork.Dataset:
    """cust plan     size  country signup      MRR Mar 2024
    1    pro        12   DE      2024-01-05  100
    2    pro         3   US      2024-01-10  -     (active in Feb only)
    3    starter   400   DE      2024-02-01   50
    4    starter    40   None    2024-02-01   20
    5    pro        60   US      2024-04-02  -     (signed up after as_of: not in the population)
    """
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "signup_date": ["2024-01-05", "2024-01-10", "2024-02-01", "2024-02-01", "2024-04-02"],
            "plan": ["pro", "pro", "starter", "starter", "pro"],
            "company_size": [12, 3, 400, 40, 60],
            "country": ["DE", "US", "DE", None, "US"],
        }
    )
    mrr = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 4, 5],
            "month": ["2024-02-01", "2024-03-01", "2024-02-01", "2024-03-01", "2024-03-01",
                      "2024-04-01"],
            "mrr": [100.0, 100.0, 80.0, 50.0, 20.0, 60.0],
        }
    )
    return segwork.load({"customers": customers, "mrr": mrr})


@pytest.fixture(scope="module")
def data() -> segwork.Dataset:
    return hand_data()


def test_one_segment(data: segwork.Dataset) -> None:
    m = segment_members(data, "plan", AS_OF, {"plan": "pro"})
    assert list(m.columns) == ["customer_id", "signup_date", "plan", "mrr", "active"]
    # pro customers signed up by as_of: 1 (MRR 100 in March) and 2 (none in March); 5 is later
    assert m["customer_id"].tolist() == [1, 2]
    assert m["mrr"].tolist() == [100.0, 0.0]
    assert m["active"].tolist() == [True, False]
    assert m["signup_date"].astype(str).tolist() == ["2024-01-05", "2024-01-10"]
    assert m["mrr"].dtype == "float64" and m["active"].dtype == bool


def test_several_segments_and_lists(data: segwork.Dataset) -> None:
    by = ["plan", "country"]
    # (pro, DE) or (starter, missing country): customers 1 and 4
    m = segment_members(data, by, AS_OF, [{"plan": "pro", "country": "DE"},
                                          {"plan": "starter", "country": None}])
    assert m["customer_id"].tolist() == [1, 4]
    assert list(m.columns) == ["customer_id", "signup_date", "plan", "country", "mrr", "active"]
    # a list of values, and a column left out matching anything
    assert segment_members(data, by, AS_OF, {"country": ["DE", "US"]})["customer_id"].tolist() == [
        1, 2, 3]
    assert segment_members(data, by, AS_OF, {"plan": "starter"})["customer_id"].tolist() == [3, 4]
    # nobody: an empty frame with the columns
    empty = segment_members(data, by, AS_OF, {"plan": "enterprise"})
    assert empty.empty and list(empty.columns) == list(m.columns)


def test_bins_where_and_consistency_with_segment_table(data: segwork.Dataset) -> None:
    bins = {"company_size": [10, 50]}
    m = segment_members(data, "company_size", AS_OF, {"company_size": "(10, 50]"}, bins=bins)
    # sizes 12 and 40 fall in (10, 50]
    assert m["customer_id"].tolist() == [1, 4]
    assert m["company_size"].tolist() == ["(10, 50]", "(10, 50]"]
    w = segment_members(data, "plan", AS_OF, {"plan": ["pro", "starter"]}, where={"country": "DE"})
    assert w["customer_id"].tolist() == [1, 3]
    # the members of every segment of the table add up to its customers / active / MRR
    t = segment_table(data, "company_size", AS_OF, bins=bins)
    for _, row in t.iterrows():
        got = segment_members(data, "company_size", AS_OF,
                              {"company_size": row["company_size"]}, bins=bins)
        assert len(got) == row["customers"]
        assert int(got["active"].sum()) == row["active_customers"]
        assert got["mrr"].sum() == pytest.approx(row["mrr"])


def test_errors(data: segwork.Dataset) -> None:
    with pytest.raises(ValueError, match=r"not in by=\['plan'\]"):
        segment_members(data, "plan", AS_OF, {"country": "DE"})
    with pytest.raises(ValueError, match="non-empty list"):
        segment_members(data, "plan", AS_OF, [])
    with pytest.raises(ValueError, match="must be a dict"):
        segment_members(data, "plan", AS_OF, ["pro"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="unknown segment column 'colour'"):
        segment_members(data, "colour", AS_OF, {"colour": "red"})
    with pytest.raises(ValueError, match="at least one segment column"):
        segment_members(data, [], AS_OF, {})


def test_sample_csv_round_trip(tmp_path: Path) -> None:
    data = segwork.load_sample()
    seg = {"plan": "enterprise", "billing_interval": "annual"}
    m = segment_members(data, ["plan", "billing_interval"], "2024-12-31", seg)
    t = segment_table(data, ["plan", "billing_interval"], "2024-12-31")
    row = t[(t["plan"] == "enterprise") & (t["billing_interval"] == "annual")].iloc[0]
    assert len(m) == row["customers"] == 99
    assert m["mrr"].sum() == pytest.approx(row["mrr"])
    path = tmp_path / "members.csv"
    m.to_csv(path, index=False)
    back = pd.read_csv(path)
    assert back["customer_id"].tolist() == m["customer_id"].tolist()
