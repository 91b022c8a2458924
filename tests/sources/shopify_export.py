"""A Shopify orders export written from the synthetic SaaS sample, with its truth.

:func:`write_shopify_export` turns the ``transactions`` of :func:`segwork.make_saas_data` into the
files Shopify writes (Admin > Orders > Export, split into ``orders_export_1.csv`` and
``orders_export_2.csv``) and returns the canonical tables segwork should read from them: loading
those tables directly and loading the folder must give the same metrics.

Each sample order (its amount rounded to cents is the order's Subtotal) becomes one Shopify order
``#1001``, ... of customer ``c<n>@example.com``.  What the export carries:

- multi-line orders (1-3 line items, some with a free 0.00 line), the order's fields on its first
  line only (Email and Created at repeated on later lines for some orders, as some exports do),
  and an order running from ``orders_export_1.csv`` on into ``orders_export_2.csv``;
- discounts (Subtotal < the sum of price x quantity, with a Discount Code), shipping and taxes
  (Total > Subtotal);
- time-zone offsets, some orders late in the evening west of UTC or just after midnight east of
  it (their UTC day is not their wall-clock day, which is the canonical date);
- e-mails written with capitals and spaces; an empty Billing Country on some first orders (the
  customer's country comes from its next order);
- paid, partially refunded (kept at their Subtotal), pending and authorized orders;
- left out (not in the canonical tables; counted in :attr:`ShopifyExport.left_out`): cancelled
  orders (one before its customer's first kept order, with another billing country), refunded
  and voided orders (one of a customer with no other order), orders without an e-mail.

The canonical line amounts are the Subtotal allocated over the lines in proportion to price x
quantity, in cents by the largest-remainder method, computed here with exact fractions
(:func:`allocate_cents`), independently of the reader.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from segwork import make_saas_data
from segwork.sources.shopify import CANCELLED, LEFT_OUT_STATUSES, NO_EMAIL

REFUNDED = LEFT_OUT_STATUSES["refunded"]
VOIDED = LEFT_OUT_STATUSES["voided"]
GHOST = "ghost@example.com"

#: The columns of a Shopify orders export, in its order.
HEADER = [
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
    "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street",
    "Billing Address1", "Billing Address2", "Billing Company", "Billing City", "Billing Zip",
    "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City",
    "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone", "Notes",
    "Note Attributes", "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount",
    "Vendor", "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags",
    "Risk Level", "Source", "Lineitem discount", "Tax 1 Name", "Tax 1 Value", "Phone",
    "Receipt Number",
]  # fmt: skip
EXTRA_ITEMS = ("Sticker pack", "Gift wrap", "Café mug", "Extra seat", "Tote bag")


@dataclass
class Order:
    """One Shopify order as written, and whether segwork keeps it."""

    email: str  # as written
    day: dt.date
    time: str
    offset: str
    subtotal: int  # cents
    lines: list[tuple[str, int, int]]  # (name, quantity, price in cents)
    status: str = "paid"
    cancelled: bool = False
    country: str = ""
    reason: str | None = None  # None: kept
    discount: int = 0
    repeat: bool = False  # Email and Created at repeated on later lines
    name: str = ""

    @property
    def customer(self) -> str:
        return self.email.strip().lower()


@dataclass
class ShopifyExport:
    """The export folder, its files, the canonical tables and the planted left-out counts."""

    folder: Path
    tables: dict[str, pd.DataFrame]
    left_out: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)


def email(n: int) -> str:
    """The e-mail of sample customer ``n``."""
    return f"c{n}@example.com"


def cents(amount: float) -> int:
    return round(float(amount) * 100)


def allocate_cents(total: int, weights: list[int]) -> list[int]:
    """The test's own largest-remainder split: exact fractions, ties to the earlier line, equal
    shares when every weight is 0."""
    if not weights:
        return []
    if sum(weights) == 0:
        weights = [1] * len(weights)
    whole = sum(weights)
    exact = [Fraction(total * w, whole) for w in weights]
    base = [math.floor(e) for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[: total - sum(base)]:
        base[i] += 1
    return base


def split_cents(total: int, n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """``n`` (quantity, price in cents) lines, prices > 0, whose price x quantity sum to
    ``total`` exactly (fewer lines when ``total`` is too small)."""
    lines: list[tuple[int, int]] = []
    left = total
    for i in range(n - 1):
        room = left - (n - i - 1)
        q = int(rng.integers(1, 4))
        cap = room // (2 * q)
        if cap < 1:
            break
        p = int(rng.integers(1, cap + 1))
        lines.append((q, p))
        left -= q * p
    lines.append((1, left))
    return lines


def _when(rng: np.random.Generator) -> tuple[str, str]:
    """A wall-clock time and offset; some where the UTC day differs from the wall-clock day."""
    u = rng.random()
    if u < 0.15:
        return "23:30:00", "-0500"  # UTC: the next day
    if u < 0.25:
        return "00:30:00", "+0900"  # UTC: the day before
    hour = int(rng.integers(8, 21))
    minute = int(rng.integers(0, 60))
    offset = ("-0400", "+0100", "+0000")[int(rng.integers(0, 3))]
    return f"{hour:02d}:{minute:02d}:{int(rng.integers(0, 60)):02d}", offset


def _written_email(n: int, rng: np.random.Generator) -> str:
    u = rng.random()
    if u < 0.1:
        return f"  C{n}@Example.COM "
    if u < 0.2:
        return f"C{n}@EXAMPLE.com"
    return email(n)


def _order(
    customer: str,
    day: dt.date,
    subtotal: int,
    product: str,
    rng: np.random.Generator,
    country: str,
) -> Order:
    n_lines = int(rng.choice([1, 2, 3], p=[0.45, 0.35, 0.2]))
    discount = 0
    if rng.random() < 0.3:
        discount = max(1, round(subtotal * rng.uniform(0.05, 0.3)))
    split = split_cents(subtotal + discount, n_lines, rng)
    names = [product, *(EXTRA_ITEMS[int(rng.integers(0, len(EXTRA_ITEMS)))] for _ in split)]
    lines = [(names[i], q, p) for i, (q, p) in enumerate(split)]
    if rng.random() < 0.07:
        lines.append(("Free sample", 1, 0))
    time, offset = _when(rng)
    return Order(
        email=customer,
        day=day,
        time=time,
        offset=offset,
        subtotal=subtotal,
        lines=lines,
        country=country,
        discount=discount,
        repeat=bool(rng.random() < 0.5),
    )


def _rows(order: Order, rng: np.random.Generator) -> list[dict[str, str]]:
    shipping = int(rng.integers(0, 1500))
    taxes = round(order.subtotal * 0.08)
    created = f"{order.day:%Y-%m-%d} {order.time} {order.offset}"
    refunded = ""
    if order.status == "partially_refunded":
        refunded = f"{max(1, order.subtotal // 4) / 100:.2f}"
    elif order.status in ("refunded",):
        refunded = f"{(order.subtotal + shipping + taxes) / 100:.2f}"
    rows = []
    for i, (item, q, p) in enumerate(order.lines):
        row = dict.fromkeys(HEADER, "")
        row.update(
            {
                "Name": order.name,
                "Lineitem quantity": str(q),
                "Lineitem name": item,
                "Lineitem price": f"{p / 100:.2f}",
                "Lineitem compare at price": "",
                "Lineitem sku": f"SKU-{sum(map(ord, item)) % 1000:03d}",
                "Lineitem requires shipping": "true",
                "Lineitem taxable": "true",
                "Lineitem fulfillment status": "fulfilled",
                "Vendor": "Segwork Shop",
                "Lineitem discount": "0.00",
            }
        )
        if i == 0 or order.repeat:
            row["Email"] = order.email
            row["Created at"] = created
        if i == 0:
            row.update(
                {
                    "Financial Status": order.status,
                    "Paid at": created if order.status != "pending" else "",
                    "Fulfillment Status": "fulfilled",
                    "Accepts Marketing": "no",
                    "Currency": "USD",
                    "Subtotal": f"{order.subtotal / 100:.2f}",
                    "Shipping": f"{shipping / 100:.2f}",
                    "Taxes": f"{taxes / 100:.2f}",
                    "Total": f"{(order.subtotal + shipping + taxes) / 100:.2f}",
                    "Discount Code": "SAVE" if order.discount else "",
                    "Discount Amount": f"{order.discount / 100:.2f}",
                    "Shipping Method": "Standard",
                    "Billing Name": "Test Person",
                    "Billing City": "Testville",
                    "Billing Country": order.country,
                    "Shipping Country": order.country,
                    "Cancelled at": (
                        f"{order.day:%Y-%m-%d} 23:59:00 {order.offset}" if order.cancelled else ""
                    ),
                    "Payment Method": "Shopify Payments",
                    "Refunded Amount": refunded,
                    "Outstanding Balance": "0.00",
                    "Id": str(5000000000 + int(order.name[1:])),
                    "Risk Level": "Low",
                    "Source": "web",
                    "Tax 1 Name": "Sales tax 8%",
                    "Tax 1 Value": f"{taxes / 100:.2f}",
                }
            )
        rows.append(row)
    return rows


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    """Rows as a CSV file (UTF-8, as Shopify writes it)."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header or HEADER, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_shopify_export(
    folder: Path, n_customers: int = 40, *, random_state: int = 0
) -> ShopifyExport:
    """Write ``orders_export_1.csv`` and ``orders_export_2.csv`` into ``folder``; the truth."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(random_state)
    data = make_saas_data(n_customers, random_state=random_state)
    tx = data.to_pandas("transactions").sort_values("order_id", kind="stable")
    countries = data.to_pandas("customers").set_index("customer_id")["country"].to_dict()

    orders: list[Order] = []
    seen: set[int] = set()
    for t in tx.itertuples(index=False):
        n = int(t.customer_id)
        country = str(countries[n])
        if n not in seen and rng.random() < 0.2:
            country = ""  # the customer's country comes from a later order
        seen.add(n)
        order = _order(
            _written_email(n, rng), pd.Timestamp(t.date).date(), cents(t.amount),
            str(t.product), rng, country,
        )  # fmt: skip
        u = rng.random()
        order.status = (
            "partially_refunded" if u < 0.1 else "pending" if u < 0.15
            else "authorized" if u < 0.2 else "paid"
        )  # fmt: skip
        orders.append(order)

    # planted orders segwork leaves out
    kept_days: dict[str, dt.date] = {}
    for o in orders:
        kept_days[o.customer] = min(kept_days.get(o.customer, o.day), o.day)
    customers = sorted(kept_days)
    start, end = min(kept_days.values()), max(o.day for o in orders)

    def planted(customer: str, day: dt.date, reason: str, **fields: object) -> None:
        o = _order(customer, day, int(rng.integers(500, 20000)), "Planted item", rng, "US")
        o.reason = reason
        for k, v in fields.items():
            setattr(o, k, v)
        orders.append(o)

    def some_day() -> dt.date:
        return start + dt.timedelta(days=int(rng.integers(0, (end - start).days + 1)))

    first = customers[0]
    planted(first, kept_days[first] - dt.timedelta(days=10), CANCELLED, cancelled=True,
            status="voided", country="ZZ")  # fmt: skip
    planted(customers[1 % len(customers)], some_day(), CANCELLED, cancelled=True, status="refunded")
    planted(customers[2 % len(customers)], some_day(), CANCELLED, cancelled=True, status="paid")
    planted(customers[3 % len(customers)], some_day(), REFUNDED, status="refunded")
    planted(customers[4 % len(customers)], some_day(), REFUNDED, status="refunded")
    planted(GHOST, some_day(), REFUNDED, status="refunded")
    planted(customers[5 % len(customers)], some_day(), VOIDED, status="voided")
    planted(customers[6 % len(customers)], some_day(), VOIDED, status="voided")
    for _ in range(3):
        planted("", some_day(), NO_EMAIL, status="paid")
    left_out: dict[str, int] = {}
    for o in orders:
        if o.reason:
            left_out[o.reason] = left_out.get(o.reason, 0) + 1

    # export order: by wall-clock Created at; Names in that order
    orders.sort(key=lambda o: (o.day, o.time))
    for i, o in enumerate(orders):
        o.name = f"#{1001 + i}"
    rows: list[dict[str, str]] = []
    starts: list[int] = []
    for o in orders:
        starts.append(len(rows))
        rows.extend(_rows(o, rng))
    # split near the middle inside a multi-line order: it runs on into the second file
    middle = len(rows) // 2
    inside = [
        s + 1 for s, o in zip(starts, orders, strict=True) if len(o.lines) > 1 and s >= middle
    ]
    cut = inside[0] if inside else middle
    files = ["orders_export_1.csv", "orders_export_2.csv"]
    write_rows(folder / files[0], rows[:cut])
    write_rows(folder / files[1], rows[cut:])

    kept = [o for o in orders if o.reason is None]
    records = []
    for o in kept:
        shares = allocate_cents(o.subtotal, [q * p for _, q, p in o.lines])
        for (item, q, p), share in zip(o.lines, shares, strict=True):
            records.append(
                {
                    "customer_id": o.customer,
                    "order_id": o.name,
                    "date": f"{o.day:%Y-%m-%d}",
                    "amount": share / 100,
                    "product": item,
                    "quantity": q,
                    "price": p / 100,
                    "currency": "USD",
                }
            )
    transactions = pd.DataFrame(records)
    signup: dict[str, dt.date] = {}
    billed: dict[str, str] = {}
    for o in kept:  # in export (wall-clock) order
        signup[o.customer] = min(signup.get(o.customer, o.day), o.day)
        if o.country and o.customer not in billed:
            billed[o.customer] = o.country
    ids = sorted(signup)
    customers_table = pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": [f"{signup[c]:%Y-%m-%d}" for c in ids],
            "country": [billed.get(c) for c in ids],
        }
    )
    return ShopifyExport(
        folder=folder,
        tables={"customers": customers_table, "transactions": transactions},
        left_out=left_out,
        files=files,
        orders=orders,
    )
