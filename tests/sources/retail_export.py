"""The UCI Online Retail data set, written from the synthetic SaaS sample, with its truth.

:func:`write_retail_export` turns the ``transactions`` of :func:`segwork.make_saas_data` into
order lines as the UCI Online Retail (``InvoiceNo, ..., UnitPrice, CustomerID``) or Online
Retail II (``Invoice, ..., Price, Customer ID``) CSV writes them, and returns the canonical
tables segwork should read from them: loading those tables directly and loading the folder must
give the same metrics.

Each sample order is an invoice (``489001``, ...) of customer ``12345 + n`` (written ``12346.0``
in Online Retail II, as a spreadsheet leaves it, and in some rows of Online Retail), split into
1-3 lines whose Quantity x price sum to the order's amount in cents, some lines with a
three-decimal price, a Description with accents (``CAFÉ CRÈME MUG``), trailing spaces or empty
(the product is then the StockCode).  InvoiceDate is ISO or the UCI files' US
``12/1/2010 8:26``; the file is UTF-8 or cp1252.  A customer's later invoices may name another
Country (the canonical country is its first invoice's).

Left out (counted in :attr:`RetailExport.left_out`, in lines), each line with one defect:
cancellations (``C`` invoices, negative quantities; one of a customer with no other invoice),
return lines (negative quantity) and zero-priced lines inside kept invoices, an ``A`` "Adjust bad
debt" invoice with a negative price, invoices without a CustomerID and, when the data is split
into two files, invoices written into both (read from the first).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from segwork import make_saas_data
from segwork.sources.online_retail import (
    ALREADY_READ,
    CANCELLATION,
    LAYOUTS,
    NO_CUSTOMER,
    NO_PRICE,
    RETURN,
)
from tests.sources.shopify_export import cents, split_cents

DESCRIPTIONS = (
    "WHITE HANGING HEART T-LIGHT HOLDER",
    "CAFÉ CRÈME MUG",
    "PIÑATA BUNNY",
    "ÅGREN GLASS VASE",
    "CRÈME BRÛLÉE SET",
    "NOËL GARLAND",
    'RECORD FRAME 7" SINGLE SIZE',
    "PAPER CHAIN KIT 50'S CHRISTMAS",
    "WHITE METAL LANTERN ",
    "SET/6 RED SPOTTY PAPER CUPS",
)
ACCENTED = frozenset(d for d in DESCRIPTIONS if not d.isascii())
COUNTRY_NAMES = {
    "US": "USA", "GB": "United Kingdom", "DE": "Germany", "FR": "France", "NL": "Netherlands",
    "ES": "Spain", "CA": "Canada", "AU": "Australia", "BR": "Brazil", "IN": "India",
    "JP": "Japan",
}  # fmt: skip
GHOST_CUSTOMER = 99999


@dataclass
class Line:
    """One written line and whether segwork keeps it."""

    invoice: str
    stock: str
    description: str
    quantity: int
    stamp: dt.datetime
    price: str  # as written
    customer: str  # canonical id, "" for none
    country: str
    reason: str | None = None
    file: int = 0


@dataclass
class RetailExport:
    """The folder, its files, the canonical tables and the planted left-out line counts."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    left_out: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)


def customer_id(n: int) -> str:
    """The CustomerID of sample customer ``n``."""
    return str(12345 + n)


def _written_date(stamp: dt.datetime, dates: str) -> str:
    if dates == "us":
        return f"{stamp.month}/{stamp.day}/{stamp.year} {stamp.hour}:{stamp.minute:02d}"
    return f"{stamp:%Y-%m-%d %H:%M:%S}"


def _stock(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(20000, 90000))}{'ABCDE'[int(rng.integers(0, 5))]}"


def write_retail_export(
    folder: Path,
    n_customers: int = 40,
    *,
    random_state: int = 0,
    layout: str = "Online Retail II",
    dates: str = "iso",
    encoding: str = "utf-8",
    split: bool = False,
) -> RetailExport:
    """Write the data set into ``folder`` (one file, or two years with overlapping invoices when
    ``split``); the truth."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(random_state)
    data = make_saas_data(n_customers, random_state=random_state)
    tx = data.to_pandas("transactions").sort_values("order_id", kind="stable")
    countries = data.to_pandas("customers").set_index("customer_id")["country"].to_dict()

    lines: list[Line] = []
    seen: set[int] = set()
    for t in tx.itertuples(index=False):
        n = int(t.customer_id)
        country = COUNTRY_NAMES[str(countries[n])]
        if n in seen and rng.random() < 0.15:
            country = "EIRE"  # a later invoice elsewhere: the customer's country stays the first
        seen.add(n)
        invoice = str(489000 + int(t.order_id))
        day = pd.Timestamp(t.date).date()
        stamp = dt.datetime.combine(day, dt.time(int(rng.integers(7, 19)), int(rng.integers(60))))
        parts = split_cents(cents(t.amount), int(rng.choice([1, 2, 3], p=[0.4, 0.4, 0.2])), rng)
        for q, p in parts:
            description = DESCRIPTIONS[int(rng.integers(0, len(DESCRIPTIONS)))]
            if rng.random() < 0.06:
                description = ""
            lines.append(
                Line(invoice, _stock(rng), description, q, stamp, f"{p / 100:.2f}",
                     customer_id(n), country)
            )
        u = rng.random()
        extra: tuple[int, str, str | None] | None = None
        if u < 0.08:
            extra = (int(rng.integers(1, 50)), f"0.{int(rng.integers(1, 1000)):03d}", None)
        elif u < 0.12:
            extra = (-int(rng.integers(1, 5)), "2.10", RETURN)
        elif u < 0.16:
            extra = (int(rng.integers(1, 20)), "0.00", NO_PRICE)
        if extra is not None:
            q, price, reason = extra
            lines.append(
                Line(invoice, _stock(rng), DESCRIPTIONS[1], q, stamp, price, customer_id(n),
                     country, reason)
            )

    kept_invoices = sorted({x.invoice for x in lines})
    start = min(x.stamp for x in lines)
    span = (max(x.stamp for x in lines) - start).days

    def some_stamp() -> dt.datetime:
        return start + dt.timedelta(days=int(rng.integers(0, span + 1)), hours=1)

    for i in range(3):  # cancellations of kept invoices
        original = [x for x in lines if x.invoice == kept_invoices[5 + 7 * i] and not x.reason]
        when = original[0].stamp + dt.timedelta(days=3)
        for x in original:
            lines.append(
                Line("C" + x.invoice, x.stock, x.description, -x.quantity, when, x.price,
                     x.customer, x.country, CANCELLATION)
            )
    when = some_stamp()
    lines.append(
        Line("C581490", "22178", "VICTORIAN GLASS HANGING T-LIGHT", -12, when, "1.95",
             customer_id(GHOST_CUSTOMER), "United Kingdom", CANCELLATION)
    )
    when = some_stamp()
    lines.append(
        Line("A563185", "B", "Adjust bad debt", 1, when, "-11062.06", customer_id(1),
             "United Kingdom", NO_PRICE)
    )
    for k in range(3):  # invoices without a customer
        when = some_stamp()
        for _ in range(k + 1):
            lines.append(
                Line(str(590000 + k), _stock(rng), DESCRIPTIONS[0], int(rng.integers(1, 10)),
                     when, "2.55", "", "United Kingdom", NO_CUSTOMER)
            )
    lines.sort(key=lambda x: (x.stamp, x.invoice.lstrip("CA")))

    name = "online_retail_II" if layout == "Online Retail II" else "Online Retail"
    written: list[list[Line]]
    if split:
        invoices = list(dict.fromkeys(x.invoice for x in lines))
        cut = len(invoices) // 2
        first = set(invoices[:cut])
        again = set(invoices[cut - 2 : cut])  # the last two invoices of year 1 also in year 2
        one = [x for x in lines if x.invoice in first]
        two = [
            Line(**{**x.__dict__, "reason": ALREADY_READ, "file": 1})
            for x in lines
            if x.invoice in again
        ] + [Line(**{**x.__dict__, "file": 1}) for x in lines if x.invoice not in first]
        written = [one, two]
        files = [f"{name} Year 1.csv", f"{name} Year 2.csv"]
    else:
        written = [lines]
        files = [f"{name}.csv"]
    header = list(LAYOUTS[layout])
    for file, part in zip(files, written, strict=True):
        with (folder / file).open("w", encoding=encoding, newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            for x in part:
                spreadsheet = layout == "Online Retail II" or rng.random() < 0.2
                cid = f"{x.customer}.0" if x.customer and spreadsheet else x.customer
                writer.writerow(
                    [x.invoice, x.stock, x.description, x.quantity,
                     _written_date(x.stamp, dates), x.price, cid, x.country]
                )  # fmt: skip
    every = [x for part in written for x in part]
    left_out: dict[str, int] = {}
    for x in every:
        if x.reason:
            left_out[x.reason] = left_out.get(x.reason, 0) + 1

    kept = [x for x in every if x.reason is None]
    transactions = pd.DataFrame(
        {
            "customer_id": [x.customer for x in kept],
            "order_id": [x.invoice for x in kept],
            "date": [f"{x.stamp:%Y-%m-%d}" for x in kept],
            "amount": [float(Decimal(x.quantity) * Decimal(x.price)) for x in kept],
            "product": [x.description.strip() or x.stock for x in kept],
            "quantity": [x.quantity for x in kept],
            "price": [float(x.price) for x in kept],
            "currency": "GBP",
        }
    )
    firsts: dict[str, Line] = {}
    for x in sorted(kept, key=lambda x: x.stamp):  # stable: the files' order on a tie
        firsts.setdefault(x.customer, x)
    ids = sorted(firsts)
    customers = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": [f"{firsts[c].stamp:%Y-%m-%d}" for c in ids],
            "country": [firsts[c].country for c in ids],
        }
    )
    return RetailExport(
        folder=folder,
        tables={"customers": customers, "transactions": transactions},
        left_out=left_out,
        files=files,
        lines=every,
    )
