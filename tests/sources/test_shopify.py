"""The Shopify orders export reader: an export reads as its canonical tables (same metrics), its
rules (order = Name, customer = e-mail, wall-clock day, Subtotal allocated over the lines, what is
left out) and its refusals (file, column, rule, first rows)."""

from __future__ import annotations

import inspect
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwork
from segwork.data.contract import DataContractError
from segwork.sources import detect_format, read_export
from segwork.sources.base import Imported
from segwork.sources.shopify import (
    CANCELLED,
    LEFT_OUT_STATUSES,
    NO_EMAIL,
    allocate,
    detect,
    export_files,
    read,
)
from tests.sources.checks import assert_names, assert_same_order_metrics, left_out
from tests.sources.shopify_export import (
    GHOST,
    HEADER,
    ShopifyExport,
    allocate_cents,
    write_rows,
    write_shopify_export,
)

AS_OF = ("2023-06-30", "2024-03-31", "2024-12-31")
HAS_FORMAT = "format" in inspect.signature(segwork.load).parameters


# -- helpers ---------------------------------------------------------------------------------------
def line(name: str, **fields: str) -> dict[str, str]:
    """A row of an orders export: ``name``'s line item, with the order's fields when given."""
    row = {"Name": name, "Lineitem quantity": "1", "Lineitem name": "Tee", "Lineitem price": "10.00"}
    keys = {
        "email": "Email", "status": "Financial Status", "subtotal": "Subtotal",
        "created": "Created at", "cancelled": "Cancelled at", "currency": "Currency",
        "country": "Billing Country", "qty": "Lineitem quantity", "item": "Lineitem name",
        "price": "Lineitem price",
    }  # fmt: skip
    for key, value in fields.items():
        row[keys.get(key, key)] = value
    return row


def order(name: str, email: str, subtotal: str, created: str = "2024-03-05 10:00:00 -0500",
          status: str = "paid", **fields: str) -> dict[str, str]:
    """The first line of an order (it carries the order's fields)."""
    fields.setdefault("currency", "USD")
    return line(name, email=email, subtotal=subtotal, created=created, status=status, **fields)


def export(folder: Path, rows: list[dict[str, str]], file: str = "orders_export_1.csv",
           header: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_rows(folder / file, rows, header)
    return folder



def refusal(folder: Path) -> DataContractError:
    with pytest.raises(DataContractError) as info:
        read(folder)
    return info.value




def cents_by_order(transactions: pd.DataFrame) -> dict[str, int]:
    amounts = (transactions["amount"] * 100).round().astype("int64")
    return amounts.groupby(transactions["order_id"]).sum().to_dict()


# -- the sample export -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> ShopifyExport:
    return write_shopify_export(tmp_path_factory.mktemp("shopify"), 40, random_state=1)


@pytest.fixture(scope="module")
def imported(sample: ShopifyExport) -> Imported:
    return read_export(sample.folder, "shopify")


def test_fixture_carries_what_it_claims(sample: ShopifyExport) -> None:
    kept = [o for o in sample.orders if o.reason is None]
    assert sum(len(o.lines) > 1 for o in kept) >= 10  # multi-line orders
    assert sum(o.discount > 0 for o in kept) >= 5  # Subtotal < sum of price x quantity
    assert sum(any(p == 0 for _, _, p in o.lines) for o in kept) >= 1  # a free line
    assert {"23:30:00 -0500", "00:30:00 +0900"} <= {f"{o.time} {o.offset}" for o in kept}
    assert any(o.email != o.email.strip().lower() for o in kept)
    assert {"partially_refunded", "pending", "authorized", "paid"} <= {o.status for o in kept}
    assert any(not o.country for o in kept)
    first, second = (pd.read_csv(sample.folder / f, dtype=str, keep_default_na=False)
                     for f in sample.files)  # fmt: skip
    assert second["Subtotal"].iloc[0] == ""  # the first line of file 2 continues an order
    assert second["Name"].iloc[0] == first["Name"].iloc[-1]  # an order runs on into file 2
    totals = first[first["Total"] != ""]
    assert (totals["Total"].astype(float) > totals["Subtotal"].astype(float)).all()
    assert "Café mug" in set(first["Lineitem name"]) | set(second["Lineitem name"])


def test_export_reads_as_its_canonical_tables(sample: ShopifyExport, imported: Imported) -> None:
    for name in ("customers", "transactions"):
        pd.testing.assert_frame_equal(imported.tables[name], sample.tables[name])
    assert imported.format == "shopify"
    assert imported.encodings == dict.fromkeys(sample.files, "utf_8")


def test_export_metrics_equal_canonical(sample: ShopifyExport, imported: Imported) -> None:
    truth, got = segwork.load(sample.tables), segwork.load(imported.tables)
    assert_same_order_metrics(got, truth, AS_OF)


def test_left_out_counts_are_the_planted_ones(sample: ShopifyExport, imported: Imported) -> None:
    assert left_out(imported, "transactions") == sample.left_out
    assert set(sample.left_out) == {CANCELLED, NO_EMAIL, LEFT_OUT_STATUSES["refunded"],
                                    LEFT_OUT_STATUSES["voided"]}  # fmt: skip
    notes = imported.summary_notes()
    assert any("orders_export_1.csv" in n and "counted in orders" in n for n in notes)


def test_lines_sum_to_the_subtotal(sample: ShopifyExport, imported: Imported) -> None:
    got = cents_by_order(imported.tables["transactions"])
    kept = {o.name: o.subtotal for o in sample.orders if o.reason is None}
    assert got == kept


def test_customers_from_kept_orders(sample: ShopifyExport, imported: Imported) -> None:
    customers = imported.tables["customers"]
    ids = set(customers["customer_id"])
    assert GHOST not in ids  # its only order was refunded
    assert all(c == c.strip().lower() for c in ids)
    # the customer whose cancelled order (billed to ZZ) came before its first kept order
    planted = next(o for o in sample.orders if o.country == "ZZ")
    row = customers.set_index("customer_id").loc[planted.customer]
    assert row["signup_date"] > f"{planted.day:%Y-%m-%d}" and row["country"] != "ZZ"


@pytest.mark.skipif(not HAS_FORMAT, reason="segwork.load(format=...) not there yet")
def test_load_reads_the_folder_as_shopify(sample: ShopifyExport) -> None:
    truth = segwork.load(sample.tables)
    for data in (segwork.load(sample.folder, format="shopify"), segwork.load(sample.folder)):
        assert data.format == "shopify"
        assert data.left_out.groupby("reason")["rows"].sum().to_dict() == sample.left_out
        pd.testing.assert_frame_equal(segwork.rfm(data, AS_OF[-1]), segwork.rfm(truth, AS_OF[-1]))
        assert any("Shopify" in n for n in data.notes)
    assert detect_format(sample.folder) == "shopify"


# -- rules, on hand-made exports -------------------------------------------------------------------
def test_wall_clock_day_keeps_the_offset(tmp_path: Path) -> None:
    folder = export(tmp_path, [
        order("#1", "a@x.com", "10.00", "2024-03-05 23:30:00 -0500"),  # UTC: 03-06
        order("#2", "a@x.com", "10.00", "2024-03-07 00:30:00 +0900"),  # UTC: 03-06
        order("#3", "a@x.com", "10.00", "2024-03-08T23:59-07:00"),
        order("#4", "a@x.com", "10.00", "2024-03-09 08:00:00 Z"),
    ])  # fmt: skip
    dates = read(folder).tables["transactions"]["date"].tolist()
    assert dates == ["2024-03-05", "2024-03-07", "2024-03-08", "2024-03-09"]


def test_order_fields_come_from_the_first_line(tmp_path: Path) -> None:
    folder = export(tmp_path, [
        order("#1", " Ann@Example.COM ", "27.00", country="US", item="Mug", qty="2"),
        line("#1", email="ann@example.com", created="2024-03-05 10:00:00 -0500", item="Tee"),
        line("#1", item="Cap", price="0.00"),
        order("#2", "ANN@example.com", "5.00", "2024-03-01 09:00:00 -0500", country=""),
        order("#3", "bob@example.com", "12.00", "2024-03-02 09:00:00 -0500", country="CA"),
    ])  # fmt: skip
    got = read(folder).tables
    tx = got["transactions"]
    assert tx["order_id"].tolist() == ["#1", "#1", "#1", "#2", "#3"]
    assert tx["customer_id"].tolist()[:4] == ["ann@example.com"] * 4
    assert tx["amount"].tolist() == [18.0, 9.0, 0.0, 5.0, 12.0]  # 27 over 20 : 10 : 0
    assert tx["quantity"].tolist() == [2, 1, 1, 1, 1] and tx["currency"].eq("USD").all()
    assert tx["product"].tolist() == ["Mug", "Tee", "Cap", "Tee", "Tee"]
    customers = got["customers"].set_index("customer_id")
    # ann's first kept order (#2, 03-01) has no country: the next one (#1) gives it
    assert customers.loc["ann@example.com"].tolist() == ["2024-03-01", "US"]
    assert customers.loc["bob@example.com"].tolist() == ["2024-03-02", "CA"]


def test_statuses(tmp_path: Path) -> None:
    day = "2024-03-05 10:00:00 -0500"
    folder = export(tmp_path, [
        order("#1", "a@x.com", "10.00", status="paid"),
        order("#2", "a@x.com", "10.00", status="partially_refunded", **{"Refunded Amount": "4.00"}),
        order("#3", "a@x.com", "10.00", status="pending"),
        order("#4", "a@x.com", "10.00", status="authorized"),
        order("#5", "a@x.com", "10.00", status="partially_paid"),
        order("#6", "a@x.com", "10.00", status="Refunded"),
        line("#6", item="Mug"),
        order("#7", "a@x.com", "10.00", status="voided"),
        order("#8", "a@x.com", "10.00", status="expired"),
        order("#9", "a@x.com", "10.00", status="paid", cancelled=day),
        order("#10", "", "10.00", status="refunded"),  # refunded before no e-mail
        order("#11", "  ", "10.00", status="paid"),
        line("#11", item="Mug"),
    ])  # fmt: skip
    imported = read(folder)
    tx = imported.tables["transactions"]
    assert tx["order_id"].tolist() == ["#1", "#2", "#3", "#4", "#5"]
    assert tx["amount"].tolist() == [10.0] * 5  # partially refunded: its full Subtotal
    assert left_out(imported, "transactions") == {
        LEFT_OUT_STATUSES["refunded"]: 2, LEFT_OUT_STATUSES["voided"]: 1,
        LEFT_OUT_STATUSES["expired"]: 1, CANCELLED: 1, NO_EMAIL: 1,
    }  # fmt: skip


def test_split_files_read_in_name_order(tmp_path: Path) -> None:
    export(tmp_path, [order("#1", "a@x.com", "30.00"), line("#1", item="Mug")],
           "orders_export_2.csv")  # fmt: skip
    export(tmp_path, [line("#1", item="Cap"), order("#2", "b@x.com", "10.00")],
           "orders_export_10.csv")  # fmt: skip
    assert [p.name for p in export_files(tmp_path)] == ["orders_export_2.csv",
                                                        "orders_export_10.csv"]  # fmt: skip
    imported = read(tmp_path)
    tx = imported.tables["transactions"]
    assert tx["order_id"].tolist() == ["#1", "#1", "#1", "#2"]
    assert tx["amount"].tolist() == [10.0, 10.0, 10.0, 10.0]
    assert set(imported.encodings) == {"orders_export_2.csv", "orders_export_10.csv"}


def test_three_decimal_currency_is_allocated_in_its_own_unit(tmp_path: Path) -> None:
    folder = export(tmp_path, [order("#1", "a@x.com", "10.001", currency="KWD", price="1.000"),
                               line("#1", price="1.000"), line("#1", price="1.000")])  # fmt: skip
    tx = read(folder).tables["transactions"]
    assert tx["amount"].tolist() == [3.334, 3.334, 3.333]


def test_allocate() -> None:
    got = allocate(np.array([1000] * 3 + [5] * 2 + [7] * 2), np.array([1, 1, 1, 0, 0, 1, 3]),
                   np.array(list("aaabbcc")))  # fmt: skip
    assert got.tolist() == [334, 333, 333, 3, 2, 2, 5]
    huge = allocate(np.array([10**12, 10**12]), np.array([10**9, 2 * 10**9]), np.array([1, 1]))
    assert huge.tolist() == [333333333333, 666666666667]


def test_detect(tmp_path: Path, sample: ShopifyExport) -> None:
    assert detect(sample.folder)
    assert not detect(tmp_path / "nowhere") and not detect(tmp_path)
    export(tmp_path / "upper", [order("#1", "a@x.com", "1.00")], "Orders_Export_1.CSV")
    assert detect(tmp_path / "upper") and read(tmp_path / "upper").tables["transactions"].shape[0]
    other = [h for h in HEADER if h != "Subtotal"]
    export(tmp_path / "no_subtotal", [line("#1")], header=other)
    assert not detect(tmp_path / "no_subtotal")
    export(tmp_path / "other_name", [order("#1", "a@x.com", "1.00")], "orders.csv")
    assert not detect(tmp_path / "other_name")


def test_no_export_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"orders_export_1\.csv"):
        read(tmp_path)


# -- refusals --------------------------------------------------------------------------------------
GOOD = [
    order("#1", "a@x.com", "30.00"),
    line("#1", item="Mug", qty="2"),
    order("#2", "b@x.com", "12.00", "2024-03-06 10:00:00 -0500"),
]


@pytest.mark.parametrize(
    ("column", "change", "rule", "lines"),
    [
        ("Created at", {2: {"Created at": "03/06/2024 10:00"}}, "unparseable_date", [4]),
        ("Created at", {0: {"Created at": "2024-02-30 10:00:00 -0500"}}, "unparseable_date", [2]),
        ("Subtotal", {2: {"Subtotal": "12,00"}, 0: {"Subtotal": "n/a"}}, "not_numeric", [2, 4]),
        ("Lineitem quantity", {1: {"Lineitem quantity": "two"}}, "not_numeric", [3]),
        ("Lineitem price", {0: {"Lineitem price": "inf"}}, "not_numeric", [2]),
        ("Lineitem price", {1: {"Lineitem price": ""}}, "missing_value", [3]),
        ("Lineitem price", {2: {"Lineitem price": "-1.00"}}, "negative_value", [4]),
        ("Subtotal", {2: {"Subtotal": "-12.00"}}, "negative_value", [4]),
        ("Created at", {0: {"Created at": ""}}, "missing_value", [2]),
        ("Subtotal", {2: {"Subtotal": ""}}, "missing_value", [4]),
        ("Name", {1: {"Subtotal": "30.00"}}, "duplicate_order", [3]),
        ("Name", {1: {"Name": " "}}, "missing_value", [3]),
    ],
)
def test_refusals_name_file_column_rule_rows(
    tmp_path: Path, column: str, change: dict[int, dict[str, str]], rule: str, lines: list[int]
) -> None:
    rows = [dict(r) for r in GOOD]
    for i, fields in change.items():
        rows[i].update(fields)
    err = refusal(export(tmp_path, rows))
    assert_names(err, "orders_export_1.csv", column, rule, lines)
    assert not err.examples.empty and "Name" in err.examples.columns


def test_refusal_in_the_second_file_names_it(tmp_path: Path) -> None:
    export(tmp_path, [order("#1", "a@x.com", "30.00")], "orders_export_1.csv")
    export(tmp_path, [line("#1"), line("#2", email="b@x.com", subtotal="3.00", created="later")],
           "orders_export_2.csv")  # fmt: skip
    assert_names(refusal(tmp_path), "orders_export_2.csv", "Created at", "unparseable_date", [3])
    # an order whose first line is in file 2 and lacks its Subtotal
    export(tmp_path, [line("#1"), line("#2", email="b@x.com", created="2024-03-05 10:00:00 -0500")],
           "orders_export_2.csv")  # fmt: skip
    assert_names(refusal(tmp_path), "orders_export_2.csv", "Subtotal", "missing_value", [3])


@pytest.mark.parametrize("missing", ["Subtotal", "Lineitem price", "Cancelled at", "Email"])
def test_missing_or_renamed_column(tmp_path: Path, missing: str) -> None:
    header = [h if h != missing else f"{missing} (renamed)" for h in HEADER]
    rows = [{(k if k != missing else f"{missing} (renamed)"): v for k, v in r.items()} for r in GOOD]
    err = refusal(export(tmp_path, rows, header=header))
    assert_names(err, "orders_export_1.csv", missing, "missing_column")
    assert f"{missing} (renamed)" in str(err)  # the columns present are listed


def test_optional_columns_may_be_absent(tmp_path: Path) -> None:
    header = [h for h in HEADER if h not in ("Currency", "Billing Country")]
    imported = read(export(tmp_path, [{k: v for k, v in r.items() if k in header} for r in GOOD],
                           header=header))  # fmt: skip
    assert "currency" not in imported.tables["transactions"].columns
    assert list(imported.tables["customers"].columns) == ["customer_id", "signup_date"]
    assert any("Currency / Billing Country" in n for n in imported.notes)


# -- property: line amounts sum to the Subtotal in cents exactly -----------------------------------
@settings(max_examples=25, deadline=None)
@given(
    subtotal=st.integers(0, 10**7),
    items=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 100_000)), min_size=1, max_size=6),
)
def test_line_amounts_sum_to_the_subtotal(subtotal: int, items: list[tuple[int, int]]) -> None:
    rows = [order("#1", "a@x.com", f"{subtotal / 100:.2f}", qty=str(items[0][0]),
                  price=f"{items[0][1] / 100:.2f}")]  # fmt: skip
    rows += [line("#1", qty=str(q), price=f"{p / 100:.2f}") for q, p in items[1:]]
    with tempfile.TemporaryDirectory() as tmp:
        tx = read(export(Path(tmp), rows)).tables["transactions"]
    shares = (tx["amount"] * 100).round().astype("int64").tolist()
    assert sum(shares) == subtotal
    weights = [q * p for q, p in items]
    assert shares == allocate_cents(subtotal, weights)
    whole = sum(weights) or len(weights)
    for share, w in zip(shares, weights if sum(weights) else [1] * len(weights), strict=True):
        assert abs(share - Fraction(subtotal * w, whole)) < 1
    assert (tx["amount"] == np.array(shares) / 100).all()

