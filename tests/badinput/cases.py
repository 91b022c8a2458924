"""The bad-input corpus (issue 10, "Bad input"): each case is a small input and its expected outcome.

An outcome is either a refusal -- ``refused=(table, column, rule)`` of a ``segwork.DataContractError``,
or ``error=(exception type, message part)`` for a source segwork cannot read at all -- or a load that
succeeds and a ``check(data)`` of a metric.  Decisions documented here and in README.md:

- time zones: a date or timestamp with a UTC offset (text or a tz-aware pandas column) is taken as the
  wall-clock time written; the offset is dropped, not applied (a 23:30-05:00 signup on Jan 31 is a
  January signup whatever the engine's time zone);
- currencies: one currency per table (case/space-insensitive label, any code); several are refused
  (rule ``mixed_currency``); amounts are never converted;
- non-UTF-8 files (cp1252, latin-1, UTF-16) are detected with charset-normalizer and read right (said
  in ``Dataset.notes``); one no encoding decodes with confidence is refused (rule ``not_utf8``); semicolon CSVs are read
  (delimiter sniffed); a decimal comma is refused as not numeric;
- ragged CSV rows are refused (rule ``ragged_row``: file, lines, expected vs found field count);
- a file named close to a missing table (``customer.csv``) is refused with the likely name; other
  files in a data folder are not read and are listed in ``Dataset.notes``;
- exact duplicate rows of the key-less subscriptions and market tables are refused (rule
  ``duplicate_row``); identical events are kept (an event log may repeat), and so are identical
  order lines (transactions hold several lines per order; lines of one order must agree on
  customer and date, rule ``order_lines_disagree``).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import segwork

AS_OF = "2024-06-30"


@dataclass(frozen=True)
class Case:
    id: str
    description: str  # one line
    build: Callable[[Path], Any]  # tmp_path -> what segwork.load takes
    refused: tuple[str, str | None, str] | None = None
    error: tuple[type[Exception], str] | None = None
    check: Callable[[segwork.Dataset], None] | None = None


# -- inputs --------------------------------------------------------------------------------------
def customers(n: int = 3, **extra: Any) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": list(range(1, n + 1)), "signup_date": ["2024-01-05", "2024-02-10", "2024-03-01"][:n], **extra}
    )


def subs(rows: list[tuple]) -> pd.DataFrame:
    """rows: (customer_id, start, end, amount, interval)."""
    return pd.DataFrame(rows, columns=["customer_id", "start_date", "end_date", "amount", "billing_interval"])


BASE_SUBS = [(1, "2024-01-05", None, 100.0, "month"), (2, "2024-02-10", None, 1200.0, "year"), (3, "2024-03-01", None, 50.0, "month")]


def frames(sub_rows: list[tuple] | None = None, **tables: pd.DataFrame) -> Callable[[Path], dict]:
    def build(_: Path) -> dict:
        out = {"customers": customers(), "subscriptions": subs(sub_rows or BASE_SUBS)}
        out.update(tables)
        return out

    return build


def edit(table: str, column: str, row: int, value: Any, base: Callable[[Path], dict] | None = None) -> Callable[[Path], dict]:
    def build(tmp: Path) -> dict:
        f = (base or frames())(tmp)
        f[table] = f[table].copy()
        f[table][column] = f[table][column].astype(object)
        f[table].loc[row, column] = value
        return f

    return build


CSV_CUSTOMERS = "customer_id,signup_date\n1,2024-01-05\n2,2024-02-10\n3,2024-03-01\n"
CSV_SUBS = (
    "customer_id,start_date,end_date,amount,billing_interval\n"
    "1,2024-01-05,,100,month\n2,2024-02-10,,1200,year\n3,2024-03-01,,50,month\n"
)


def csv_dir(files: dict[str, str | bytes] | None = None, **replace: str | bytes) -> Callable[[Path], Path]:
    """A directory of CSV files: the base customers/subscriptions, ``replace``d or extended."""

    def build(tmp: Path) -> Path:
        d = tmp / "data"
        d.mkdir()
        content: dict[str, str | bytes] = {"customers.csv": CSV_CUSTOMERS, "subscriptions.csv": CSV_SUBS}
        content.update(files or {})
        content.update({k.replace("__", "."): v for k, v in replace.items()})
        for name, text in content.items():
            if text is None:
                continue
            (d / name).write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return d

    return build


# -- checks --------------------------------------------------------------------------------------
def seg(data: segwork.Dataset, **kw: Any) -> pd.Series:
    return segwork.segment_table(data, None, kw.pop("as_of", AS_OF), **kw).iloc[0]


def mrr_at(data: segwork.Dataset, month: str, as_of: str = AS_OF) -> float:
    m = segwork.mrr_movements(data, as_of)
    return float(m.loc[pd.to_datetime(m["month"]) == pd.Timestamp(month), "mrr_end"].iloc[0])


def raises(exc: type[Exception], match: str, fn: Callable[[segwork.Dataset], Any]) -> Callable[[segwork.Dataset], None]:
    def check(data: segwork.Dataset) -> None:
        with pytest.raises(exc, match=match):
            fn(data)

    return check


def all_of(*checks: Callable[[segwork.Dataset], None]) -> Callable[[segwork.Dataset], None]:
    def check(data: segwork.Dataset) -> None:
        for c in checks:
            c(data)

    return check


def expect(fn: Callable[[segwork.Dataset], Any], value: Any) -> Callable[[segwork.Dataset], None]:
    def check(data: segwork.Dataset) -> None:
        got = fn(data)
        if isinstance(value, float) and np.isnan(value):
            assert pd.isna(got), got
        else:
            assert got == pytest.approx(value) if isinstance(value, float) else got == value, (got, value)

    return check


def signup(cid: int) -> Callable[[segwork.Dataset], Any]:
    def get(data: segwork.Dataset) -> str:
        c = data.to_pandas("customers")
        return str(pd.Timestamp(c.loc[c.customer_id == cid, "signup_date"].iloc[0]).date())

    return get


def event_times(data: segwork.Dataset) -> list[str]:
    e = data.to_pandas("events").sort_values("customer_id")
    return [str(pd.Timestamp(t).tz_localize(None) if pd.Timestamp(t).tzinfo else pd.Timestamp(t)) for t in e.timestamp]


EVENTS_TZ_TEXT = pd.DataFrame(
    {"customer_id": [1, 2], "timestamp": ["2024-03-31T23:30:00+02:00", "2024-04-01 00:15:00Z"], "event": ["login", "api"]}
)
EVENTS_TZ_AWARE = pd.DataFrame(
    {
        "customer_id": [1, 2],
        "timestamp": pd.to_datetime(["2024-03-31 23:30", "2024-04-01 00:15"]).tz_localize("Asia/Tokyo"),
        "event": ["login", "api"],
    }
)
SIGNUP_TZ_AWARE = customers().assign(
    signup_date=pd.to_datetime(["2024-01-31 23:30", "2024-02-10 00:00", "2024-03-01 00:00"]).tz_localize("America/New_York")
)
WIDE = "customer_id,signup_date," + ",".join(f"attr_{i}" for i in range(400)) + "\n" + "".join(
    f"{c},{d}," + ",".join(str(i * c) for i in range(400)) + "\n" for c, d in ((1, "2024-01-05"), (2, "2024-02-10"), (3, "2024-03-01"))
)
LATIN1_PAST_MIB_ROWS = 80_000
LATIN1_PAST_MIB = ("customer_id,signup_date,country\n" + "".join(f"{i},2024-01-05,DE\n" for i in range(1, LATIN1_PAST_MIB_ROWS)) + f"{LATIN1_PAST_MIB_ROWS},2024-01-05,Österreich\n").encode("latin-1")
LATIN1_LATE = ("customer_id,signup_date,country\n" + "".join(f"{i},2024-01-05,DE\n" for i in range(1, 3000)) + "3000,2024-01-05,Österreich\n").encode("latin-1")
MARKET = pd.DataFrame({"industry": ["software", "retail"], "accounts": [1000, 500], "acv": [2000.0, 800.0],
                       "acv_low": [1000.0, 900.0], "acv_high": [5000.0, 700.0]})
MARKET_ACCOUNTS = pd.DataFrame({"industry": ["software"], "accounts": [1000], "accounts_low": [1500], "acv": [2000.0]})


def gz(text: str) -> bytes:
    return gzip.compress(text.encode("utf-8"))


def aside(table: str, reason: str, as_of: str = AS_OF) -> Callable[[segwork.Dataset], int]:
    """The number of rows of ``table`` that Dataset.set_aside(as_of) counts under ``reason``."""

    def get(data: segwork.Dataset) -> int:
        a = data.set_aside(as_of)
        return int(a.loc[(a.table == table) & (a.reason == reason), "rows"].iloc[0])

    return get


def ragged_late(line: int) -> str:
    """customers.csv with 30,000 rows whose file line ``line`` has a third field."""
    rows = [f"{i},2024-01-05" for i in range(1, 30_001)]
    rows[line - 2] += ",x"
    return "customer_id,signup_date\n" + "\n".join(rows) + "\n"


def with_files(**files: str) -> Callable[[Path], Path]:
    """The base CSV directory plus extra files (``name__ext=text``; a value ``"/"`` makes a folder)."""

    def build(tmp: Path) -> Path:
        d = csv_dir()(tmp)
        for key, text in files.items():
            target = d / key.replace("__", ".")
            target.mkdir() if text == "/" else target.write_text(text)
        return d

    return build


def two_files(tmp: Path) -> Path:
    d = csv_dir()(tmp)
    pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-05"]}).to_parquet(d / "customers.parquet")
    return d


def empty_dir(tmp: Path) -> Path:
    (tmp / "empty").mkdir()
    return tmp / "empty"


CASES: list[Case] = [
    # missing table or column
    Case("no-customers-table", "subscriptions only: customers derived (signup = first start), said in notes",
         lambda _: {"subscriptions": subs(BASE_SUBS)},
         check=all_of(lambda d: None if any("customers derived" in n for n in d.notes) else pytest.fail(str(d.notes)),
                      expect(lambda d: int(seg(d).customers), 3))),
    Case("no-revenue-table", "customers only: loads; MRR metrics refuse naming the missing table",
         lambda _: {"customers": customers()}, check=raises(ValueError, "no 'mrr' table", lambda d: seg(d))),
    Case("empty-directory", "a directory with no table file is refused",
         empty_dir, error=(ValueError, "holds no segwork table file")),
    Case("two-files-one-table", "customers.csv and customers.parquet side by side is refused",
         two_files, error=(ValueError, "several files for table 'customers'")),
    Case("missing-column", "subscriptions.csv without billing_interval",
         csv_dir(subscriptions__csv="customer_id,start_date,amount\n1,2024-01-05,100\n"),
         refused=("subscriptions", "billing_interval", "missing_column")),
    Case("mapped-column-absent", "columns= maps a column the table does not have",
         lambda _: segwork.load(frames()(_), columns={"customers": {"cust": "customer_id"}}),
         refused=("customers", "cust", "missing_column")),
    # duplicate keys
    Case("duplicate-customer-id", "customer 2 twice in customers.csv",
         csv_dir(customers__csv=CSV_CUSTOMERS + "2,2024-02-11\n"), refused=("customers", "customer_id", "duplicate_key")),
    Case("duplicate-mrr-month", "two mrr rows for one customer and month",
         lambda _: {"customers": customers(), "mrr": pd.DataFrame({"customer_id": [1, 1], "month": ["2024-01-01"] * 2, "mrr": [10.0, 20.0]})},
         refused=("mrr", "customer_id, month", "duplicate_key")),
    Case("order-lines-two-customers", "order 10's lines name two customers",
         frames(transactions=pd.DataFrame({"customer_id": [1, 2], "order_id": [10, 10], "date": ["2024-01-05"] * 2, "amount": [5.0, 6.0]})),
         refused=("transactions", "customer_id", "order_lines_disagree")),
    Case("order-lines-two-dates", "order 10's lines carry two dates",
         frames(transactions=pd.DataFrame({"customer_id": [1, 1], "order_id": [10, 10], "date": ["2024-01-05", "2024-01-06"], "amount": [5.0, 6.0]})),
         refused=("transactions", "date", "order_lines_disagree")),
    Case("order-lines", "an order of three lines is one order: frequency 1, monetary the sum of its lines (16)",
         frames(transactions=pd.DataFrame({"customer_id": [1, 1, 1], "order_id": [10, 10, 10], "date": ["2024-01-05"] * 3, "amount": [5.0, 6.0, 5.0], "product": ["a", "b", "a"]})),
         check=expect(lambda d: tuple(segwork.rfm(d, AS_OF).set_index("customer_id").loc[1, ["frequency", "monetary"]]), (1, 16.0))),
    # dates
    Case("impossible-date", "signup 2024-02-30 (no such day)", csv_dir(customers__csv=CSV_CUSTOMERS.replace("2024-03-01", "2024-02-30")),
         refused=("customers", "signup_date", "unparseable_date")),
    Case("ambiguous-date", "03/04/2024 is refused, never guessed as March or April",
         csv_dir(customers__csv=CSV_CUSTOMERS.replace("2024-03-01", "03/04/2024")), refused=("customers", "signup_date", "unparseable_date")),
    Case("day-first-date", "31/12/2023 (day first) is refused", edit("customers", "signup_date", 0, "31/12/2023"),
         refused=("customers", "signup_date", "unparseable_date")),
    Case("excel-serial-date", "an Excel serial number 45296 as a date is refused", edit("customers", "signup_date", 0, "45296"),
         refused=("customers", "signup_date", "unparseable_date")),
    Case("compact-date", "20240105 (no separators) is refused", edit("subscriptions", "start_date", 0, "20240105"),
         refused=("subscriptions", "start_date", "unparseable_date")),
    Case("datetime-in-date-column", "'2024-01-05 22:10:00' as a signup date is the calendar date 2024-01-05",
         edit("customers", "signup_date", 0, "2024-01-05 22:10:00"), check=expect(signup(1), "2024-01-05")),
    Case("date-with-offset-text", "'2024-01-31T23:30:00-05:00' signup is Jan 31 (wall-clock date; offset dropped)",
         edit("customers", "signup_date", 0, "2024-01-31T23:30:00-05:00"), check=expect(signup(1), "2024-01-31")),
    Case("date-tz-aware-pandas", "a tz-aware (New York) signup column keeps its wall-clock date, not the UTC one",
         frames(customers=SIGNUP_TZ_AWARE), check=expect(signup(1), "2024-01-31")),
    Case("timestamp-with-offset-text", "event timestamps with +02:00 / Z keep the wall-clock time written",
         frames(events=EVENTS_TZ_TEXT), check=expect(event_times, ["2024-03-31 23:30:00", "2024-04-01 00:15:00"])),
    Case("timestamp-tz-aware-pandas", "tz-aware (Tokyo) event timestamps keep the wall-clock time written",
         frames(events=EVENTS_TZ_AWARE), check=expect(event_times, ["2024-03-31 23:30:00", "2024-04-01 00:15:00"])),
    # future dates
    Case("signup-after-as-of", "a customer signed up after as_of is outside the population but kept in the data",
         edit("customers", "signup_date", 2, "2024-09-01", frames([(1, "2024-01-05", None, 100.0, "month"), (2, "2024-02-10", None, 1200.0, "year"), (3, "2024-09-01", None, 50.0, "month")])),
         check=all_of(expect(lambda d: int(seg(d).customers), 2), expect(lambda d: int(d.summary().set_index("table").loc["customers", "rows"]), 3),
                      expect(aside("customers", "signed up after as_of"), 1), expect(aside("subscriptions", "starts after as_of"), 1))),
    Case("subscription-after-as-of", "a subscription starting after as_of adds no MRR up to as_of",
         frames([*BASE_SUBS, (1, "2024-08-01", None, 1000.0, "month")]),
         check=all_of(expect(lambda d: mrr_at(d, "2024-06-01"), 250.0), expect(lambda d: mrr_at(d, "2024-08-01", "2024-08-31"), 1250.0),
                      expect(aside("subscriptions", "starts after as_of"), 1), expect(aside("subscriptions", "starts after as_of", "2024-08-31"), 0))),
    # amounts
    Case("negative-amount", "amount -100 in subscriptions.csv", csv_dir(subscriptions__csv=CSV_SUBS.replace(",100,", ",-100,")),
         refused=("subscriptions", "amount", "negative_amount")),
    Case("empty-amount", "an empty amount cell (NaN) is refused, not read as 0", csv_dir(subscriptions__csv=CSV_SUBS.replace(",100,", ",,")),
         refused=("subscriptions", "amount", "missing_value")),
    Case("nan-amount-pandas", "NaN amount in a DataFrame", edit("subscriptions", "amount", 1, np.nan),
         refused=("subscriptions", "amount", "missing_value")),
    Case("infinite-amount", "amount 'inf' is refused (it passed every bound before)", csv_dir(subscriptions__csv=CSV_SUBS.replace(",100,", ",inf,")),
         refused=("subscriptions", "amount", "infinite_value")),
    Case("currency-symbol-amount", "'$100' is not a number", edit("subscriptions", "amount", 0, "$100"),
         refused=("subscriptions", "amount", "not_numeric")),
    Case("negative-mrr", "a negative value in an mrr table",
         lambda _: {"customers": customers(), "mrr": pd.DataFrame({"customer_id": [1], "month": ["2024-01-01"], "mrr": [-5.0]})},
         refused=("mrr", "mrr", "negative_amount")),
    Case("zero-amount-subscription", "a 0-amount (free) subscription is valid: in the population, never active",
         frames([*BASE_SUBS[:2], (3, "2024-03-01", None, 0.0, "month")]),
         check=all_of(expect(lambda d: int(seg(d).customers), 3), expect(lambda d: int(seg(d).active_customers), 2),
                      expect(lambda d: float(seg(d).mrr), 200.0))),
    # intervals and currencies
    Case("unknown-interval", "billing_interval 'monthly'", edit("subscriptions", "billing_interval", 0, "monthly"),
         refused=("subscriptions", "billing_interval", "unknown_interval")),
    Case("interval-case", "billing_interval 'Month' (case matters; no silent normalisation)", edit("subscriptions", "billing_interval", 0, "Month"),
         refused=("subscriptions", "billing_interval", "unknown_interval")),
    Case("mixed-currencies", "USD and EUR amounts in one subscriptions table are refused",
         lambda t: {**frames()(t), "subscriptions": subs(BASE_SUBS).assign(currency=["USD", "EUR", "USD"])},
         refused=("subscriptions", "currency", "mixed_currency")),
    Case("one-currency-any-case", "'usd', 'USD ' and empty are one currency: loads, amounts as given",
         lambda t: {**frames()(t), "subscriptions": subs(BASE_SUBS).assign(currency=["usd", "USD ", None])},
         check=expect(lambda d: mrr_at(d, "2024-06-01"), 250.0)),
    Case("unknown-currency-label", "a single unknown currency 'XYZ' is accepted (no conversion)",
         lambda t: {**frames()(t), "subscriptions": subs(BASE_SUBS).assign(currency="XYZ")},
         check=expect(lambda d: mrr_at(d, "2024-06-01"), 250.0)),
    # end before start, overlaps
    Case("end-before-start", "end_date before start_date", edit("subscriptions", "end_date", 0, "2023-12-31"),
         refused=("subscriptions", "end_date", "end_before_start")),
    Case("end-equals-start", "end_date equal to start_date (a zero-length period)", edit("subscriptions", "end_date", 0, "2024-01-05"),
         refused=("subscriptions", "end_date", "end_before_start")),
    Case("overlapping-subscriptions", "two overlapping subscriptions of one customer: MRR adds up",
         frames([*BASE_SUBS, (1, "2024-03-10", "2024-05-20", 40.0, "month")]),
         check=all_of(expect(lambda d: mrr_at(d, "2024-04-01"), 290.0), expect(lambda d: mrr_at(d, "2024-06-01"), 250.0))),
    # orphans and id types
    Case("orphan-subscription", "subscription of customer 99, not in customers", edit("subscriptions", "customer_id", 2, 99),
         refused=("subscriptions", "customer_id", "unknown_customer")),
    Case("orphan-transaction", "order of customer 7, not in customers",
         frames(transactions=pd.DataFrame({"customer_id": [1, 7], "order_id": [1, 2], "date": ["2024-01-05"] * 2, "amount": [5.0, 6.0]})),
         refused=("transactions", "customer_id", "unknown_customer")),
    Case("string-vs-int-ids", "customer ids are strings in customers and ints in subscriptions",
         lambda t: {**frames()(t), "customers": customers().assign(customer_id=["1", "2", "3"])},
         refused=("subscriptions", "customer_id", "id_type_mismatch")),
    Case("string-vs-int-ids-csv", "'C1' ids in customers.csv, numbers in subscriptions.csv",
         csv_dir(customers__csv="customer_id,signup_date\nC1,2024-01-05\nC2,2024-02-10\nC3,2024-03-01\n"),
         refused=("subscriptions", "customer_id", "id_type_mismatch")),
    Case("float-vs-int-ids", "ids 1.0, 2.0 (a NaN-upcast column) against int ids",
         lambda t: {**frames()(t), "subscriptions": subs(BASE_SUBS).assign(customer_id=[1.0, 2.0, 3.0])},
         refused=("subscriptions", "customer_id", "id_type_mismatch")),
    # empty tables, tiny histories
    Case("empty-tables", "header-only customers.csv and subscriptions.csv: loads; metrics refuse clearly",
         csv_dir(customers__csv="customer_id,signup_date\n", subscriptions__csv="customer_id,start_date,amount,billing_interval\n"),
         check=raises(ValueError, "empty", lambda d: seg(d))),
    Case("zero-byte-file", "a 0-byte customers.csv is refused (no customer_id column)",
         csv_dir(customers__csv=b""), refused=("customers", "customer_id", "missing_column")),
    Case("single-customer", "one customer, active 6 months, no churn: churn 0, LTV NaN",
         lambda _: {"customers": customers(1), "subscriptions": subs(BASE_SUBS[:1])},
         check=all_of(expect(lambda d: int(seg(d).customers), 1), expect(lambda d: float(seg(d).mrr), 100.0),
                      expect(lambda d: float(seg(d).churn_rate), 0.0), expect(lambda d: float(seg(d).ltv), float("nan")))),
    Case("everyone-churned", "every subscription ended before as_of: MRR 0, churn 3 of 9 at-risk months, LTV NaN",
         frames([(1, "2024-01-05", "2024-03-10", 100.0, "month"), (2, "2024-02-10", "2024-04-10", 1200.0, "year"), (3, "2024-03-01", "2024-05-15", 50.0, "month")]),
         check=all_of(expect(lambda d: mrr_at(d, "2024-06-01"), 0.0), expect(lambda d: int(seg(d).active_customers), 0),
                      expect(lambda d: float(seg(d).churn_rate), 3 / 9), expect(lambda d: float(seg(d).ltv), float("nan")))),
    Case("no-churn", "nobody ever churned: churn_rate 0 and LTV NaN, never inf",
         frames(), check=all_of(expect(lambda d: float(seg(d).churn_rate), 0.0), expect(lambda d: float(seg(d).ltv), float("nan")),
                                expect(lambda d: float(seg(d).ltv_high), float("nan")))),
    Case("one-month-history", "all data in one month: cohort retention has age 0 only, retention 1",
         lambda _: {"customers": customers(2).assign(signup_date=["2024-06-01", "2024-06-15"]),
                    "subscriptions": subs([(1, "2024-06-01", None, 10.0, "month"), (2, "2024-06-15", None, 20.0, "month")])},
         check=expect(lambda d: segwork.cohort_retention(d, AS_OF)[["age", "retention"]].to_dict("list"), {"age": [0], "retention": [1.0]})),
    # file formats
    Case("latin1-csv", "a latin-1 customers.csv (Ö as one byte) is detected and read right, said in the notes",
         csv_dir(customers__csv="customer_id,signup_date,country\n1,2024-01-05,Österreich\n2,2024-02-10,DE\n3,2024-03-01,DE\n".encode("latin-1")),
         check=expect(lambda d: (d.to_pandas("customers").set_index("customer_id").country[1], any("customers.csv read as cp1252" in n for n in d.notes)), ("Österreich", True))),
    Case("latin1-byte-late", "a latin-1 byte on line 3001 (past the CSV sniffer's sample) is read right",
         lambda t: csv_dir(customers__csv=LATIN1_LATE, subscriptions__csv=None)(t),
         check=expect(lambda d: d.to_pandas("customers").set_index("customer_id").country[3000], "Österreich")),
    Case("latin1-byte-past-first-mib", "a latin-1 byte past the first MiB (UTF-8 there) is found when DuckDB meets it, the file read again as cp1252",
         lambda t: csv_dir(customers__csv=LATIN1_PAST_MIB, subscriptions__csv=None)(t),
         check=expect(lambda d: d.to_pandas("customers").set_index("customer_id").country[LATIN1_PAST_MIB_ROWS], "Österreich")),
    Case("latin1-given-utf8", "encoding='utf-8' given for a latin-1 file is refused, never garbled",
         lambda t: segwork.load(csv_dir(customers__csv=LATIN1_LATE, subscriptions__csv=None)(t), encoding="utf-8"),
         refused=("customers", None, "not_utf8")),
    Case("undecodable-csv", "a file no text encoding decodes with confidence (binary) is refused",
         csv_dir(customers__csv=bytes(range(256)) * 40), refused=("customers", None, "not_utf8")),
    Case("utf16-csv", "a UTF-16 customers.csv with a BOM (Excel 'Unicode text') is read right",
         csv_dir(customers__csv="customer_id,signup_date,country\n1,2024-01-05,Österreich\n2,2024-02-10,DE\n3,2024-03-01,DE\n".encode("utf-16")),
         check=expect(lambda d: d.to_pandas("customers").set_index("customer_id").country[1], "Österreich")),
    Case("semicolon-csv", "semicolon-separated UTF-8 CSVs load correctly (umlauts kept, MRR right)",
         csv_dir(customers__csv="customer_id;signup_date;country\n1;2024-01-05;Österreich\n2;2024-02-10;DE\n3;2024-03-01;DE\n",
                 subscriptions__csv=CSV_SUBS.replace(",", ";")),
         check=all_of(expect(lambda d: d.to_pandas("customers").set_index("customer_id").country[1], "Österreich"),
                      expect(lambda d: mrr_at(d, "2024-06-01"), 250.0))),
    Case("semicolon-decimal-comma", "a semicolon CSV with decimal commas (99,5) is refused as not numeric",
         csv_dir(subscriptions__csv=CSV_SUBS.replace(",", ";").replace(";100;", ";99,5;")), refused=("subscriptions", "amount", "not_numeric")),
    Case("utf8-bom", "a UTF-8 BOM (Excel 'CSV UTF-8') is not part of the first column name",
         csv_dir(customers__csv=CSV_CUSTOMERS.encode("utf-8-sig")), check=expect(lambda d: int(seg(d).customers), 3)),
    Case("gzip-and-tsv", "customers.csv.gz and subscriptions.tsv load",
         csv_dir(customers__csv=None, subscriptions__csv=None, files={"customers.csv.gz": gz(CSV_CUSTOMERS), "subscriptions.tsv": CSV_SUBS.replace(",", "\t")}),
         check=expect(lambda d: mrr_at(d, "2024-06-01"), 250.0)),
    Case("wide-file", "customers.csv with 400 extra columns loads and keeps them all",
         csv_dir(customers__csv=WIDE), check=all_of(expect(lambda d: len(d.table("customers").columns), 402),
                                                   expect(lambda d: int(d.to_pandas("customers").set_index("customer_id").attr_399[3]), 399 * 3))),
    Case("duplicate-column-csv", "two 'amount' columns in subscriptions.csv are refused (DuckDB renamed one to amount_1)",
         csv_dir(subscriptions__csv="customer_id,start_date,amount,amount,billing_interval\n1,2024-01-05,100,5,month\n"),
         refused=("subscriptions", "amount", "duplicate_column")),
    Case("duplicate-column-pandas", "two 'signup_date' columns in a DataFrame are refused",
         lambda t: {**frames()(t), "customers": pd.concat([customers(), customers()[["signup_date"]]], axis=1)},
         refused=("customers", "signup_date", "duplicate_column")),
    # ragged rows: refused as ragged_row naming the file, the lines and the field counts
    Case("ragged-row-csv", "a row with an extra field is refused as ragged, line 3 named (was: missing_column, wrong names)",
         csv_dir(customers__csv="customer_id,signup_date\n1,2024-01-05\n2,2024-02-10,x\n3,2024-03-01\n"),
         refused=("customers", None, "ragged_row")),
    Case("ragged-row-message", "the ragged_row message names file, line and expected vs found field count",
         csv_dir(subscriptions__csv=CSV_SUBS.replace("2,2024-02-10,,1200,year", "2,2024-02-10,1200,year")),
         error=(segwork.DataContractError, "subscriptions.csv: every line must have the header's 5 fields; line 3 has 4")),
    Case("ragged-row-fewer", "a semicolon CSV row with a missing field is refused as ragged",
         csv_dir(customers__csv="customer_id;signup_date;country\n1;2024-01-05;DE\n2;2024-02-10\n3;2024-03-01;DE\n"),
         refused=("customers", None, "ragged_row")),
    Case("ragged-row-sniffer-fails", "a ragged line 3001 makes DuckDB's sniffer give up: still refused as ragged",
         lambda t: csv_dir(customers__csv=ragged_late(3001), subscriptions__csv=None)(t),
         error=(segwork.DataContractError, "line 3001 has 3")),
    Case("ragged-row-late", "a ragged line 25001 (past the sniffer's sample, met while reading) is refused as ragged",
         lambda t: csv_dir(customers__csv=ragged_late(25_001), subscriptions__csv=None)(t),
         error=(segwork.DataContractError, "line 25001 has 3")),
    Case("quoted-delimiter", "a quoted field holding the delimiter is one field, not a ragged row",
         csv_dir(customers__csv='customer_id,signup_date,name\n1,2024-01-05,"Acme, Inc."\n2,2024-02-10,B\n3,2024-03-01,C\n'),
         check=expect(lambda d: d.to_pandas("customers").set_index("customer_id").name[1], "Acme, Inc.")),
    # file names in a data folder
    Case("misnamed-file", "customer.csv (typo) beside subscriptions.csv is refused with the likely name",
         csv_dir(customers__csv=None, files={"customer.csv": CSV_CUSTOMERS}),
         error=(ValueError, r"customer\.csv is not a segwork table; did you mean customers\.csv\?")),
    Case("misnamed-parquet", "subscription.parquet (typo) is refused with the likely name",
         lambda t: (subs(BASE_SUBS).to_parquet(csv_dir(subscriptions__csv=None)(t) / "subscription.parquet"), t / "data")[1],
         error=(ValueError, r"did you mean subscriptions\.parquet\?")),
    Case("unsupported-format", "customers.xlsx (a table in a format segwork does not read) is refused",
         csv_dir(customers__csv=None, files={"customers.xlsx": b"PK\x03\x04"}),
         error=(ValueError, r"customers\.xlsx is not a file segwork reads")),
    Case("upper-case-file-name", "Customers.CSV is the customers table (file names compared case-insensitively)",
         csv_dir(customers__csv=None, files={"Customers.CSV": CSV_CUSTOMERS.replace("2024-03-01", "2024-09-01")}),
         check=all_of(expect(lambda d: int(seg(d).customers), 2), expect(lambda d: d.notes, ('mrr derived from subscriptions (docs/metrics.md "MRR": monthly normalisation, active rule)',)))),
    Case("other-files-noted", "orders.csv, a folder and customers_old.csv beside the tables are not read, and the notes list them",
         with_files(orders__csv="order,amount\n1,5\n", archive="/", customers_old__csv=CSV_CUSTOMERS, README__md="# data"),
         check=expect(lambda d: d.notes[-1], "not segwork table files, not read: archive/, customers_old.csv, orders.csv")),
    Case("mapping-typo", "a dict key 'customer' is refused with the likely table name",
         lambda _: {"customer": customers(), "subscriptions": subs(BASE_SUBS)}, error=(ValueError, "did you mean 'customers'")),
    # exact duplicate rows (tables without a key)
    Case("duplicate-subscription-row", "the same subscription row twice (open, empty end_date) is refused, not summed twice",
         csv_dir(subscriptions__csv=CSV_SUBS + "1,2024-01-05,,100,month\n"), refused=("subscriptions", None, "duplicate_row")),
    Case("same-subscription-with-id", "two identical subscriptions told apart by a subscription_id both count: MRR 350",
         lambda t: {**frames()(t), "subscriptions": subs([*BASE_SUBS, BASE_SUBS[0]]).assign(subscription_id=[1, 2, 3, 4])},
         check=expect(lambda d: mrr_at(d, "2024-06-01"), 350.0)),
    Case("repeated-order-line", "an order line repeated exactly is two lines of one order (the same product twice): monetary 10",
         frames(transactions=pd.DataFrame({"customer_id": [1, 1], "order_id": [10, 10], "date": ["2024-01-05"] * 2, "amount": [5.0, 5.0]})),
         check=expect(lambda d: tuple(segwork.rfm(d, AS_OF).set_index("customer_id").loc[1, ["frequency", "monetary"]]), (1, 10.0))),
    Case("duplicate-event-rows", "the same event twice at the same time is kept: two events (an event log may repeat)",
         frames(events=pd.DataFrame({"customer_id": [1, 1], "timestamp": ["2024-06-10 09:00:00"] * 2, "event": ["login"] * 2})),
         check=expect(lambda d: float(segwork.engagement(d, AS_OF, window_months=1).set_index("customer_id").events_per_active_month[1]), 2.0)),
    Case("duplicate-market-row", "a market segment listed twice is refused (TAM would count it twice)",
         lambda _: {"market": pd.concat([MARKET_ACCOUNTS.assign(accounts_low=500)] * 2, ignore_index=True)},
         refused=("market", None, "duplicate_row")),
    # market
    Case("market-acv-low-above-high", "market acv_low 900 > acv_high 700", lambda _: {"market": MARKET},
         refused=("market", "acv_low/acv_high", "range_order")),
    Case("market-accounts-low-above-mid", "market accounts_low 1500 > accounts 1000", lambda _: {"market": MARKET_ACCOUNTS},
         refused=("market", "accounts_low/accounts", "range_order")),
]

# -- CLI: `segwork validate <dir>` on bad directories -> exit 1, a one-line cause ------------------
CLI_CASES: list[tuple[str, str, Callable[[Path], Path], str]] = [
    ("cli-duplicate-key", "validate: duplicate customer id -> exit 1, names table and rule",
     csv_dir(customers__csv=CSV_CUSTOMERS + "2,2024-02-11\n"), "rule 'duplicate_key'"),
    ("cli-undecodable", "validate: a file no encoding decodes -> exit 1, says not UTF-8",
     csv_dir(customers__csv=bytes(range(256)) * 40), "not UTF-8"),
    ("cli-empty-dir", "validate: directory without table files -> exit 1, one error line and a hint",
     empty_dir, "holds no segwork table file"),
    ("cli-ragged-row", "validate: a ragged row -> exit 1, names the rule and the line",
     csv_dir(customers__csv=CSV_CUSTOMERS + "4,2024-03-02,x\n"), "rule 'ragged_row': customers.csv: every line must have the header's 2 fields; line 5 has 3"),
    ("cli-misnamed-file", "validate: customer.csv -> exit 1, suggests customers.csv",
     csv_dir(customers__csv=None, files={"customer.csv": CSV_CUSTOMERS}), "did you mean customers.csv?"),
]
