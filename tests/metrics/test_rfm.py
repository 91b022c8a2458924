"""Tests of segwork.metrics.rfm (docs/metrics.md "RFM").

The rule under test, summarised: at as_of, from the orders dated <= as_of, recency = days from the
latest order's date to as_of, frequency = distinct orders, monetary = total amount.  Each is scored
1-5 by quintile over the n customers with an order: with r the "min" rank of a value (ties share
the smallest rank), score = 1 + floor(5 (r - 1) / n); recency is ranked on its negative (recent =
5).  The named segment comes from (R, F) by the 5 x 5 table of docs/metrics.md "RFM".
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwork
from segwork.data.dataset import Dataset
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.rfm import RFM_SEGMENTS, _segment_expr, rfm, rfm_expr
from segwork.paths import REPO_ROOT

AS_OF = dt.date(2024, 6, 30)
COLUMNS = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
]

# The table of docs/metrics.md "RFM", transcribed row by row (R = 5 .. 1; F = 1 .. 5).
METRICS_TABLE = {
    5: ["New", "Potential loyalist", "Potential loyalist", "Champions", "Champions"],
    4: ["Promising", "Potential loyalist", "Potential loyalist", "Loyal", "Loyal"],
    3: ["About to sleep", "About to sleep", "Need attention", "Loyal", "Loyal"],
    2: ["Hibernating", "Hibernating", "At risk", "At risk", "Cannot lose"],
    1: ["Lost", "Hibernating", "At risk", "At risk", "Cannot lose"],
}

# -- the hand-worked 10-customer case -------------------------------------------------------------
# n = 10, so score = 1 + floor(5 (r - 1) / 10) = 1 + floor((r - 1) / 2):
#   r = 1, 2 -> 1;  3, 4 -> 2;  5, 6 -> 3;  7, 8 -> 4;  9, 10 -> 5.
#
# customer        1    2    3    4    5    6    7    8    9   10
# recency_days    0    0   10   10   10   30   60   90  120  200
# frequency       5    1    3    3    1    2    4    1    6    2
# monetary      500  100  300  300   50  300  400   50 1000   80
#
# R: rank of -recency ascending = rank of recency descending (ties share the smallest rank):
#   200 (c10) r=1; 120 (c9) r=2; 90 (c8) r=3; 60 (c7) r=4; 30 (c6) r=5; 10 (c3,c4,c5) r=6;
#   0 (c1,c2) r=9  ->  R: c10 1, c9 1, c8 2, c7 2, c6 3, c3-c5 1+floor(5/2)=3, c1-c2 1+floor(8/2)=5
# F: 1 (c2,c5,c8) r=1 -> 1; 2 (c6,c10) r=4 -> 1+floor(3/2)=2; 3 (c3,c4) r=6 -> 3; 4 (c7) r=8 -> 4;
#   5 (c1) r=9 -> 5; 6 (c9) r=10 -> 5
# M: 50 (c5,c8) r=1 -> 1; 80 (c10) r=3 -> 2; 100 (c2) r=4 -> 2; 300 (c3,c4,c6) r=5 -> 3;
#   400 (c7) r=8 -> 4; 500 (c1) r=9 -> 5; 1000 (c9) r=10 -> 5
# Segments from (R, F) by the table of docs/metrics.md "RFM":
#   c1 (5,5) Champions; c2 (5,1) New; c3, c4 (3,3) Need attention; c5 (3,1) About to sleep;
#   c6 (3,2) About to sleep; c7 (2,4) At risk; c8 (2,1) Hibernating; c9 (1,5) Cannot lose;
#   c10 (1,2) Hibernating
RECENCY = [0, 0, 10, 10, 10, 30, 60, 90, 120, 200]
FREQUENCY = [5, 1, 3, 3, 1, 2, 4, 1, 6, 2]
MONETARY = [500.0, 100.0, 300.0, 300.0, 50.0, 300.0, 400.0, 50.0, 1000.0, 80.0]
EXPECTED = pd.DataFrame(
    {
        "customer_id": list(range(1, 11)),
        "recency_days": RECENCY,
        "frequency": FREQUENCY,
        "monetary": MONETARY,
        "r_score": [5, 5, 3, 3, 3, 3, 2, 2, 1, 1],
        "f_score": [5, 1, 3, 3, 1, 2, 4, 1, 5, 2],
        "m_score": [5, 2, 3, 3, 1, 3, 4, 1, 5, 2],
        "rfm_segment": [
            "Champions",
            "New",
            "Need attention",
            "Need attention",
            "About to sleep",
            "About to sleep",
            "At risk",
            "Hibernating",
            "Cannot lose",
            "Hibernating",
        ],
    }
).astype({c: "int64" for c in ("customer_id", "recency_days", "frequency")})
EXPECTED = EXPECTED.astype({c: "int64" for c in ("r_score", "f_score", "m_score")})


def hand_frames() -> dict[str, pd.DataFrame]:
    """Orders for the hand case: the last one `recency` days before as_of, earlier ones a week
    apart; amounts (monetary - 10 (f - 1)), 10, 10, ... sum to the monetary value."""
    rows = []
    for i, (rec, f, mon) in enumerate(zip(RECENCY, FREQUENCY, MONETARY, strict=True)):
        cid = i + 1
        for k in range(f):  # test data construction only
            date = AS_OF - dt.timedelta(days=rec + 7 * k)
            amount = mon - 10.0 * (f - 1) if k == 0 else 10.0
            rows.append((cid, f"o{cid}-{k}", date.isoformat(), amount))
    # customer 11: signed up, no order -> not scored; customer 12 signs up after as_of
    rows.append((12, "o12-0", "2024-07-05", 999.0))
    transactions = pd.DataFrame(rows, columns=["customer_id", "order_id", "date", "amount"])
    customers = pd.DataFrame(
        {
            "customer_id": list(range(1, 13)),
            "signup_date": ["2023-01-01"] * 11 + ["2024-07-01"],
            "plan": ["a", "b"] * 6,
        }
    )
    return {"customers": customers, "transactions": transactions}


@pytest.fixture(scope="module")
def hand_data() -> Dataset:
    return segwork.load(hand_frames())


def test_hand_case(hand_data: Dataset) -> None:
    out = rfm(hand_data, AS_OF)
    assert list(out.columns) == COLUMNS
    pd.testing.assert_frame_equal(out, EXPECTED)


def test_expr_matches_rfm(hand_data: Dataset) -> None:
    t = rfm_expr(hand_data, "2024-06-30")
    assert isinstance(t, ibis.expr.types.Table)
    assert list(t.columns) == COLUMNS
    assert len(t.to_pandas()) == 10


def test_mapping_is_the_metrics_table() -> None:
    # docs/metrics.md "RFM", the named segments from (R, F): all 25 cells, 11 names.
    expected = {(r, f + 1): name for r, row in METRICS_TABLE.items() for f, name in enumerate(row)}
    assert expected == RFM_SEGMENTS
    assert len(set(RFM_SEGMENTS.values())) == 11
    # ... and the CASE expression built from it maps every cell the same way.
    cells = pd.DataFrame(list(RFM_SEGMENTS), columns=["r", "f"])
    t = ibis.memtable(cells)
    got = t.mutate(name=_segment_expr(t.r, t.f)).to_pandas()
    assert {(int(r), int(f)): n for r, f, n in got.itertuples(index=False)} == expected


def test_mapping_against_metrics_md_file() -> None:
    # Parse the table straight from docs/metrics.md "RFM" (in the repository: never skipped).
    text = (REPO_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    section = text.split("\n## RFM\n", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if re.match(r"\s*\| [1-5] \|", ln)]
    assert len(lines) == 5
    parsed = {}
    for ln in lines:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        parsed.update({(int(cells[0]), f + 1): name for f, name in enumerate(cells[1:])})
    assert parsed == RFM_SEGMENTS


def test_recency_reversed(hand_data: Dataset) -> None:
    # recency is ranked on its negative (docs/metrics.md "RFM"): the most recent customers get
    # R = 5, the oldest R = 1, and R never increases with recency_days.
    out = rfm(hand_data, AS_OF).sort_values("recency_days")
    assert out["r_score"].iloc[0] == 5 and out["r_score"].iloc[-1] == 1
    assert (np.diff(out["r_score"].to_numpy()) <= 0).all()


def test_orders_after_as_of_ignored() -> None:
    frames = hand_frames()
    late = pd.DataFrame(
        {
            "customer_id": [10, 10, 5],
            "order_id": ["late1", "late2", "late3"],
            "date": ["2024-07-01", "2024-12-31", "2025-01-01"],
            "amount": [1e6, 1e6, 1e6],
        }
    )
    frames["transactions"] = pd.concat([frames["transactions"], late], ignore_index=True)
    pd.testing.assert_frame_equal(rfm(segwork.load(frames), AS_OF), EXPECTED)


def test_duplicate_order_lines_count_once() -> None:
    # frequency = distinct orders, not lines (docs/metrics.md "RFM", "Extensions to the
    # definitions"): an order split over two lines (same order_id, customer and date) counts
    # once, its amounts add up.  Loaded as order lines, through the contract.
    frames = hand_frames()
    tx = frames["transactions"]
    line = tx[tx["order_id"] == "o9-0"].assign(amount=5.0)
    frames["transactions"] = pd.concat([tx, line], ignore_index=True)
    out = rfm(segwork.load(frames), AS_OF).set_index("customer_id")
    assert out.loc[9, "frequency"] == 6  # unchanged
    assert out.loc[9, "monetary"] == 1005.0  # 1000 + the second line's 5
    assert out.loc[9, "f_score"] == 5


def test_pandas_vs_parquet(hand_data: Dataset, tmp_path: Path) -> None:
    hand_data.write(tmp_path, format="parquet")
    from_files = segwork.load(tmp_path)
    pd.testing.assert_frame_equal(rfm(from_files, AS_OF), rfm(hand_data, AS_OF))


def test_rfm_segment_attribute(hand_data: Dataset) -> None:
    # customer_attributes' derived "rfm_segment" uses rfm_expr; customers without orders get null.
    attrs, _ = customer_attributes(hand_data, AS_OF, "rfm_segment")
    got = attrs.order_by("customer_id").to_pandas()
    assert got["customer_id"].tolist() == list(range(1, 12))
    assert got["rfm_segment"].iloc[:10].tolist() == EXPECTED["rfm_segment"].tolist()
    assert pd.isna(got["rfm_segment"].iloc[10])


def test_single_customer() -> None:
    # n = 1: r = 1 -> score = 1 + floor(0) = 1 for all three; (1, 1) -> Lost.
    data = segwork.load(
        {
            "customers": pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]}),
            "transactions": pd.DataFrame(
                {"customer_id": [1], "order_id": [1], "date": ["2024-06-30"], "amount": [5.0]}
            ),
        }
    )
    out = rfm(data, AS_OF)
    assert out[["recency_days", "r_score", "f_score", "m_score"]].iloc[0].tolist() == [0, 1, 1, 1]
    assert out["rfm_segment"].tolist() == ["Lost"]


def test_needs_transactions() -> None:
    data = segwork.load(
        {
            "customers": pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]}),
            "mrr": pd.DataFrame({"customer_id": [1], "month": ["2024-01-01"], "mrr": [5.0]}),
        }
    )
    with pytest.raises(ValueError, match="RFM needs a 'transactions' table"):
        rfm(data, AS_OF)
    with pytest.raises(ValueError, match="RFM needs a 'transactions' table"):
        rfm_expr(data, AS_OF)


def test_bad_as_of(hand_data: Dataset) -> None:
    with pytest.raises(ValueError, match="as_of"):
        rfm(hand_data, "not a date")
    with pytest.raises(ValueError, match="before all data"):
        rfm(hand_data, "2020-01-01")


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 15), st.integers(0, 40), st.sampled_from([5.0, 10.0, 12.5])),
        min_size=1,
        max_size=60,
    )
)
def test_scores_equal_a_plain_reading_with_ties(orders: list[tuple[int, int, float]]) -> None:
    """R, F and M scores by docs/metrics.md "RFM" (r = the "min" rank: ties share the smallest),
    read with pandas' rank(method="min"), on data full of ties."""
    as_of = pd.Timestamp("2024-03-31")
    tx = pd.DataFrame(
        [(c, i, as_of - pd.Timedelta(days=d), a) for i, (c, d, a) in enumerate(orders)],
        columns=["customer_id", "order_id", "date", "amount"],
    )
    ids = sorted(tx["customer_id"].unique())
    customers = pd.DataFrame({"customer_id": ids, "signup_date": ["2023-01-01"] * len(ids)})
    got = rfm(segwork.load({"customers": customers, "transactions": tx}), as_of)
    per = tx.groupby("customer_id").agg(
        last=("date", "max"), frequency=("order_id", "nunique"), monetary=("amount", "sum")
    )
    recency = (as_of - per["last"]).dt.days
    n = len(per)

    def score(values: pd.Series) -> pd.Series:
        return (1 + np.floor(5 * (values.rank(method="min") - 1) / n)).astype("int64")

    want = pd.DataFrame(
        {"r_score": score(-recency), "f_score": score(per["frequency"]),
         "m_score": score(per["monetary"])}
    )  # fmt: skip
    got = got.set_index("customer_id")[["r_score", "f_score", "m_score"]]
    pd.testing.assert_frame_equal(got, want, check_names=False)
