"""One test per contract rule (docs/metrics.md "Input tables"): a bad table in, the named error
out."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

import segwork
from segwork import DataContractError
from tests.conftest import tiny_frames

Frames = dict[str, pd.DataFrame]


def _set(table: str, column: str, row: int, value: object) -> Callable[[Frames], None]:
    def change(f: Frames) -> None:
        f[table][column] = f[table][column].astype(object)
        f[table].loc[row, column] = value

    return change


def _drop(table: str, column: str) -> Callable[[Frames], None]:
    def change(f: Frames) -> None:
        f[table] = f[table].drop(columns=[column])

    return change


def _dup_row(table: str, row: int) -> Callable[[Frames], None]:
    def change(f: Frames) -> None:
        f[table] = pd.concat([f[table], f[table].iloc[[row]]], ignore_index=True)

    return change


# (case id, change, table, column, rule, offending rows)
CASES = [
    ("customers missing signup_date", _drop("customers", "signup_date"), "customers", "signup_date", "missing_column", 0),
    ("customers missing id value", _set("customers", "customer_id", 1, None), "customers", "customer_id", "missing_value", 1),
    ("customers bad signup date", _set("customers", "signup_date", 0, "2024-02-30"), "customers", "signup_date", "unparseable_date", 1),
    ("customers ambiguous date", _set("customers", "signup_date", 2, "03/04/2024"), "customers", "signup_date", "unparseable_date", 1),
    ("customers duplicate id", _dup_row("customers", 0), "customers", "customer_id", "duplicate_key", 2),
    ("subscriptions missing amount col", _drop("subscriptions", "amount"), "subscriptions", "amount", "missing_column", 0),
    ("subscriptions negative amount", _set("subscriptions", "amount", 1, -10.0), "subscriptions", "amount", "negative_amount", 1),
    ("subscriptions NaN amount", _set("subscriptions", "amount", 1, np.nan), "subscriptions", "amount", "missing_value", 1),
    ("subscriptions text amount", _set("subscriptions", "amount", 0, "12,5"), "subscriptions", "amount", "not_numeric", 1),
    ("subscriptions unknown interval", _set("subscriptions", "billing_interval", 2, "monthly"), "subscriptions", "billing_interval", "unknown_interval", 1),
    ("subscriptions end before start", _set("subscriptions", "end_date", 1, "2024-01-01"), "subscriptions", "end_date", "end_before_start", 1),
    ("subscriptions bad start date", _set("subscriptions", "start_date", 0, "yesterday"), "subscriptions", "start_date", "unparseable_date", 1),
    ("subscriptions zero quantity", _set("subscriptions", "quantity", 0, 0), "subscriptions", "quantity", "non_positive_quantity", 1),
    ("subscriptions discount > 1", _set("subscriptions", "discount", 0, 1.5), "subscriptions", "discount", "discount_out_of_range", 1),
    ("subscriptions orphan customer", _set("subscriptions", "customer_id", 2, 99), "subscriptions", "customer_id", "unknown_customer", 1),
    ("subscriptions exact duplicate row", _dup_row("subscriptions", 1), "subscriptions", None, "duplicate_row", 2),
    ("events bad timestamp", _set("events", "timestamp", 0, "soon"), "events", "timestamp", "unparseable_date", 1),
    ("events negative count", _set("events", "count", 1, -1), "events", "count", "negative_count", 1),
    ("events orphan customer", _set("events", "customer_id", 0, 7), "events", "customer_id", "unknown_customer", 1),
    ("transactions order of two customers", _set("transactions", "order_id", 1, 10), "transactions", "customer_id, date", "order_lines_disagree", 2),
    ("transactions negative amount", _set("transactions", "amount", 0, -1.0), "transactions", "amount", "negative_amount", 1),
    ("transactions missing date col", _drop("transactions", "date"), "transactions", "date", "missing_column", 0),
    ("market low > mode", _set("market", "acv_low", 0, 2500.0), "market", "acv_low/acv_mode", "range_order", 1),
    ("market negative accounts", _set("market", "accounts", 1, -5), "market", "accounts", "negative_count", 1),
    ("market exact duplicate segment", _dup_row("market", 0), "market", None, "duplicate_row", 2),
]


@pytest.mark.parametrize(
    ("change", "table", "column", "rule", "n_rows"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_rule_breach_is_named(change, table, column, rule, n_rows):
    frames = tiny_frames()
    change(frames)
    before = {k: v.copy() for k, v in frames.items()}
    with pytest.raises(DataContractError) as info:
        segwork.load(frames)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.table, err.column, err.rule, err.n_rows) == (table, column, rule, n_rows)
    assert f"table '{table}'" in str(err) and f"rule '{rule}'" in str(err)
    if n_rows:
        assert len(err.examples) == n_rows
        assert f"{n_rows} offending row" in str(err)
    # nothing was changed or dropped in the caller's data
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frames[name], frame)


def test_mrr_table_rules():
    frames = tiny_frames()
    mrr = pd.DataFrame(
        {"customer_id": [1, 1, 2, 3], "month": ["2024-01-01", "2024-01-15", "2024-02-01", "2024-02-01"],
         "mrr": [100.0, 100.0, -3.0, 5.0]}
    )
    with pytest.raises(DataContractError) as info:
        segwork.load({"customers": frames["customers"], "mrr": mrr})
    rules = {(b.column, b.rule, b.n_rows) for b in info.value.breaches}
    assert ("month", "month_not_first_day", 1) in rules
    assert ("mrr", "negative_amount", 1) in rules


def test_mrr_duplicate_customer_month():
    frames = tiny_frames()
    mrr = pd.DataFrame({"customer_id": [1, 1], "month": ["2024-01-01"] * 2, "mrr": [1.0, 2.0]})
    with pytest.raises(DataContractError) as info:
        segwork.load({"customers": frames["customers"], "mrr": mrr})
    assert (info.value.rule, info.value.column, info.value.n_rows) == (
        "duplicate_key", "customer_id, month", 2)


def test_market_needs_a_value_column():
    market = pd.DataFrame({"industry": ["a"], "accounts": [10]})
    with pytest.raises(DataContractError) as info:
        segwork.load({"market": market})
    assert (info.value.rule, info.value.column) == ("missing_column", "acv")


def test_id_type_mismatch():
    frames = tiny_frames()
    frames["transactions"]["customer_id"] = frames["transactions"]["customer_id"].astype(str)
    with pytest.raises(DataContractError) as info:
        segwork.load(frames)
    assert (info.value.table, info.value.rule) == ("transactions", "id_type_mismatch")


def test_duplicate_column_names():
    frames = tiny_frames()
    c = frames["customers"]
    frames["customers"] = pd.concat([c, c[["plan"]]], axis=1)
    with pytest.raises(DataContractError) as info:
        segwork.load(frames)
    assert (info.value.table, info.value.column, info.value.rule) == (
        "customers", "plan", "duplicate_column")


def test_all_breaches_listed_and_first_five_shown():
    frames = tiny_frames()
    subs = frames["subscriptions"]
    # 12 distinct rows (quantity tells the copies apart: no duplicate_row breach)
    frames["subscriptions"] = pd.concat([subs] * 4, ignore_index=True).assign(amount=-1.0, quantity=range(1, 13))
    frames["customers"].loc[0, "signup_date"] = "bad"
    with pytest.raises(DataContractError) as info:
        segwork.load(frames)
    err = info.value
    assert len(err.breaches) == 2
    neg = next(b for b in err.breaches if b.rule == "negative_amount")
    assert neg.n_rows == 12 and len(neg.examples) == 5
    assert "12 offending rows; first 5" in str(err)


def test_validation_runs_in_the_engine_on_large_tables():
    """A 2M-row table is checked by engine aggregates, not row by row (finishes quickly)."""
    n = 2_000_000
    customers = pd.DataFrame({"customer_id": np.arange(n), "signup_date": pd.Timestamp("2024-01-01")})
    customers.loc[n - 1, "customer_id"] = 0  # one duplicate at the very end
    with pytest.raises(DataContractError) as info:
        segwork.load({"customers": customers})
    assert info.value.rule == "duplicate_key" and info.value.n_rows == 2


# -- the one-pass screens (issue 25): a screen may only send a table to the exact check ----------
def _months(n: int, start: str = "2010-01-01") -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start, periods=n, freq="MS")]


def test_mrr_key_screen_spans_month_buckets():
    """200 distinct months of one customer (several 62-month buckets): no duplicate; the same
    month twice in a late bucket: duplicate_key with both rows, as the exact check says."""
    frames = tiny_frames()
    months = _months(200)
    ok = pd.DataFrame({"customer_id": 1, "month": months, "mrr": 1.0})
    segwork.load({"customers": frames["customers"], "mrr": ok})
    bad = pd.concat([ok, ok.iloc[[150]]], ignore_index=True)
    with pytest.raises(DataContractError) as info:
        segwork.load({"customers": frames["customers"], "mrr": bad})
    assert (info.value.rule, info.value.column, info.value.n_rows) == (
        "duplicate_key", "customer_id, month", 2)
    assert list(info.value.examples["month"].astype(str)) == [months[150]] * 2


def test_mrr_key_screen_null_months_are_checked_exactly():
    frames = tiny_frames()
    mrr = pd.DataFrame({"customer_id": [1, 1, 2], "month": [None, None, "2024-02-01"],
                        "mrr": [1.0, 2.0, 3.0]})
    with pytest.raises(DataContractError) as info:
        segwork.load({"customers": frames["customers"], "mrr": mrr})
    rules = {(b.column, b.rule, b.n_rows) for b in info.value.breaches}
    assert ("month", "missing_value", 2) in rules
    assert ("customer_id, month", "duplicate_key", 2) in rules


def test_mixed_currency_found_in_a_keyed_table():
    frames = tiny_frames()
    mrr = pd.DataFrame({"customer_id": [1, 2, 3], "month": ["2024-02-01"] * 3,
                        "mrr": [1.0, 2.0, 3.0], "currency": ["usd", "USD ", "EUR"]})
    with pytest.raises(DataContractError) as info:
        segwork.load({"customers": frames["customers"], "mrr": mrr})
    assert (info.value.rule, info.value.n_rows) == ("mixed_currency", 1)
    one = mrr.assign(currency=["usd", "USD ", ""])
    segwork.load({"customers": frames["customers"], "mrr": one})


def test_order_lines_disagree_counted_with_min_max():
    frames = tiny_frames()
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "order_id": ["a", "a", "b", "b", "c"],
                       "date": ["2024-02-01", "2024-02-02", "2024-03-01", "2024-03-01",
                                "2024-04-01"], "amount": [1.0, 2.0, 3.0, 4.0, 5.0]})
    with pytest.raises(DataContractError) as info:
        segwork.load({"customers": frames["customers"], "transactions": tx})
    err = info.value
    assert (err.rule, err.column, err.n_rows) == ("order_lines_disagree", "date", 2)
    assert "1 order_id(s)" in str(err)


def test_unknown_customer_still_counts_rows():
    frames = tiny_frames()
    mrr = pd.DataFrame({"customer_id": [1, 9, 9], "month": _months(3, "2024-02-01"),
                        "mrr": [1.0, 2.0, 3.0]})
    with pytest.raises(DataContractError) as info:
        segwork.load({"customers": frames["customers"], "mrr": mrr})
    assert (info.value.rule, info.value.n_rows) == ("unknown_customer", 2)


@pytest.mark.parametrize(
    "text", ["", " ", "\t", " \n\r", "\x0b\x0c", "a", " a", "!", " !", "\t~", "é", " é", "~", None]
)
def test_blank_text_is_missing_exactly_as_stripped_text_is_empty(text):
    """A text value is missing when empty once stripped (the strip runs only on values that
    sort before "!", which every blank value does): the same answer as the strip itself."""
    import ibis

    from segwork.data.contract import _is_missing

    t = ibis.memtable(pd.DataFrame({"x": pd.Series([text], dtype="object")}), schema={"x": "string"})
    got = bool(t.select(m=_is_missing(t.x)).to_pandas()["m"].iloc[0])
    assert got == (text is None or text.strip(" \t\n\r\x0b\x0c") == "")
