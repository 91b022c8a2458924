"""Shopify orders exports (Admin > Orders > Export: ``orders_export_1.csv``, ...) as segwork's
``customers`` and ``transactions`` tables.

An export has one row per line item; the order's own fields (Email, Financial Status, Subtotal,
Created at, Cancelled at, Billing Country, ...) are filled on its first row.  Shopify splits a
large export into several files (``orders_export_1.csv``, ``orders_export_2.csv``, ...): they are
one export and are read together, in name order (numbers compared as numbers, so ``_10`` comes
after ``_9``), an order's lines possibly running on from one file into the next.

The rules (each said in ``Imported.notes``):

- **Order**: one ``Name`` (``#1001``); its lines are the rows with that Name.  Its fields are
  those of its first row.  A later row of the same Name carrying a Subtotal is the order written
  twice (an export read twice) and is refused (rule ``duplicate_order``).
- **Customer**: the order's ``Email``, trimmed and lower-cased; ``customer_id`` is that e-mail.
- **Date**: the shop's wall-clock day of ``Created at`` (``2024-03-05 23:30:00 -0500`` is
  2024-03-05): the UTC offset is kept as written, never converted.
- **Amount**: ``Subtotal``, after discounts and before shipping and taxes.  It is allocated over
  the order's lines in proportion to ``Lineitem price x Lineitem quantity`` (equal shares when
  they are all 0), in the currency's smallest unit written in the export (cents; 1/1000 when
  Subtotals are written with three decimals) by the largest-remainder method, the leftover units
  going to the lines with the largest remainders (the earlier line on a tie): the lines of an
  order sum to its Subtotal exactly.
- **Lines**: every line item is a ``transactions`` row: ``product`` = Lineitem name,
  ``quantity`` = Lineitem quantity, ``price`` = Lineitem price, ``currency`` = the order's
  Currency.
- **Left out**, counted in orders by file (the file of the order's first line) and reason, each
  order under the first reason that applies: cancelled (``Cancelled at`` set), refunded or voided
  (``Financial Status``), payment expired (never paid), then orders without an e-mail.  Partially
  refunded orders are kept at their full Subtotal (the export's Refunded Amount includes shipping
  and taxes and is not per line); pending, authorized and partially paid orders are kept (placed
  orders).
- **customers**: one row per e-mail with a kept order: ``signup_date`` = the day of its first kept
  order, ``country`` = the Billing Country of its first kept order that has one (orders ranked by
  their wall-clock Created at, then by their place in the export).

Refused (:class:`~segwork.data.contract.DataContractError` naming file, column, rule and the first
rows): a missing or renamed column, an unparseable Created at, a non-numeric Subtotal, Lineitem
quantity or Lineitem price, a negative one, and an order whose first line lacks its Created at or
Subtotal.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch
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

__all__ = [
    "DETECT_COLUMNS",
    "FILE_PATTERN",
    "NAME",
    "REQUIRED_COLUMNS",
    "allocate",
    "detect",
    "export_files",
    "read",
]

NAME = "shopify"
#: Shopify names its order exports ``orders_export_1.csv``, ``orders_export_2.csv``, ...
FILE_PATTERN = "orders_export*.csv"
#: A file of the folder with these header fields is a Shopify orders export.
DETECT_COLUMNS = ("Name", "Email", "Financial Status", "Lineitem name", "Subtotal")
#: The columns the reader needs, as the export writes them.
REQUIRED_COLUMNS = (
    "Name",
    "Email",
    "Financial Status",
    "Subtotal",
    "Created at",
    "Cancelled at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
)
#: Used when present: the order's currency and the customer's country.
OPTIONAL_COLUMNS = ("Currency", "Billing Country")

#: ``Financial Status`` values whose orders are left out (the money went back, or never came).
LEFT_OUT_STATUSES = {
    "refunded": "refunded orders (Financial Status refunded; counted in orders)",
    "voided": "voided orders (Financial Status voided; counted in orders)",
    "expired": "orders whose payment expired (never paid; counted in orders)",
}
CANCELLED = "cancelled orders (Cancelled at set; counted in orders)"
NO_EMAIL = "orders without an e-mail (no customer; counted in orders)"

#: ``2024-03-05 23:30:00 -0500`` as Shopify writes it (also ``T``, no seconds, ``Z``, ``-05:00``)
_CREATED = re.compile(
    r"^\s*(?P<day>\d{4}-\d{2}-\d{2})[ T](?P<hm>\d{1,2}:\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"
    r"\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?\s*$"
)
_DECIMALS = re.compile(r"\.(\d+)\s*$")
#: At most this many decimals are used for the allocation unit and the line weights.
_MAX_DECIMALS = 6


def _natural_key(name: str) -> list[str | int]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name.lower())]


def export_files(folder: Path) -> list[Path]:
    """The ``orders_export*.csv`` files of ``folder`` (case-insensitive), in name order.

    Numbers in names compare as numbers: ``orders_export_2.csv`` comes before
    ``orders_export_10.csv``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and fnmatch(p.name.lower(), FILE_PATTERN)]
    return sorted(files, key=lambda p: _natural_key(p.name))


def detect(folder: Path) -> bool:
    """Whether ``folder`` holds a Shopify orders export: an ``orders_export*.csv`` file whose
    header has Name, Email, Financial Status, Lineitem name and Subtotal (headers only)."""
    return any(set(DETECT_COLUMNS) <= set(header_of(p)) for p in export_files(folder))


def allocate(totals: np.ndarray, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Split each group's integer total over its rows in proportion to ``weights``, exactly.

    Largest-remainder method in integers: each row gets ``floor(total x w / W)`` units, and the
    units left over go, one each, to the rows with the largest remainders (the earlier row on a
    tie).  A group whose weights are all 0 is split in equal shares.  The shares of a group sum to
    its total.

    Parameters
    ----------
    totals : array of int
        Per row, the total of its group (the same on every row of a group), in whole units
        (cents), >= 0.
    weights : array of int
        Per row, its weight (>= 0), e.g. price x quantity in cents.
    groups : array
        Per row, its group (an order).

    Returns
    -------
    numpy.ndarray of int64
        Per row, its share in units.

    Examples
    --------
    >>> import numpy as np
    >>> allocate(np.array([1000, 1000, 1000, 5, 5]), np.array([1, 1, 1, 0, 0]),
    ...          np.array(["a", "a", "a", "b", "b"])).tolist()
    [334, 333, 333, 3, 2]
    """
    totals = np.asarray(totals, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.int64)
    n = len(totals)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    codes, _ = pd.factorize(pd.Series(groups), sort=False)
    frame = pd.DataFrame({"g": codes, "w": weights})
    by = frame.groupby("g", sort=False)["w"]
    wsum = by.transform("sum").to_numpy(dtype=np.int64)
    count = by.transform("size").to_numpy(dtype=np.int64)
    zero = wsum == 0
    w = np.where(zero, 1, weights)
    wtot = np.where(zero, count, wsum)
    num: np.ndarray
    if int(totals.max()) * int(w.max()) >= 2**62:  # exact Python integers beyond int64
        num = totals.astype(object) * w.astype(object)
    else:
        num = totals * w
    base = num // wtot
    rem = num % wtot
    frame = pd.DataFrame(
        {"g": codes, "rem": rem, "pos": np.arange(n), "base": base.astype(np.int64)}
    )
    given = frame.groupby("g", sort=False)["base"].transform("sum").to_numpy(dtype=np.int64)
    leftover = totals - given
    ranked = frame.sort_values(["g", "rem", "pos"], ascending=[True, False, True], kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[ranked["pos"].to_numpy()] = ranked.groupby("g", sort=False).cumcount().to_numpy()
    return frame["base"].to_numpy(dtype=np.int64) + (rank < leftover).astype(np.int64)


def _decimals(text: pd.Series) -> int:
    found = text.str.extract(_DECIMALS, expand=False).str.len()
    most = found.max()
    return 0 if pd.isna(most) else min(int(most), _MAX_DECIMALS)


def _read_file(path: Path, imported: Imported, encoding: str | None) -> pd.DataFrame:
    """One export file as text, the encoding detected on the whole file when not given."""
    return read_export_csv(path, imported, encoding=encoding)


def _numbers(
    raw: pd.DataFrame, file: str, column: str, *, required: bool
) -> tuple[pd.Series, pd.Series]:
    """The column parsed as numbers (NaN where empty) and its stripped text; refuses what is not
    a finite number (``not_numeric``), a negative one (``negative_value``), and an empty value
    where ``required`` (``missing_value``)."""
    text = raw[column].str.strip()
    empty = text == ""
    if required and empty.any():
        raise export_breach(
            file,
            column,
            "missing_value",
            f"every line item of a Shopify export has a {column}; these rows have none",
            raw[empty],
        )
    value = pd.to_numeric(text.where(~empty), errors="coerce").astype("float64")
    bad = ~empty & ~np.isfinite(value)
    if bad.any():
        raise export_breach(
            file,
            column,
            "not_numeric",
            f"{column} must be a number as Shopify writes it (e.g. 19.99)",
            raw[bad],
        )
    negative = value < 0
    if negative.any():
        raise export_breach(
            file, column, "negative_value", f"{column} must be >= 0", raw[negative]
        )
    return value, text


def _created(raw: pd.DataFrame, file: str) -> tuple[pd.Series, pd.Series]:
    """``Created at`` as (wall-clock day ``YYYY-MM-DD``, wall-clock ``YYYY-MM-DD HH:MM:SS``);
    empty where empty.  A value that is not a Shopify timestamp is refused."""
    text = raw["Created at"].str.strip()
    empty = text == ""
    parts = text.str.extract(_CREATED)
    hm = parts["hm"].str.zfill(5)
    stamp = parts["day"] + " " + hm + ":" + parts["s"].fillna("00")
    parsed = pd.to_datetime(stamp, format="%Y-%m-%d %H:%M:%S", errors="coerce")
    bad = ~empty & parsed.isna()
    if bad.any():
        raise export_breach(
            file,
            "Created at",
            "unparseable_date",
            "Created at must be a Shopify timestamp such as 2024-03-05 23:30:00 -0500",
            raw[bad],
        )
    day = parts["day"].where(~empty, "")
    return day, stamp.where(~empty, "")


def _parse(raw: pd.DataFrame, file: str) -> pd.DataFrame:
    """The columns the reader uses, checked and parsed, one row per line of the file."""
    quantity, qtext = _numbers(raw, file, "Lineitem quantity", required=True)
    price, ptext = _numbers(raw, file, "Lineitem price", required=True)
    subtotal, stext = _numbers(raw, file, "Subtotal", required=False)
    name = raw["Name"].str.strip()
    if (name == "").any():
        raise export_breach(
            file,
            "Name",
            "missing_value",
            "every row of a Shopify orders export names its order (Name, e.g. #1001)",
            raw[name == ""],
        )
    day, stamp = _created(raw, file)
    optional = {
        c: (raw[c].str.strip() if c in raw.columns else pd.Series("", index=raw.index))
        for c in OPTIONAL_COLUMNS
    }
    return pd.DataFrame(
        {
            "file": file,
            "row": raw.index,
            "name": name,
            "email": raw["Email"].str.strip().str.lower(),
            "status": raw["Financial Status"].str.strip().str.lower(),
            "cancelled": raw["Cancelled at"].str.strip() != "",
            "day": day,
            "stamp": stamp,
            "subtotal": subtotal,
            "subtotal_text": stext,
            "product": raw["Lineitem name"].str.strip(),
            "quantity": quantity,
            "quantity_text": qtext,
            "price": price,
            "price_text": ptext,
            "currency": optional["Currency"],
            "country": optional["Billing Country"],
        }
    )


def _refuse_lines(
    lines: pd.DataFrame,
    raws: dict[str, pd.DataFrame],
    mask: pd.Series,
    column: str | None,
    rule: str,
    description: str,
) -> None:
    """Raise the breach for the offending ``lines`` of the first file that has some."""
    if not mask.any():
        return
    first = lines.loc[mask, "file"].iloc[0]
    rows = lines.loc[mask & (lines["file"] == first), "row"]
    raise export_breach(first, column, rule, description, raws[first].loc[rows])


def _int_column(values: pd.Series) -> pd.Series:
    """Whole numbers as int64, anything else as it is (float64)."""
    if len(values) and np.all(np.mod(values.to_numpy(), 1) == 0):
        return values.astype("int64")
    return values


def read(folder: Path, *, encoding: str | None = None) -> Imported:
    """Read a folder of Shopify orders exports into ``customers`` and ``transactions``.

    The rules are those of this module's description (one order per Name, customer = e-mail,
    wall-clock day of Created at, amount = Subtotal allocated over the lines, cancelled /
    refunded / voided orders and orders without an e-mail left out and counted).

    Parameters
    ----------
    folder : Path
        A folder holding ``orders_export*.csv`` files (one export, possibly split by Shopify).
    encoding : str, optional
        The files' text encoding; detected when not given (Shopify writes UTF-8).

    Returns
    -------
    Imported
        ``tables``: ``customers`` (customer_id = e-mail, signup_date, country) and
        ``transactions`` (one row per line item: customer_id, order_id, date, amount, product,
        quantity, price, currency), dates as ISO text; ``left_out`` counts orders by file and
        reason.

    Raises
    ------
    DataContractError
        A missing or renamed column, an unparseable Created at, a non-numeric or negative
        Subtotal / Lineitem quantity / Lineitem price, an order whose first line lacks Created at
        or Subtotal, or an order written twice: naming the file, column, rule and first rows.
    ValueError
        The folder holds no ``orders_export*.csv`` file.

    Examples
    --------
    An order of two mugs at 10.00 and a tee at 10.00, 3.00 off (Subtotal 27.00), placed late in
    the evening in New York, and a cancelled order:

    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "orders_export_1.csv").write_text(
    ...     "Name,Email,Financial Status,Currency,Subtotal,Created at,Lineitem quantity,"
    ...     "Lineitem name,Lineitem price,Billing Country,Cancelled at\\n"
    ...     "#1001, Ann@Example.com ,paid,USD,27.00,2024-03-05 23:30:00 -0500,2,Mug,10.00,US,\\n"
    ...     "#1001,,,,,,1,Tee,10.00,,\\n"
    ...     "#1002,bob@example.com,voided,USD,5.00,2024-03-06 10:00:00 -0500,1,Tee,5.00,US,"
    ...     "2024-03-06 11:00:00 -0500\\n")
    >>> imported = read(folder)
    >>> imported.tables["transactions"][["customer_id", "order_id", "date", "amount", "product"]]
           customer_id order_id        date  amount product
    0  ann@example.com    #1001  2024-03-05    18.0     Mug
    1  ann@example.com    #1001  2024-03-05     9.0     Tee
    >>> imported.tables["customers"]
           customer_id signup_date country
    0  ann@example.com  2024-03-05      US
    >>> [(x.file, x.rows, x.reason) for x in imported.left_out]
    [('orders_export_1.csv', 1, 'cancelled orders (Cancelled at set; counted in orders)')]
    """
    folder = Path(folder)
    files = export_files(folder)
    if not files:
        raise ValueError(
            f"{folder} holds no Shopify orders export: Shopify names them orders_export_1.csv, "
            "orders_export_2.csv, ... (Admin > Orders > Export)"
        )
    imported = Imported(format=NAME, tables={})
    raws: dict[str, pd.DataFrame] = {}
    parsed: list[pd.DataFrame] = []
    has = dict.fromkeys(OPTIONAL_COLUMNS, False)
    for path in files:
        raw = _read_file(path, imported, encoding)
        require_columns(raw, path.name, REQUIRED_COLUMNS, "Shopify orders")
        for c in OPTIONAL_COLUMNS:
            has[c] = has[c] or c in raw.columns
        raws[path.name] = raw
        parsed.append(_parse(raw, path.name))
    lines = pd.concat(parsed, ignore_index=True)

    first = ~lines["name"].duplicated()
    again = ~first & (lines["subtotal_text"] != "")
    _refuse_lines(
        lines,
        raws,
        again,
        "Name",
        "duplicate_order",
        "only an order's first line carries its Subtotal; these later lines of an order carry "
        "one too, so the order is written twice (the same export read twice?)",
    )
    for column, field in (("Created at", "day"), ("Subtotal", "subtotal_text")):
        _refuse_lines(
            lines,
            raws,
            first & (lines[field] == ""),
            column,
            "missing_value",
            f"an order's first line carries the order's fields; these first lines of their "
            f"order (Name) have no {column}",
        )

    # order-level fields from each order's first line, spread over its lines
    orders = lines.loc[first].set_index("name")
    per_line = orders.reindex(lines["name"])
    reason = pd.Series("", index=orders.index, dtype=object)
    no_email = orders["email"] == ""
    for status, text in LEFT_OUT_STATUSES.items():
        reason = reason.mask(orders["status"] == status, text)
    reason = reason.mask(orders["cancelled"], CANCELLED)
    reason = reason.mask((reason == "") & no_email, NO_EMAIL)
    for text in (CANCELLED, *LEFT_OUT_STATUSES.values(), NO_EMAIL):
        by_file = orders.loc[reason == text, "file"].value_counts(sort=False)
        for file in raws:
            imported.leave_out(file, "transactions", text, int(by_file.get(file, 0)))

    kept_orders = reason.index[reason == ""]
    keep = lines["name"].isin(kept_orders).to_numpy()
    kept = lines.loc[keep].reset_index(drop=True)
    order = per_line.loc[keep].reset_index(drop=True)

    unit = max(2, _decimals(orders["subtotal_text"]))
    totals = np.round(order["subtotal"].to_numpy() * 10**unit).astype(np.int64)
    scale = _decimals(kept["price_text"]) + _decimals(kept["quantity_text"])
    weights = np.round(kept["price"].to_numpy() * kept["quantity"].to_numpy() * 10**scale)
    shares = allocate(totals, weights.astype(np.int64), kept["name"].to_numpy())

    transactions = pd.DataFrame(
        {
            "customer_id": order["email"],
            "order_id": kept["name"],
            "date": order["day"],
            "amount": shares / 10**unit,
            "product": kept["product"].replace("", None),
            "quantity": _int_column(kept["quantity"]),
            "price": kept["price"],
        }
    )
    if has["Currency"]:
        transactions["currency"] = order["currency"].replace("", None)

    firsts = orders.loc[kept_orders].assign(pos=np.arange(len(kept_orders)))
    firsts = firsts.sort_values(["stamp", "pos"], kind="stable")
    customers = (
        firsts.groupby("email", sort=True)
        .agg(signup_date=("day", "min"))
        .rename_axis("customer_id")
        .reset_index()
    )
    if has["Billing Country"]:
        with_country = firsts[firsts["country"] != ""].drop_duplicates("email")
        country = with_country.set_index("email")["country"]
        mapped = customers["customer_id"].map(country)
        customers["country"] = mapped.astype(object).where(mapped.notna(), None)
    imported.tables = {"customers": customers, "transactions": transactions}
    imported.notes.extend(_notes(has, unit))
    return imported


def _notes(has: dict[str, bool], unit: int) -> list[str]:
    smallest = "cents" if unit == 2 else f"units of 1/{10**unit:,}"
    notes = [
        "Shopify: one order per Name, its line items are the transactions rows (product = "
        "Lineitem name, quantity, price); customer_id = the order's e-mail, trimmed and "
        "lower-cased",
        "Shopify: date = the shop's wall-clock day of Created at (its UTC offset not applied)",
        "Shopify: amount = Subtotal (after discounts, before shipping and taxes), allocated over "
        f"the order's lines in proportion to price x quantity, in {smallest} by the "
        "largest-remainder method (the lines sum to the Subtotal exactly)",
        "Shopify: partially refunded orders are kept at their full Subtotal; cancelled, refunded, "
        "voided and expired orders and orders without an e-mail are left out (counted in orders)",
        "Shopify: customers.signup_date = the day of the customer's first kept order; country = "
        "the Billing Country of its first kept order that has one",
    ]
    missing = [c for c in OPTIONAL_COLUMNS if not has[c]]
    if missing:
        notes.append(f"Shopify: no {' / '.join(missing)} column in the export; not imported")
    return notes

