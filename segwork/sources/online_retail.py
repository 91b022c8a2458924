"""The UCI Online Retail data sets (order lines of a UK online retailer) as segwork's
``customers`` and ``transactions`` tables.

Two layouts are read, as the UCI Machine Learning Repository publishes them (saved as CSV):

- Online Retail: ``InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
  CustomerID, Country``;
- Online Retail II: ``Invoice, StockCode, Description, Quantity, InvoiceDate, Price,
  Customer ID, Country``.

Every ``.csv`` file of the folder whose header has one layout's columns is read, in name order
(the two years of Online Retail II saved as two files, say); a folder holding files of both
layouts is refused (the second year of II *is* the first data set: keep one).  Other columns of
those files are not used.  The files are often latin-1 / cp1252 text: the encoding is detected
(on the whole file) unless given.

The rules (each said in ``Imported.notes``):

- **Order**: the invoice; its rows are its lines.  ``amount`` of a line = Quantity x UnitPrice
  (the exact decimal product, as a float); ``product`` = Description (StockCode when empty),
  ``quantity`` and ``price`` kept, ``currency`` = GBP (the data set's prices are in sterling).
- **Date**: the invoice's day.  ``InvoiceDate`` is either ISO (``2010-12-01 08:26:00``) or the
  US layout the UCI files use (``12/1/2010 8:26``, month/day/year; ``12/1/10 8:26`` with a
  two-digit year, 20yy, as the most circulated copy writes it).  The layout of a file is
  told from its first value, and every value must be in it: a value in the other layout or not a
  date is refused (rule ``unparseable_date``), never guessed row by row.
- **Customer**: CustomerID as text (``17850``; the ``.0`` a spreadsheet adds, ``17850.0``, is
  removed).  ``customers``: one row per customer with a kept line, ``signup_date`` = the day of
  its first kept invoice, ``country`` = the Country of its first kept invoice (by InvoiceDate,
  then place in the files).
- **Left out**, counted in lines by file and reason, each line under the first reason that
  applies: an invoice already read from an earlier file (the same invoice saved twice); lines
  without a CustomerID; cancellations (invoice starting with ``C``); other lines with a
  quantity <= 0 (returns); lines with a price <= 0 (adjustments such as "Adjust bad debt",
  free samples).

Refused (:class:`~segwork.data.contract.DataContractError` naming file, column, rule and the
first rows): a missing or renamed column, an empty invoice, a non-numeric or empty Quantity or
price, an unparseable InvoiceDate.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from segwork.sources.base import (
    Imported,
    export_breach,
    header_of,
    read_export_csv,
    require_columns,
)

__all__ = ["CURRENCY", "LAYOUTS", "NAME", "detect", "layout_of", "read"]

NAME = "online_retail"
#: The data set's prices are in pounds sterling.
CURRENCY = "GBP"

#: The two layouts: their name -> the header in the order (invoice, stock code, description,
#: quantity, date, price, customer, country).
LAYOUTS: dict[str, tuple[str, ...]] = {
    "Online Retail": (
        "InvoiceNo",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "UnitPrice",
        "CustomerID",
        "Country",
    ),
    "Online Retail II": (
        "Invoice",
        "StockCode",
        "Description",
        "Quantity",
        "InvoiceDate",
        "Price",
        "Customer ID",
        "Country",
    ),
}
_FIELDS = ("invoice", "stock", "description", "quantity", "date", "price", "customer", "country")

#: InvoiceDate layouts: ISO ``2010-12-01 08:26:00`` and the UCI files' US ``12/1/2010 8:26``.
_ISO = re.compile(
    r"^\s*(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?\s*$"
)
_US = re.compile(
    r"^\s*(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
    r"(?: (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?\s*$"
)
#: The copy of the data set that circulates most (an Excel export) writes two-digit years,
#: ``12/1/10 8:26``: the data set's invoices are of 2009-2011, so ``yy`` is 20yy.
_US_SHORT = re.compile(
    r"^\s*(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{2})"
    r"(?: (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?\s*$"
)
_DATE_LAYOUTS = {
    "ISO (2010-12-01 08:26:00)": _ISO,
    "US month/day/year (12/1/2010 8:26)": _US,
    "US month/day/two-digit year (12/1/10 8:26)": _US_SHORT,
}

ALREADY_READ = "invoices already read from an earlier file (the same invoice saved twice; lines)"
NO_CUSTOMER = "lines without a CustomerID (no customer)"
CANCELLATION = "cancellations (invoice starting with C; lines)"
RETURN = "returns and other lines with a quantity <= 0"
NO_PRICE = "lines with a price <= 0 (adjustments such as bad debt, free items)"
REASONS = (ALREADY_READ, NO_CUSTOMER, CANCELLATION, RETURN, NO_PRICE)


def _natural_key(name: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name.lower())]


def _csv_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(".csv")]
    return sorted(files, key=lambda p: _natural_key(p.name))


def layout_of(header: list[str]) -> str | None:
    """The layout (a key of :data:`LAYOUTS`) whose columns the header has; None for neither.

    >>> layout_of(["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price",
    ...            "Customer ID", "Country"])
    'Online Retail II'
    """
    present = set(header)
    return next((name for name, cols in LAYOUTS.items() if set(cols) <= present), None)


def detect(folder: Path) -> bool:
    """Whether a ``.csv`` file of ``folder`` has the header of Online Retail or Online Retail II
    (headers only)."""
    return any(layout_of(header_of(p)) for p in _csv_files(folder))


def _read_file(path: Path, imported: Imported, encoding: str | None) -> pd.DataFrame:
    """One file as text (its encoding detected on the whole file when not given: the UCI files
    are large, and their first non-ASCII character may come late)."""
    return read_export_csv(path, imported, encoding=encoding)


def _numbers(raw: pd.DataFrame, file: str, column: str) -> pd.Series:
    text = raw[column].str.strip()
    empty = text == ""
    if empty.any():
        raise export_breach(
            file,
            column,
            "missing_value",
            f"every line of the Online Retail data has a {column}; these rows have none",
            raw[empty],
        )
    value = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = ~np.isfinite(value)
    if bad.any():
        raise export_breach(
            file, column, "not_numeric", f"{column} must be a number (e.g. 2.55)", raw[bad]
        )
    return value


_SHORT_YEARS = "US month/day/two-digit year (12/1/10 8:26)"


def _invoice_times(raw: pd.DataFrame, file: str, column: str) -> pd.Series:
    """InvoiceDate as timestamps, in the one layout (ISO or US) of the file's first value."""
    text = raw[column]
    empty = text.str.strip() == ""
    if empty.any():
        raise export_breach(
            file,
            column,
            "missing_value",
            f"every line of the Online Retail data has an {column}; these rows have none",
            raw[empty],
        )
    if not len(text):
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    # an invoice's lines share their date: each distinct value is parsed once
    codes, uniques = pd.factorize(text, sort=False)
    values = pd.Series(uniques, dtype=object)
    first = text.iloc[0]
    layout = next((name for name, rx in _DATE_LAYOUTS.items() if rx.match(first)), None)
    if layout is None:
        raise export_breach(
            file,
            column,
            "unparseable_date",
            f"{column} must be ISO (2010-12-01 08:26:00) or month/day/year as the UCI files "
            "write it (12/1/2010 8:26, or 12/1/10 8:26); the first value is neither",
            raw.head(1),
        )
    parts = values.str.extract(_DATE_LAYOUTS[layout])
    parsed = pd.to_datetime(
        pd.DataFrame(
            {
                "year": pd.to_numeric(parts["y"]) + (2000 if layout == _SHORT_YEARS else 0),
                "month": pd.to_numeric(parts["m"]),
                "day": pd.to_numeric(parts["d"]),
                "hour": pd.to_numeric(parts["H"]).fillna(0),
                "minute": pd.to_numeric(parts["M"]).fillna(0),
                "second": pd.to_numeric(parts["S"]).fillna(0),
            }
        ),
        errors="coerce",
    )
    stamp = pd.Series(parsed.to_numpy()[codes], index=raw.index)
    bad = stamp.isna()
    if bad.any():
        raise export_breach(
            file,
            column,
            "unparseable_date",
            f"this file writes {column} as {layout}; these values are not dates in that layout "
            "(a file has one date layout: values are not guessed row by row)",
            raw[bad],
        )
    return stamp


def _customer_ids(text: pd.Series) -> pd.Series:
    """CustomerID as text: stripped, ``17850.0`` -> ``17850``; empty (or ``nan``) -> ""."""
    codes, uniques = pd.factorize(text, sort=False)
    ids = pd.Series(uniques, dtype=object).str.strip()
    ids = ids.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    ids = ids.mask(ids.str.lower().isin(["nan", "none", "null"]), "")
    return pd.Series(ids.to_numpy()[codes], index=text.index, dtype=object)


def read(folder: Path, *, encoding: str | None = None) -> Imported:
    """Read the UCI Online Retail (or Online Retail II) CSV files of ``folder`` into
    ``customers`` and ``transactions``.

    The rules are those of this module's description (invoice = order, amount = Quantity x
    UnitPrice, cancellations, returns, lines without a customer and lines priced <= 0 left out
    and counted in lines).

    Parameters
    ----------
    folder : Path
        A folder holding the data set as one or several ``.csv`` files of the same layout.
    encoding : str, optional
        The files' text encoding (the UCI data is often saved as latin-1 / cp1252); detected
        when not given.

    Returns
    -------
    Imported
        ``tables``: ``customers`` (customer_id, signup_date, country) and ``transactions`` (one
        row per kept line: customer_id, order_id, date, amount, product, quantity, price,
        currency), dates as ISO text; ``left_out`` counts lines by file and reason.

    Raises
    ------
    DataContractError
        A missing or renamed column, an empty invoice, an empty or non-numeric Quantity or
        price, or an InvoiceDate that is not a date in the file's layout: naming the file,
        column, rule and first rows.
    ValueError
        No ``.csv`` file with an Online Retail header, or files of both layouts.

    Examples
    --------
    An invoice of two lines, its cancellation, and a line without a customer, as the UCI file
    writes them (in cp1252 text):

    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "Online Retail.csv").write_bytes(
    ...     "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\\n"
    ...     "536365,85123A,CAFÉ HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\\n"
    ...     "536365,71053,,3,12/1/2010 8:26,3.39,17850.0,United Kingdom\\n"
    ...     "C536379,71053,,-3,12/1/2010 9:41,3.39,17850.0,United Kingdom\\n"
    ...     "536414,22139,,56,12/1/2010 11:52,0,,United Kingdom\\n".encode("cp1252"))
    >>> imported = read(folder)
    >>> imported.tables["transactions"][["customer_id", "order_id", "date", "amount", "product"]]
      customer_id order_id        date  amount                    product
    0       17850   536365  2010-12-01   15.30  CAFÉ HEART T-LIGHT HOLDER
    1       17850   536365  2010-12-01   10.17                      71053
    >>> imported.tables["customers"]
      customer_id signup_date         country
    0       17850  2010-12-01  United Kingdom
    >>> [(x.rows, x.reason) for x in imported.left_out]
    [(1, 'lines without a CustomerID (no customer)'), (1, 'cancellations (invoice starting with C; lines)')]
    """  # noqa: E501
    folder = Path(folder)
    candidates = _csv_files(folder)
    layouts = {p: layout_of(header_of(p, encoding=encoding)) for p in candidates}
    files = [p for p in candidates if layouts[p]]
    imported = Imported(format=NAME, tables={})
    if not files:
        if not candidates:
            raise ValueError(
                f"{folder} holds no .csv file; the Online Retail data is read from CSV (save "
                "the UCI workbook's sheets as CSV)"
            )
        # the closest file: its missing columns named by require_columns
        path = candidates[0]
        header = set(header_of(path, encoding=encoding))
        name = max(LAYOUTS, key=lambda k: len(header & set(LAYOUTS[k])))
        raw = _read_file(path, imported, encoding)
        require_columns(raw, path.name, LAYOUTS[name], name)
        raise ValueError(f"{folder} holds no Online Retail file")  # pragma: no cover
    found = {layouts[p] for p in files}
    if len(found) > 1:
        raise ValueError(
            f"{folder} holds files of both layouts ({', '.join(sorted(str(f) for f in found))}): "
            "the second year of Online Retail II is the Online Retail data set; keep one of them"
        )
    layout = str(found.pop())
    columns = dict(zip(_FIELDS, LAYOUTS[layout], strict=True))

    seen: set[str] = set()
    kept_parts: list[pd.DataFrame] = []
    for index, path in enumerate(files):
        raw = _read_file(path, imported, encoding)
        require_columns(raw, path.name, LAYOUTS[layout], layout)
        file = path.name
        invoice = raw[columns["invoice"]].str.strip()
        if (invoice == "").any():
            raise export_breach(
                file,
                columns["invoice"],
                "missing_value",
                "every line of the Online Retail data names its invoice",
                raw[invoice == ""],
            )
        quantity = _numbers(raw, file, columns["quantity"])
        price = _numbers(raw, file, columns["price"])
        stamp = _invoice_times(raw, file, columns["date"])
        customer = _customer_ids(raw[columns["customer"]])

        reasons = pd.Series("", index=raw.index, dtype=object)
        tests = (
            (ALREADY_READ, invoice.isin(seen)),
            (NO_CUSTOMER, customer == ""),
            (CANCELLATION, invoice.str.upper().str.startswith("C")),
            (RETURN, quantity <= 0),
            (NO_PRICE, price <= 0),
        )
        for text, hit in tests:
            reasons = reasons.mask((reasons == "") & hit, text)
        for text in REASONS:
            imported.leave_out(file, "transactions", text, int((reasons == text).sum()))
        seen.update(invoice.unique())

        keep = reasons == ""
        description = raw[columns["description"]].str.strip()
        stock = raw[columns["stock"]].str.strip()
        product = description.mask(description == "", stock)
        kept_parts.append(
            pd.DataFrame(
                {
                    "customer_id": customer[keep],
                    "order_id": invoice[keep],
                    "stamp": stamp[keep],
                    # the decimal product: float error removed by rounding to 1e-6
                    "amount": np.round(quantity[keep] * price[keep], 6),
                    "product": product[keep].replace("", None),
                    "quantity": quantity[keep],
                    "price": price[keep],
                    "country": raw.loc[keep, columns["country"]].str.strip(),
                    "pos": index,
                }
            )
        )
    lines = pd.concat(kept_parts, ignore_index=True)
    lines["date"] = lines["stamp"].dt.strftime("%Y-%m-%d")
    quantity_col = lines["quantity"]
    if len(quantity_col) and np.all(np.mod(quantity_col.to_numpy(), 1) == 0):
        quantity_col = quantity_col.astype("int64")
    transactions = pd.DataFrame(
        {
            "customer_id": lines["customer_id"],
            "order_id": lines["order_id"],
            "date": lines["date"],
            "amount": lines["amount"],
            "product": lines["product"],
            "quantity": quantity_col,
            "price": lines["price"],
            "currency": CURRENCY,
        }
    )
    ranked = lines.assign(row=np.arange(len(lines))).sort_values(["stamp", "row"], kind="stable")
    firsts = ranked.drop_duplicates("customer_id")
    customers = (
        firsts[["customer_id", "date", "country"]]
        .rename(columns={"date": "signup_date"})
        .assign(country=lambda f: f["country"].replace("", None))
        .sort_values("customer_id", kind="stable")
        .reset_index(drop=True)
    )
    imported.tables = {"customers": customers, "transactions": transactions}
    other = [p.name for p in candidates if not layouts[p]]
    imported.notes.extend(
        [
            f"{layout}: one order per invoice, its lines the transactions rows; amount = "
            "Quantity x price, product = Description (StockCode when empty), currency GBP",
            f"{layout}: customers.signup_date = the day of the customer's first kept invoice, "
            "country = that invoice's Country; a trailing .0 of CustomerID is removed",
            f"{layout}: left out and counted in lines: lines without a CustomerID, "
            "cancellations (C invoices), other lines with quantity <= 0 (returns), lines "
            "priced <= 0 (adjustments), invoices already read from an earlier file",
        ]
    )
    if other:
        imported.notes.append(f"{layout}: not read (another header): {', '.join(other)}")
    return imported
