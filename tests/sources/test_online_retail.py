"""The UCI Online Retail reader: the data set reads as its canonical tables (same metrics), in
both layouts, both date layouts and cp1252 text; its rules (invoice = order, amount = Quantity x
price, what is left out) and its refusals (file, column, rule, first rows)."""

from __future__ import annotations

import csv
import inspect
import tempfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwork
from segwork.data.contract import DataContractError
from segwork.sources import detect_format, read_export
from segwork.sources.online_retail import (
    ALREADY_READ,
    CANCELLATION,
    LAYOUTS,
    NO_CUSTOMER,
    NO_PRICE,
    RETURN,
    detect,
    read,
)
from tests.sources.checks import assert_names, assert_same_order_metrics, left_out
from tests.sources.retail_export import (
    ACCENTED,
    GHOST_CUSTOMER,
    RetailExport,
    customer_id,
    write_retail_export,
)
from tests.sources.shopify_export import write_shopify_export

AS_OF = ("2023-06-30", "2024-03-31", "2024-12-31")
HAS_FORMAT = "format" in inspect.signature(segwork.load).parameters
RETAIL, II = "Online Retail", "Online Retail II"


# -- helpers ---------------------------------------------------------------------------------------
def write(folder: Path, rows: list[list[object]], *, layout: str = RETAIL,
          file: str = "Online Retail.csv", encoding: str = "utf-8",
          header: list[str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / file).open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header or LAYOUTS[layout])
        writer.writerows(rows)
    return folder


def row(invoice: str = "536365", quantity: object = 6, date: str = "12/1/2010 8:26",
        price: object = "2.55", customer: str = "17850", description: str = "LANTERN",
        stock: str = "71053", country: str = "United Kingdom") -> list[object]:
    return [invoice, stock, description, quantity, date, price, customer, country]



def refusal(folder: Path) -> DataContractError:
    with pytest.raises(DataContractError) as info:
        read(folder)
    return info.value




def assert_same_metrics(got: segwork.Dataset, truth: segwork.Dataset) -> None:
    assert_same_order_metrics(got, truth, AS_OF)


# -- the two sample exports ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def two_years(tmp_path_factory: pytest.TempPathFactory) -> RetailExport:
    """Online Retail II, ISO dates, UTF-8, two files with overlapping invoices."""
    folder = tmp_path_factory.mktemp("retail_ii")
    return write_retail_export(folder, 40, random_state=2, layout=II, split=True)


@pytest.fixture(scope="module")
def windows(tmp_path_factory: pytest.TempPathFactory) -> RetailExport:
    """Online Retail, US dates, cp1252 text (as the UCI file is commonly saved)."""
    folder = tmp_path_factory.mktemp("retail_i")
    return write_retail_export(folder, 40, random_state=3, layout=RETAIL, dates="us",
                               encoding="cp1252")  # fmt: skip


@pytest.mark.parametrize("name", ["two_years", "windows"])
def test_export_reads_as_its_canonical_tables(name: str, request: pytest.FixtureRequest) -> None:
    sample: RetailExport = request.getfixturevalue(name)
    imported = read_export(sample.folder, "online_retail")
    for table in ("customers", "transactions"):
        pd.testing.assert_frame_equal(imported.tables[table], sample.tables[table])
    assert left_out(imported, "transactions") == sample.left_out
    assert_same_metrics(segwork.load(imported.tables), segwork.load(sample.tables))


def test_fixtures_carry_what_they_claim(two_years: RetailExport, windows: RetailExport) -> None:
    for sample in (two_years, windows):
        assert set(sample.left_out) >= {CANCELLATION, RETURN, NO_CUSTOMER, NO_PRICE}
        assert any(x.invoice.startswith("C") for x in sample.lines)
        assert any(x.invoice.startswith("A") and float(x.price) < 0 for x in sample.lines)
        assert any(len(x.price.split(".")[1]) == 3 and not x.reason for x in sample.lines)
    assert ALREADY_READ in two_years.left_out and len(two_years.files) == 2
    text = (windows.folder / windows.files[0]).read_bytes()
    assert not _is_utf8(text) and "CAFÉ".encode("cp1252") in text
    assert b"/2022 " in text  # US dates
    head = (two_years.folder / two_years.files[0]).read_text().splitlines()
    assert head[0].split(",") == list(LAYOUTS[II]) and ".0," in head[1]


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_cp1252_text_comes_back_right(windows: RetailExport) -> None:
    imported = read(windows.folder)
    assert imported.encodings == {windows.files[0]: "cp1252"}
    products = set(imported.tables["transactions"]["product"])
    assert ACCENTED & products and all(p.isascii() or p in ACCENTED for p in products)
    assert any("not UTF-8" in n for n in imported.summary_notes())
    # encoding= names it, same result
    again = read(windows.folder, encoding="windows-1252")
    pd.testing.assert_frame_equal(again.tables["transactions"], imported.tables["transactions"])


def test_customers(two_years: RetailExport) -> None:
    imported = read(two_years.folder)
    customers = imported.tables["customers"]
    assert customer_id(GHOST_CUSTOMER) not in set(customers["customer_id"])  # only a cancellation
    assert not customers["customer_id"].str.contains(r"\.").any()  # "12346.0" -> "12346"
    # customers whose later invoices name another country keep their first invoice's
    eire = {x.customer for x in two_years.lines if x.country == "EIRE" and not x.reason}
    assert eire and not (set(customers.loc[customers["customer_id"].isin(eire), "country"])
                         & {"EIRE"})  # fmt: skip


@pytest.mark.skipif(not HAS_FORMAT, reason="segwork.load(format=...) not there yet")
def test_load_reads_the_folder(windows: RetailExport) -> None:
    truth = segwork.load(windows.tables)
    for data in (segwork.load(windows.folder, format="online_retail"),
                 segwork.load(windows.folder)):  # fmt: skip
        assert data.format == "online_retail"
        assert data.left_out.groupby("reason")["rows"].sum().to_dict() == windows.left_out
        pd.testing.assert_frame_equal(segwork.rfm(data, AS_OF[-1]), segwork.rfm(truth, AS_OF[-1]))
    assert detect_format(windows.folder) == "online_retail"


# -- rules, on hand-made files ---------------------------------------------------------------------
def test_left_out_reasons_in_order(tmp_path: Path) -> None:
    folder = write(tmp_path, [
        row(),                                             # kept
        row(quantity=-2),                                  # a return line
        row(price="0.00"),                                 # free
        row(customer=""),                                  # no customer
        row("C536379", quantity=-1, customer=""),          # no customer first
        row("C536380", quantity=-1),                       # cancellation
        row("c536381", quantity=1),                        # cancellation (any case)
        row("A563185", quantity=1, price="-11062.06"),     # bad debt
        row("536390", quantity=0),                         # quantity 0
        row("536391", customer="nan"),                     # a spreadsheet's empty
    ])  # fmt: skip
    imported = read(folder)
    assert imported.tables["transactions"]["order_id"].tolist() == ["536365"]
    assert left_out(imported, "transactions") == {RETURN: 2, NO_PRICE: 2, NO_CUSTOMER: 3, CANCELLATION: 2}


def test_line_values(tmp_path: Path) -> None:
    folder = write(tmp_path, [
        row(quantity=6, price="2.55", customer="17850.0", description=" WHITE LANTERN  "),
        row(quantity=3, price="0.085", customer="17850", description="", stock="85123A"),
        row("536366", quantity=1, price="1.10", customer="13047", date="12/2/2010 17:05",
            country="France"),
        row("536367", quantity=2, price="3.00", customer="17850", date="1/5/2011 9:00",
            country="EIRE"),
    ])  # fmt: skip
    tables = read(folder).tables
    tx = tables["transactions"]
    assert tx["customer_id"].tolist() == ["17850", "17850", "13047", "17850"]
    assert tx["amount"].tolist() == [15.3, 0.255, 1.1, 6.0]
    assert tx["product"].tolist() == ["WHITE LANTERN", "85123A", "LANTERN", "LANTERN"]
    assert tx["date"].tolist() == ["2010-12-01", "2010-12-01", "2010-12-02", "2011-01-05"]
    assert tx["quantity"].dtype == "int64" and tx["currency"].eq("GBP").all()
    assert tables["customers"].values.tolist() == [
        ["13047", "2010-12-02", "France"], ["17850", "2010-12-01", "United Kingdom"],
    ]  # fmt: skip


def test_iso_dates_and_layout_ii(tmp_path: Path) -> None:
    folder = write(tmp_path, [
        row("489434", date="2009-12-01 07:45:00", customer="13085.0"),
        row("489435", date="2009-12-01 23:59", customer="13085.0"),
    ], layout=II, file="online_retail_II.csv")  # fmt: skip
    tx = read(folder).tables["transactions"]
    assert tx["date"].tolist() == ["2009-12-01", "2009-12-01"]
    assert tx["customer_id"].tolist() == ["13085", "13085"]


def test_files_of_one_layout_read_in_name_order(tmp_path: Path) -> None:
    write(tmp_path, [row("2", date="2011-01-01 10:00:00")], layout=II, file="year 10.csv")
    write(tmp_path, [row("1", date="2010-01-01 10:00:00"), row("2", date="2011-01-01 10:00:00")],
          layout=II, file="year 9.csv")  # fmt: skip
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    imported = read(tmp_path)
    assert imported.tables["transactions"]["order_id"].tolist() == ["1", "2"]
    assert imported.left_out_frame().values.tolist() == [
        ["year 10.csv", "transactions", ALREADY_READ, 1]
    ]
    assert any("notes.csv" in n for n in imported.notes)


def test_both_layouts_refused(tmp_path: Path) -> None:
    write(tmp_path, [row()], layout=RETAIL, file="a.csv")
    write(tmp_path, [row(date="2010-12-01 08:26:00")], layout=II, file="b.csv")
    with pytest.raises(ValueError, match="both layouts"):
        read(tmp_path)


def test_detect(tmp_path: Path, windows: RetailExport, two_years: RetailExport) -> None:
    assert detect(windows.folder) and detect(two_years.folder)
    assert not detect(tmp_path / "nowhere") and not detect(tmp_path)
    write_shopify_export(tmp_path / "shopify", 5, random_state=0)
    assert not detect(tmp_path / "shopify")
    header = [h if h != "UnitPrice" else "Price" for h in LAYOUTS[RETAIL]]
    write(tmp_path / "renamed", [row()], header=header)
    assert not detect(tmp_path / "renamed")
    extra = ["", *LAYOUTS[RETAIL]]  # a spreadsheet's index column
    write(tmp_path / "index", [[0, *row()]], header=extra)
    assert detect(tmp_path / "index") and len(read(tmp_path / "index").tables["transactions"]) == 1


def test_no_csv(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no \.csv file"):
        read(tmp_path)


# -- refusals --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("rows", "column", "rule", "lines"),
    [
        ([row(), row(date="2010-12-01 08:26:00"), row(date="13/1/2010 8:26")],
         "InvoiceDate", "unparseable_date", [3, 4]),
        ([row(date="2/30/2011 8:00")], "InvoiceDate", "unparseable_date", [2]),
        ([row(date="01-12-2010 08:26")], "InvoiceDate", "unparseable_date", [2]),
        ([row(), row(date="")], "InvoiceDate", "missing_value", [3]),
        ([row(), row(quantity="six")], "Quantity", "not_numeric", [3]),
        ([row(), row(quantity="")], "Quantity", "missing_value", [3]),
        ([row(price="2,55"), row(), row(price="inf")], "UnitPrice", "not_numeric", [2, 4]),
        ([row(), row(invoice=" ")], "InvoiceNo", "missing_value", [3]),
    ],
)
def test_refusals_name_file_column_rule_rows(
    tmp_path: Path, rows: list[list[object]], column: str, rule: str, lines: list[int]
) -> None:
    err = refusal(write(tmp_path, rows))
    assert_names(err, "Online Retail.csv", column, rule, lines)
    assert "InvoiceNo" in err.examples.columns


def test_iso_file_refuses_us_values(tmp_path: Path) -> None:
    folder = write(tmp_path, [row(date="2010-12-01 08:26:00"), row(date="12/1/2010 8:26")],
                   layout=II, file="online_retail_II.csv")  # fmt: skip
    err = refusal(folder)
    assert_names(err, "online_retail_II.csv", "InvoiceDate", "unparseable_date", [3])
    assert "ISO" in str(err)


def test_renamed_column_refused(tmp_path: Path) -> None:
    header = [h if h != "CustomerID" else "Customer" for h in LAYOUTS[RETAIL]]
    err = refusal(write(tmp_path, [row()], header=header))
    assert_names(err, "Online Retail.csv", "CustomerID", "missing_column")
    assert "Customer" in str(err)


# -- property: a line's amount is the decimal Quantity x price ------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    items=st.lists(
        st.tuples(st.integers(1, 100_000), st.integers(1, 10_000_000), st.sampled_from([2, 3])),
        min_size=1,
        max_size=8,
    )
)
def test_amount_is_the_decimal_product(items: list[tuple[int, int, int]]) -> None:
    prices = [str(Decimal(p).scaleb(-d)) for _, p, d in items]
    rows = [row(str(536365 + i), quantity=q, price=price)
            for i, ((q, _, _), price) in enumerate(zip(items, prices, strict=True))]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tx = read(write(Path(tmp), rows)).tables["transactions"]
    want = [float(Decimal(q) * Decimal(price)) for (q, _, _), price in zip(items, prices,
                                                                           strict=True)]
    assert tx["amount"].tolist() == want
    cents = sum(Decimal(q) * Decimal(price) for (q, _, _), price in zip(items, prices,
                                                                        strict=True))
    assert abs(Decimal(repr(float(tx["amount"].sum()))) - cents) < Decimal("0.01")


@pytest.mark.parametrize("stamp", ["12/1/2010 8:26", "12/1/10 8:26", "2010-12-01 08:26:00"])
def test_first_invoice_of_the_data_set_as_its_copies_write_it(tmp_path: Path, stamp: str) -> None:
    """The data set's first lines (invoice 536365), in the date layouts its copies use: the
    UCI four-digit year, the two-digit year of the most circulated CSV, and ISO."""
    header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    rows = "".join(
        f"536365,{code},{name},{qty},{stamp},{price},17850,United Kingdom\n"
        for code, name, qty, price in [
            ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 6, "2.55"),
            ("71053", "WHITE METAL LANTERN", 6, "3.39"),
            ("84406B", "CREAM CUPID HEARTS COAT HANGER", 8, "2.75"),
        ]
    )
    (tmp_path / "OnlineRetail.csv").write_text(header + rows)
    data = segwork.load(tmp_path)
    assert data.format == "online_retail"
    tx = data.to_pandas("transactions")
    assert set(tx["date"].astype(str)) == {"2010-12-01"} and set(tx["order_id"]) == {"536365"}
    assert tx["amount"].sum() == pytest.approx(15.30 + 20.34 + 22.00)
    rfm = segwork.rfm(data, "2010-12-31").iloc[0]
    assert (rfm["frequency"], rfm["monetary"]) == (1, pytest.approx(57.64))
