"""Stripe Dashboard exports -> segwork's ``customers``, ``subscriptions`` and ``transactions``.

A Stripe export folder holds the CSV files the Dashboard writes (file names are compared
case-insensitively):

- ``subscriptions.csv`` (required): ``id, Customer ID, Customer Name, Customer Email, Plan,
  Quantity, Currency, Interval, Amount, Status, Cancellation Reason, Coupon, Created (UTC),
  Start Date (UTC)`` (older exports: ``Start (UTC)``), ``Current Period Start (UTC), Current Period
  End (UTC), Trial Start (UTC), Trial End (UTC), Canceled At (UTC), Ended At (UTC)``, one
  ``<key> (metadata)`` column per metadata key, and in some exports ``Cancel At Period End``,
  ``Cancel At (UTC)``, ``Interval Count``.  Read are ``id, Customer ID, Status, Amount, Interval,
  Quantity, Start Date (UTC), Trial End (UTC), Ended At (UTC)`` (required) and ``Plan, Currency,
  Coupon, Created (UTC), Current Period Start (UTC), Current Period End (UTC), Cancel At (UTC),
  Cancel At Period End, Interval Count`` and the metadata columns (when present).
- ``customers.csv`` or ``unified_customers.csv`` (optional): ``id, Created (UTC)`` (required),
  ``Address Country`` and the ``<key> (metadata)`` columns.
- ``invoices.csv`` (optional): ``id, Customer`` (or ``Customer ID``), ``Status, Amount Paid,
  Date (UTC)`` (or ``Created (UTC)``), ``Subscription`` (or ``Subscription ID``) and ``Currency``
  (when present).

Rules (the "Imported data: Stripe" section of ``docs/metrics.md``)
-------------------------------------------------------------------
Values

1. Timestamps are UTC, ``YYYY-MM-DD HH:MM:SS`` (also ``YYYY-MM-DD HH:MM`` and ``YYYY-MM-DD``);
   a date is the UTC day of its timestamp.  Anything else is refused (``unparseable_date``).
   Amounts are plain decimal numbers in major units (``33.00``); anything else is refused
   (``not_numeric``).  ids are text (``cus_...``, ``sub_...``, ``in_...``).
2. What is checked: the rows left out for their status (never paid, unknown status, invoices not
   paid or of a subscription) are counted, not checked, except for ``Customer ID`` and the
   start and created dates of subscriptions, which make the customers; every other row is
   checked, and a breach names the file, the column, the rule and the first rows (the line in
   the file is shown).

Subscriptions (MRR)

3. MRR = Amount x Quantity normalised by Interval to a month: ``subscriptions.amount = Amount``
   (major units, per seat and per interval), ``quantity = Quantity`` (empty -> 1),
   ``billing_interval = Interval`` (``day``, ``week``, ``month``, ``year``; any other value is
   refused, ``unknown_interval``).  With ``Interval Count`` n > 1: month x 3 -> ``quarter``,
   month x 12 -> ``year`` (amount unchanged); any other count is normalised to one interval:
   amount = Amount / n at the Interval (a 6-monthly 600 is 100 a month, a 2-weekly 10 is 5 a
   week).  A count that is not a positive whole number is refused
   (``invalid_interval_count``).  A Quantity of 0 adds no MRR: the row is left out ("quantity
   0: no MRR"); a negative one is refused.
4. The MRR starts on the first paid day: the trial's end (``Trial End``) when there is a trial,
   else the start (``Start Date``); ``start_date`` is that day (the later of the two when both
   are set).  There is no MRR during a trial.
5. A subscription ends at ``Ended At``, not at ``Canceled At`` (a customer who cancels at
   period end pays to the end): ``end_date`` = Ended At's day.  When Ended At is empty and the
   subscription is scheduled to end -- ``Cancel At (UTC)`` set, or ``Cancel At Period End``
   true with ``Current Period End`` -- ``end_date`` is that scheduled day (segwork allows future
   end dates); else it is empty (open).
6. Status: ``active``, ``past_due`` and ``trialing`` are open (``trialing``: its start_date is
   the trial's end, so at an as_of before it the subscription adds nothing, and a customer whose
   only subscription is trialing is a customer without MRR).  ``canceled`` counts until Ended At
   (a canceled row without Ended At is refused).  ``unpaid`` and ``paused``: the MRR ends at
   ``Current Period Start``, the start of the period not paid (or at Ended At when earlier);
   counted in a note.  ``incomplete`` and ``incomplete_expired`` never paid: left out ("never
   paid (incomplete)").  Any other status is left out ("unknown status '<x>'").
7. A subscription that ends on or before its first paid day (canceled during its trial, or
   ended/paused at the trial's end) never paid: left out ("ended during its trial, never
   paid").
8. ``plan = Plan``; ``currency`` = ``Currency`` upper-cased (``usd`` -> ``USD``; several
   currencies are refused later by the contract, amounts are never converted);
   ``subscription_id = id`` (two identical subscriptions stay two rows).
9. ``Coupon`` holds the coupon's id, not its value: MRR is before coupons; the subscriptions with
   a coupon are counted in a note.

Customers

10. ``customer_id`` is the Stripe id (``cus_...``, text).  A subscription without Customer ID is
    refused (``missing_value``).
11. ``signup_date`` is the customer's ``Created`` day in customers.csv.  A customer of
    subscriptions.csv (any status) that customers.csv lacks, or every customer when there is no
    customers file, is added with the earliest ``Start Date`` / ``Created`` day of its
    subscriptions (before any trial adjustment: a trial starts the customer's life), said in a
    note.  A customer known only from a paid one-off invoice is added with its earliest such
    invoice's day (note).
12. Attributes: each ``<key> (metadata)`` column becomes the attribute ``<key>`` (the key's text
    kept; a key named ``customer_id`` or ``signup_date`` keeps its column name).  Customer
    metadata comes from customers.csv; a subscription's metadata is given to its customer from
    the customer's latest-starting subscription (latest ``Start Date``, then ``Created``, then
    the later line), any status.  A key in both files: the customers.csv value wins; an empty
    one there is filled from the subscription's.  customers.csv's ``Address Country`` becomes
    ``country`` unless a metadata key ``country`` exists.  Metadata values are text, as Stripe
    stores them (empty -> missing).
13. ``Email``, ``Name``, ``Customer Email``, ``Customer Name`` and Stripe's other columns are not
    kept: personal data, and of no use as criteria (said in a note).

Invoices (transactions)

14. A ``paid`` invoice without ``Subscription`` is a one-off sale: one ``transactions`` row with
    customer_id = Customer, order_id = its id, date = its Date's day, amount = Amount Paid,
    currency = Currency upper-cased.  One with Amount Paid 0 is left out ("paid nothing
    (Amount Paid 0)").
15. A paid invoice of a subscription is left out ("subscription invoice: its revenue is in
    MRR"); an invoice not paid (``draft``, ``open``, ``void``, ``uncollectible``) is left out
    by status ("not paid (status '<x>')").  Two invoices with one id are refused
    (``duplicate_key``).

Every left-out row is counted by file and reason in ``Imported.left_out``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from segwork.data.contract import ContractBreach, DataContractError
from segwork.sources.base import (
    Imported,
    export_breach,
    header_of,
    read_export_csv,
    require_columns,
)

__all__ = [
    "CUSTOMERS_FILES",
    "DETECT_COLUMNS",
    "INTERVALS",
    "INVOICES_FILES",
    "NAME",
    "NEVER_PAID_STATUSES",
    "OPEN_STATUSES",
    "SUBSCRIPTIONS_FILES",
    "detect",
    "read",
]

#: The format's name in ``segwork.load(..., format=...)``.
NAME = "stripe"

#: Export file names, compared case-insensitively.
SUBSCRIPTIONS_FILES = ("subscriptions.csv",)
CUSTOMERS_FILES = ("customers.csv", "unified_customers.csv")
INVOICES_FILES = ("invoices.csv",)

#: The header fields that make a subscriptions CSV a Stripe one (:func:`detect`).
DETECT_COLUMNS = ("Customer ID", "Interval", "Status", "Amount")

#: Stripe's billing intervals (``Interval``), all segwork billing intervals.
INTERVALS = ("day", "week", "month", "year")

#: Statuses of a running subscription (its MRR counts from its first paid day).
OPEN_STATUSES = ("active", "past_due", "trialing")
#: Statuses of a subscription that stopped paying at its current period's start.
LAPSED_STATUSES = ("unpaid", "paused")
#: Statuses of a subscription that never paid.
NEVER_PAID_STATUSES = ("incomplete", "incomplete_expired")
CANCELED = "canceled"
KNOWN_STATUSES = (*OPEN_STATUSES, CANCELED, *LAPSED_STATUSES, *NEVER_PAID_STATUSES)

REASON_NEVER_PAID = "never paid (incomplete)"
REASON_TRIAL = "ended during its trial, never paid"
REASON_QUANTITY_0 = "quantity 0: no MRR"
REASON_SUBSCRIPTION_INVOICE = "subscription invoice: its revenue is in MRR"
REASON_PAID_NOTHING = "paid nothing (Amount Paid 0)"

METADATA_SUFFIX = " (metadata)"
RESERVED = ("customer_id", "signup_date")
START_COLUMNS = ("Start Date (UTC)", "Start (UTC)")
SUBSCRIPTION_COLUMNS: tuple[str | tuple[str, ...], ...] = (
    "id",
    "Customer ID",
    "Status",
    "Amount",
    "Interval",
    "Quantity",
    START_COLUMNS,
    "Trial End (UTC)",
    "Ended At (UTC)",
)
CUSTOMER_COLUMNS = ("id", "Created (UTC)")
INVOICE_COLUMNS: tuple[str | tuple[str, ...], ...] = (
    "id",
    ("Customer", "Customer ID"),
    "Status",
    "Amount Paid",
    ("Date (UTC)", "Created (UTC)"),
    ("Subscription", "Subscription ID"),
)
PERSONAL_COLUMNS = ("Email", "Name", "Customer Email", "Customer Name")

_TIMESTAMP = r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?"
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0", "")


# --------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------
def export_files(folder: Path, names: Sequence[str]) -> list[Path]:
    """The files of ``folder`` named one of ``names`` (case-insensitively), sorted."""
    wanted = {n.lower() for n in names}
    try:
        return sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower() in wanted)
    except OSError:
        return []


def detect(folder: Path) -> bool:
    """Whether ``folder`` holds a Stripe subscriptions export.

    True when it has a ``subscriptions.csv`` (any case) whose header has ``Customer ID``,
    ``Interval``, ``Status`` and ``Amount``.  Only the file names and that header line are read.

    Examples
    --------
    >>> from segwork.paths import SAMPLE_DIR
    >>> detect(SAMPLE_DIR)
    False
    """
    found = export_files(Path(folder), SUBSCRIPTIONS_FILES)
    return bool(found) and set(DETECT_COLUMNS) <= set(header_of(found[0]))


def _one_file(folder: Path, names: Sequence[str]) -> Path | None:
    found = export_files(folder, names)
    if len(found) > 1:
        listed = ", ".join(p.name for p in found)
        raise ValueError(f"{folder} holds several {' / '.join(names)} files ({listed}); keep one")
    return found[0] if found else None


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------
def read(folder: Path, *, encoding: str | None = None) -> Imported:
    """Read a Stripe Dashboard export folder into canonical segwork tables.

    The rules are those of the module docstring (and ``docs/metrics.md``, "Imported data").

    Parameters
    ----------
    folder : Path
        Holds ``subscriptions.csv`` and optionally ``customers.csv`` (or
        ``unified_customers.csv``) and ``invoices.csv``.
    encoding : str, optional
        The text encoding of the files; detected when not given.

    Returns
    -------
    Imported
        Tables ``customers``, ``subscriptions`` (when a subscription has MRR) and
        ``transactions`` (when there is a paid one-off invoice), the rows left out by file and
        reason, and notes.

    Raises
    ------
    DataContractError
        A file lacks a column (``missing_column``) or holds a value Stripe does not write
        (``unparseable_date``, ``not_numeric``, ``unknown_interval``, ``missing_value``, ...):
        the message names the file, the column, the rule and the first rows.
    ValueError
        The folder holds two files of one kind (``subscriptions.csv`` and
        ``Subscriptions.csv``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> header = ("id,Customer ID,Customer Email,Plan,Quantity,Currency,Interval,Amount,Status,"
    ...           "Start Date (UTC),Trial End (UTC),Ended At (UTC),tier (metadata)")
    >>> rows = ["sub_1,cus_1,a@x.io,pro,3,usd,month,20.00,active,2024-01-05 10:00:00,"
    ...         "2024-01-19 10:00:00,,gold",
    ...         "sub_2,cus_2,b@x.io,pro,,usd,month,20.00,incomplete_expired,2024-02-01 09:00,,,"]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (pathlib.Path(tmp) / "subscriptions.csv").write_text("\\n".join([header, *rows]))
    ...     imported = read(pathlib.Path(tmp))
    >>> imported.tables["subscriptions"][["customer_id", "start_date", "amount", "quantity"]]
      customer_id  start_date  amount  quantity
    0       cus_1  2024-01-19    20.0       3.0
    >>> imported.tables["customers"]
      customer_id signup_date  tier
    0       cus_1  2024-01-05  gold
    1       cus_2  2024-02-01  None
    >>> imported.left_out[0].reason, imported.left_out[0].rows
    ('never paid (incomplete)', 1)
    """
    folder = Path(folder)
    imported = Imported(format=NAME, tables={})
    subs_path = _one_file(folder, SUBSCRIPTIONS_FILES)
    if subs_path is None:
        present = ", ".join(sorted(p.name for p in folder.iterdir() if p.is_file())) or "none"
        raise export_breach(
            SUBSCRIPTIONS_FILES[0],
            None,
            "missing_file",
            f"a stripe export needs the Dashboard's subscriptions export, subscriptions.csv "
            f"(files present: {present})",
        )
    customers_path = _one_file(folder, CUSTOMERS_FILES)
    invoices_path = _one_file(folder, INVOICES_FILES)

    subs = _read_subscriptions(subs_path, imported, encoding)
    listed = _read_customers(customers_path, imported, encoding) if customers_path else None
    sales = _read_invoices(invoices_path, imported, encoding) if invoices_path else None
    imported.tables["customers"] = _assemble_customers(subs, listed, sales, imported)
    if len(subs.table):
        imported.tables["subscriptions"] = subs.table
    else:
        imported.notes.append(f"{subs.file}: no subscription has MRR: no subscriptions table")
    if sales is not None:
        if len(sales.table):
            imported.tables["transactions"] = sales.table
        else:
            imported.notes.append(f"{sales.file}: no paid one-off invoice: no transactions table")
    return imported


@dataclass
class _Subscriptions:
    file: str
    table: pd.DataFrame
    #: customer_id -> earliest Start Date / Created (Timestamp)
    first_seen: pd.Series
    #: customer_id-indexed metadata of the latest-starting subscription
    metadata: pd.DataFrame


@dataclass
class _Customers:
    file: str
    ids: pd.Series
    #: Created's day (datetime64), aligned with ids
    signup: pd.Series
    #: attributes, one row per id (same order)
    attributes: pd.DataFrame


@dataclass
class _Sales:
    file: str
    table: pd.DataFrame


class _Checks:
    """Collects the breaches of one file, raised together."""

    def __init__(self, raw: pd.DataFrame, file: str, shown: Sequence[str]) -> None:
        self.raw = raw
        self.file = file
        self.shown = [c for c in shown if c in raw.columns]
        self.breaches: list[ContractBreach] = []
        self.all_rows = pd.Series(True, index=raw.index)

    def refuse(self, column: str | None, rule: str, description: str, bad: pd.Series) -> None:
        if not bad.any():
            return
        cols = [*self.shown, *([column] if column and column not in self.shown else [])]
        rows = self.raw.loc[bad, cols]
        self.breaches.extend(export_breach(self.file, column, rule, description, rows).breaches)

    def raise_any(self) -> None:
        if self.breaches:
            raise DataContractError(self.breaches)

    def text(self, column: str) -> pd.Series:
        if column not in self.raw.columns:
            return pd.Series("", index=self.raw.index, dtype=object)
        return self.raw[column].fillna("").astype(str).str.strip()

    def required_text(self, column: str, what: str, rows: pd.Series | None = None) -> pd.Series:
        values = self.text(column)
        rows = self.all_rows if rows is None else rows
        self.refuse(column, "missing_value", f"every row needs its {what}", rows & (values == ""))
        return values

    def dates(
        self, column: str, rows: pd.Series | None = None, *, required: str | None = None
    ) -> pd.Series:
        """The UTC day of each timestamp (datetime64, midnight); NaT where empty or absent."""
        if column not in self.raw.columns:
            return pd.Series(pd.NaT, index=self.raw.index, dtype="datetime64[ns]")
        rows = self.all_rows if rows is None else rows
        text = self.text(column)
        empty = text == ""
        shaped = text.str.fullmatch(_TIMESTAMP)
        full = text.where(text.str.len() != 10, text + " 00:00:00")
        full = full.where(full.str.len() != 16, full + ":00")
        parsed = pd.to_datetime(
            full.where(shaped & ~empty), format="%Y-%m-%d %H:%M:%S", errors="coerce"
        )
        self.refuse(
            column,
            "unparseable_date",
            "a Stripe timestamp is UTC 'YYYY-MM-DD HH:MM:SS' (or 'YYYY-MM-DD HH:MM', 'YYYY-MM-DD')",
            rows & ~empty & parsed.isna(),
        )
        if required:
            self.refuse(column, "missing_value", f"every row needs {required}", rows & empty)
        return parsed.dt.normalize()

    def numbers(
        self,
        column: str,
        rows: pd.Series,
        *,
        default: float | None = None,
        minimum: tuple[float, str] | None = (0.0, "negative_amount"),
    ) -> pd.Series:
        """Plain decimal numbers (float); ``default`` where empty (refused without one)."""
        text = self.text(column)
        empty = text == ""
        ok = text.str.fullmatch(_NUMBER) & ~empty
        values = pd.to_numeric(text.where(ok), errors="coerce").astype(float)
        self.refuse(
            column,
            "not_numeric",
            "value must be a plain decimal number in major units (e.g. 33.00)",
            rows & ~empty & ~ok,
        )
        if default is None:
            self.refuse(column, "missing_value", "value must be present", rows & empty)
        else:
            values = values.where(~empty, default)
        if minimum is not None:
            low, rule = minimum
            self.refuse(
                column, rule, f"value must be >= {low:g}", rows & (values < low).fillna(False)
            )
        return values

    def flags(self, column: str, rows: pd.Series) -> pd.Series:
        text = self.text(column).str.lower()
        self.refuse(
            column,
            "not_boolean",
            "value must be true or false",
            rows & ~text.isin([*_TRUE, *_FALSE]),
        )
        return text.isin(_TRUE)


def _metadata_columns(raw: pd.DataFrame) -> dict[str, str]:
    """``<key> (metadata)`` header -> attribute name (the key; the header for a reserved key)."""
    out: dict[str, str] = {}
    for col in raw.columns:
        if str(col).endswith(METADATA_SUFFIX):
            key = str(col)[: -len(METADATA_SUFFIX)]
            out[str(col)] = str(col) if key.strip() == "" or key in RESERVED else key
    return out


def _or_none(values: pd.Series) -> pd.Series:
    """Text with empty values as None (missing)."""
    return values.astype(object).where(values != "", None)


def _days(values: pd.Series) -> list[dt.date | None]:
    return [None if pd.isna(v) else v.date() for v in values]


def _count_note(imported: Imported, n: int, text: str) -> None:
    if n:
        imported.notes.append(text.format(n=f"{n:,}", s="" if n == 1 else "s"))


def _read_subscriptions(path: Path, imported: Imported, encoding: str | None) -> _Subscriptions:
    file = path.name
    raw = read_export_csv(path, imported, encoding=encoding)
    found = require_columns(raw, file, SUBSCRIPTION_COLUMNS, NAME)
    start_col = found[START_COLUMNS[0]]
    check = _Checks(raw, file, ("id", "Customer ID", "Status"))

    customer = check.required_text("Customer ID", "Customer ID (the customer's cus_... id)")
    status = check.text("Status").str.lower()
    start_raw = check.dates(start_col, required="its start")
    created = check.dates("Created (UTC)")
    known = status.isin(KNOWN_STATUSES)
    never = status.isin(NEVER_PAID_STATUSES)
    used = known & ~never  # rows that may hold MRR: checked

    sub_id = check.required_text("id", "subscription id", used)
    amount = check.numbers("Amount", used)
    quantity = check.numbers("Quantity", used, default=1.0, minimum=(0.0, "non_positive_quantity"))
    interval = check.text("Interval").str.lower()
    check.refuse(
        "Interval",
        "unknown_interval",
        f"a Stripe Interval is one of {', '.join(INTERVALS)}",
        used & ~interval.isin(INTERVALS),
    )
    count = pd.Series(1.0, index=raw.index)
    if "Interval Count" in raw.columns:
        count = check.numbers("Interval Count", used, default=1.0, minimum=None)
        check.refuse(
            "Interval Count",
            "invalid_interval_count",
            "an Interval Count is a whole number >= 1",
            used & count.notna() & ((count < 1) | (count != count.round())),
        )
    trial_end = check.dates("Trial End (UTC)", used)
    ended = check.dates("Ended At (UTC)", used)
    cancel_at = check.dates("Cancel At (UTC)", used)
    at_period_end = pd.Series(False, index=raw.index)
    if "Cancel At Period End" in raw.columns:
        at_period_end = check.flags("Cancel At Period End", used)
    lapsed = used & status.isin(LAPSED_STATUSES)
    openish = used & status.isin(OPEN_STATUSES)
    canceled = used & (status == CANCELED)
    needs_period_end = openish & at_period_end & ended.isna() & cancel_at.isna()
    if needs_period_end.any():
        require_columns(raw, file, ["Current Period End (UTC)"], NAME)
    if (lapsed & ended.isna()).any():
        require_columns(raw, file, ["Current Period Start (UTC)"], NAME)
    period_end = check.dates("Current Period End (UTC)", used)
    period_start = check.dates("Current Period Start (UTC)", used)

    check.refuse(
        "Current Period End (UTC)",
        "missing_value",
        "a subscription to cancel at period end needs its Current Period End",
        needs_period_end & period_end.isna(),
    )
    check.refuse(
        "Ended At (UTC)",
        "missing_value",
        "a canceled subscription needs its Ended At (when it stopped paying)",
        canceled & ended.isna(),
    )
    check.refuse(
        "Current Period Start (UTC)",
        "missing_value",
        "an unpaid or paused subscription needs its Current Period Start (the period not paid)",
        lapsed & ended.isna() & period_start.isna(),
    )
    check.raise_any()

    # rule 4: the first paid day
    trial = trial_end.notna() & ~(trial_end < start_raw)
    first_paid = start_raw.where(~trial, trial_end)
    # rule 5 and 6: the end
    scheduled = cancel_at.where(cancel_at.notna(), period_end.where(at_period_end))
    end = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    end = end.where(~openish, ended.where(ended.notna(), scheduled))
    end = end.where(~canceled, ended)
    lapsed_end = pd.concat([ended, period_start], axis=1).min(axis=1)
    end = end.where(~lapsed, lapsed_end)

    imported.leave_out(file, "subscriptions", REASON_NEVER_PAID, int(never.sum()))
    for name, n in sorted(status[~known].value_counts().items()):
        imported.leave_out(file, "subscriptions", f"unknown status '{name}'", int(n))
    in_trial = used & end.notna() & (end <= first_paid)
    imported.leave_out(file, "subscriptions", REASON_TRIAL, int(in_trial.sum()))
    zero = used & ~in_trial & (quantity == 0)
    imported.leave_out(file, "subscriptions", REASON_QUANTITY_0, int(zero.sum()))
    keep = used & ~in_trial & ~zero

    # rule 3: Interval Count
    billing = interval.copy()
    quarter = (interval == "month") & (count == 3)
    year = (interval == "month") & (count == 12)
    billing = billing.where(~quarter, "quarter").where(~year, "year")
    spread = (count != 1) & ~quarter & ~year
    per_interval = amount.where(~spread, amount / count)

    table = pd.DataFrame(
        {
            "subscription_id": sub_id[keep].to_numpy(dtype=object),
            "customer_id": customer[keep].to_numpy(dtype=object),
            "start_date": _days(first_paid[keep]),
            "end_date": _days(end[keep]),
            "amount": per_interval[keep].to_numpy(dtype=float),
            "billing_interval": billing[keep].to_numpy(dtype=object),
            "quantity": quantity[keep].to_numpy(dtype=float),
        }
    )
    if "Plan" in raw.columns:
        table["plan"] = _or_none(check.text("Plan"))[keep].to_numpy()
    if "Currency" in raw.columns:
        table["currency"] = _or_none(check.text("Currency").str.upper())[keep].to_numpy()

    _count_note(
        imported,
        int((keep & trial).sum()),
        f"{file}: {{n}} subscription{{s}} with a trial: MRR from the trial's end (Trial End), "
        "none during the trial",
    )
    _count_note(
        imported,
        int((keep & openish & ended.isna() & scheduled.notna()).sum()),
        f"{file}: {{n}} subscription{{s}} scheduled to end (Cancel At / Cancel At Period End): "
        "end_date is that day",
    )
    _count_note(
        imported,
        int((keep & lapsed).sum()),
        f"{file}: {{n}} unpaid or paused subscription{{s}}: MRR until the Current Period Start "
        "(the period not paid)",
    )
    _count_note(
        imported,
        int((keep & spread).sum()),
        f"{file}: {{n}} subscription{{s}} billed every n intervals (Interval Count): amount is "
        "Amount / n per interval",
    )
    if "Coupon" in raw.columns:
        _count_note(
            imported,
            int((keep & (check.text("Coupon") != "")).sum()),
            f"{file}: {{n}} subscription{{s}} with a coupon: the export gives the coupon's id, "
            "not its value, so their MRR is before the coupon",
        )
    imported.notes.append(
        f"{file}: a subscription ends at Ended At, not Canceled At (a customer who cancels at "
        "period end pays to the end)"
    )
    personal = [c for c in PERSONAL_COLUMNS if c in raw.columns]
    if personal:
        imported.notes.append(
            f"{file}: {', '.join(personal)} not kept (personal data, of no use as criteria)"
        )

    seen = pd.concat([start_raw, created], axis=1).min(axis=1)
    first_seen = seen.groupby(customer, sort=False).min()  # in order of appearance
    meta_cols = _metadata_columns(raw)
    order = pd.DataFrame(
        {"customer": customer, "start": start_raw, "created": created, "line": raw.index}
    ).sort_values(["customer", "start", "created", "line"], na_position="first")
    latest = order.drop_duplicates("customer", keep="last")
    metadata = pd.DataFrame(
        {
            name: _or_none(check.text(col))[latest.index].to_numpy()
            for col, name in meta_cols.items()
        },
        index=pd.Index(latest["customer"].to_numpy(), name="customer_id"),
    )
    return _Subscriptions(file, table, first_seen, metadata)


def _read_customers(path: Path, imported: Imported, encoding: str | None) -> _Customers:
    file = path.name
    raw = read_export_csv(path, imported, encoding=encoding)
    require_columns(raw, file, CUSTOMER_COLUMNS, NAME)
    check = _Checks(raw, file, ("id",))
    ids = check.required_text("id", "customer id (cus_...)")
    dup = ids.duplicated(keep=False) & (ids != "")
    check.refuse("id", "duplicate_key", "a customer is one row (one id)", dup)
    signup = check.dates("Created (UTC)", required="its Created date")
    check.raise_any()
    meta_cols = _metadata_columns(raw)
    attributes = pd.DataFrame(
        {name: _or_none(check.text(col)).to_numpy() for col, name in meta_cols.items()},
        index=raw.index,
    )
    country = "Address Country" in raw.columns and "country" not in attributes.columns
    if country:
        attributes["country"] = _or_none(check.text("Address Country")).to_numpy()
    dropped = [c for c in PERSONAL_COLUMNS if c in raw.columns]
    imported.notes.append(
        f"{file}: attributes are the metadata columns"
        + (" and Address Country (as country)" if country else "")
        + (
            f"; {', '.join(dropped)} not kept (personal data, of no use as criteria)"
            if dropped
            else ""
        )
        + "; Stripe's other columns are not used"
    )
    return _Customers(file, ids, signup, attributes)


def _read_invoices(path: Path, imported: Imported, encoding: str | None) -> _Sales:
    file = path.name
    raw = read_export_csv(path, imported, encoding=encoding)
    found = require_columns(raw, file, INVOICE_COLUMNS, NAME)
    customer_col = found["Customer"]
    date_col = found["Date (UTC)"]
    check = _Checks(raw, file, ("id", customer_col, "Status"))
    status = check.text("Status").str.lower()
    subscription = check.text(found["Subscription"])
    paid = status == "paid"
    one_off = paid & (subscription == "")
    imported.leave_out(
        file, "transactions", REASON_SUBSCRIPTION_INVOICE, int((paid & ~one_off).sum())
    )
    for name, n in sorted(status[~paid].value_counts().items()):
        imported.leave_out(file, "transactions", f"not paid (status '{name}')", int(n))

    ids = check.required_text("id", "invoice id", one_off)
    check.refuse(
        "id",
        "duplicate_key",
        "an invoice is one row (one id)",
        one_off & ids.duplicated(keep=False) & (ids != ""),
    )
    customer = check.required_text(customer_col, "customer (cus_...)", one_off)
    day = check.dates(date_col, one_off, required="its date")
    amount = check.numbers("Amount Paid", one_off)
    check.raise_any()
    nothing = one_off & (amount == 0)
    imported.leave_out(file, "transactions", REASON_PAID_NOTHING, int(nothing.sum()))
    keep = one_off & ~nothing
    table = pd.DataFrame(
        {
            "customer_id": customer[keep].to_numpy(dtype=object),
            "order_id": ids[keep].to_numpy(dtype=object),
            "date": _days(day[keep]),
            "amount": amount[keep].to_numpy(dtype=float),
        }
    )
    if "Currency" in raw.columns:
        table["currency"] = _or_none(check.text("Currency").str.upper())[keep].to_numpy()
    return _Sales(file, table)


def _assemble_customers(
    subs: _Subscriptions,
    listed: _Customers | None,
    sales: _Sales | None,
    imported: Imported,
) -> pd.DataFrame:
    """customers.csv's customers, then those of subscriptions.csv, then of invoices (rule 11),
    with their attributes (rule 12)."""
    ids: list[str] = [] if listed is None else listed.ids.tolist()
    signups: list[pd.Timestamp] = [] if listed is None else listed.signup.tolist()
    known = set(ids)
    extra = subs.first_seen[~subs.first_seen.index.isin(list(known))]
    if len(extra):
        ids += extra.index.tolist()
        signups += extra.tolist()
        known |= set(extra.index)
        if listed is not None:
            imported.notes.append(
                f"{len(extra):,} customer(s) of {subs.file} not in {listed.file}: added, "
                "signed up on their earliest subscription's Start Date / Created"
            )
        else:
            imported.notes.append(
                f"no customers file: each customer's signup_date is the earliest Start Date / "
                f"Created of its subscriptions in {subs.file}"
            )
    if sales is not None and len(sales.table):
        tx = sales.table
        firsts = (
            pd.to_datetime(pd.Series(tx["date"].to_numpy()))
            .groupby(tx["customer_id"].to_numpy(), sort=False)
            .min()
        )
        new = firsts[~firsts.index.isin(list(known))]
        if len(new):
            ids += new.index.tolist()
            signups += new.tolist()
            imported.notes.append(
                f"{len(new):,} customer(s) known only from paid one-off invoices of "
                f"{sales.file}: added, signed up on their first such invoice"
            )
    out = pd.DataFrame(
        {
            "customer_id": pd.Series(ids, dtype=object),
            "signup_date": _days(pd.Series(signups, dtype="datetime64[ns]")),
        }
    )
    n_listed = 0 if listed is None else len(listed.ids)
    meta = subs.metadata.reindex(out["customer_id"])
    names = [] if listed is None else list(listed.attributes.columns)
    names += [c for c in meta.columns if c not in names]
    for name in names:
        values = pd.Series(None, index=out.index, dtype=object)
        if name in meta.columns:
            values[:] = meta[name].to_numpy(dtype=object)
        if listed is not None and name in listed.attributes.columns:
            mine = pd.Series(listed.attributes[name].to_numpy(dtype=object))
            head = values.iloc[:n_listed]
            values.iloc[:n_listed] = mine.where(mine.notna(), head.to_numpy()).to_numpy()
        out[name] = values.where(values.notna(), None)
    return out
