"""The Stripe export reader (segwork.sources.stripe): its rules, by hand and on a whole export.

The whole-export tests write the synthetic sample as a Stripe Dashboard export
(tests/sources/stripe_export.py) and check that loading it gives the metrics of the canonical
tables it was written from.  Float results are compared to 1e-9 relative: DuckDB's parallel sums
are not bit-reproducible (two loads of the same tables differ in the last bits).
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwork
from segwork.data.contract import BILLING_INTERVALS, DataContractError, canonical
from segwork.data.derive import derive_mrr
from segwork.sources import detect_format, read_export, stripe
from segwork.sources.base import Imported, header_of
from tests.sources.checks import assert_names, left_out
from tests.sources.stripe_export import (
    EXTRA_NEVER_PAID,
    EXTRA_TRIAL_CANCELED,
    EXTRA_TRIALING,
    NEVER_PAID_ROWS,
    NOT_PAID_INVOICES,
    TRIAL_CANCELED_ROWS,
    cus,
    write_stripe_export,
)

AS_OF = ("2023-06-30", "2024-03-15", "2024-12-31")

SUB_HEADER = [
    "id",
    "Customer ID",
    "Customer Name",
    "Customer Email",
    "Plan",
    "Quantity",
    "Currency",
    "Interval",
    "Amount",
    "Status",
    "Cancellation Reason",
    "Coupon",
    "Created (UTC)",
    "Start Date (UTC)",
    "Current Period Start (UTC)",
    "Current Period End (UTC)",
    "Trial Start (UTC)",
    "Trial End (UTC)",
    "Canceled At (UTC)",
    "Ended At (UTC)",
]


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def sub(sub_id: str, customer: str, start: str, **fields: str) -> dict[str, str]:
    """A subscriptions.csv row: active, 1 seat of 10.00 usd a month from ``start``."""
    row = {
        "id": sub_id,
        "Customer ID": customer,
        "Customer Name": "Ann Smith",
        "Customer Email": "ann@example.com",
        "Plan": "pro",
        "Quantity": "1",
        "Currency": "usd",
        "Interval": "month",
        "Amount": "10.00",
        "Status": "active",
        "Created (UTC)": start,
        "Start Date (UTC)": start,
    }
    row.update(fields)
    return row


def write(
    folder: Path,
    name: str,
    rows: list[dict[str, str]],
    header: list[str] | None = None,
) -> None:
    columns = list(header or [])
    for r in rows:
        columns += [c for c in r if c not in columns]
    pd.DataFrame(rows, columns=columns).fillna("").to_csv(folder / name, index=False)


def export(
    folder: Path,
    subs: list[dict[str, str]],
    *,
    customers: list[dict[str, str]] | None = None,
    invoices: list[dict[str, str]] | None = None,
) -> Imported:
    write(folder, "subscriptions.csv", subs, SUB_HEADER)
    if customers is not None:
        write(folder, "customers.csv", customers, ["id", "Email", "Name", "Created (UTC)"])
    if invoices is not None:
        write(
            folder,
            "invoices.csv",
            invoices,
            ["id", "Customer", "Amount Paid", "Status", "Date (UTC)", "Subscription", "Currency"],
        )
    return stripe.read(folder)


def monthly(imported: Imported, as_of: str) -> dict[tuple[str, str], float]:
    """(customer, YYYY-MM) -> MRR through as_of, loaded by segwork."""
    data = segwork.load(imported.tables)
    m = segwork.Engine(data).monthly_mrr(dt.date.fromisoformat(as_of)).to_pandas()
    return {(r.customer_id, f"{r.month:%Y-%m}"): float(r.mrr) for r in m.itertuples()}


def refusal(folder: Path, **kw: Any) -> DataContractError:
    with pytest.raises(DataContractError) as info:
        export(folder, **kw)
    return info.value


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(
        a.reset_index(drop=True),
        b.reset_index(drop=True),
        check_exact=False,
        rtol=1e-9,
        atol=1e-9,
    )


METRICS: dict[str, Callable[[segwork.Dataset, str], pd.DataFrame]] = {
    "segment_table": lambda d, a: segwork.segment_table(d, ["plan"], a),
    "cohort_retention": lambda d, a: segwork.cohort_retention(d, a),
    "cohort_nrr_by_country": lambda d, a: segwork.cohort_retention(
        d, a, metric="nrr", by="country"
    ),
    "mrr_movements": lambda d, a: segwork.mrr_movements(d, a),
    "rfm": lambda d, a: segwork.rfm(d, a),
}


# ----------------------------------------------------------------------------------------------
# a whole export: the same metrics as its canonical tables
# ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pd.DataFrame]]:
    folder = tmp_path_factory.mktemp("stripe")
    return folder, write_stripe_export(folder, n_customers=300, random_state=3)


def test_export_reads_as_its_canonical_tables(
    sample: tuple[Path, dict[str, pd.DataFrame]],
) -> None:
    folder, truth = sample
    imported = read_export(folder, "stripe")
    assert sorted(imported.tables) == ["customers", "subscriptions", "transactions"]
    for name, table in truth.items():
        got = imported.tables[name]
        assert list(got.columns) == list(table.columns), name
        assert_same(got.astype(str), table.astype(str))
    assert left_out(imported) == {
        "never paid (incomplete)": NEVER_PAID_ROWS,
        "ended during its trial, never paid": TRIAL_CANCELED_ROWS,
        "subscription invoice: its revenue is in MRR": left_out(imported)[
            "subscription invoice: its revenue is in MRR"
        ],
        **{f"not paid (status '{s}')": n for s, n in NOT_PAID_INVOICES.items()},
    }
    assert left_out(imported)["subscription invoice: its revenue is in MRR"] > 100


@pytest.mark.parametrize("as_of", AS_OF)
def test_export_metrics_equal_canonical(
    sample: tuple[Path, dict[str, pd.DataFrame]], as_of: str
) -> None:
    folder, truth = sample
    direct = segwork.load(truth)
    via_export = segwork.load(read_export(folder, "stripe").tables)
    for name, metric in METRICS.items():
        a, b = metric(direct, as_of), metric(via_export, as_of)
        assert len(a), name
        assert_same(a, b)


def test_load_reads_the_folder_as_stripe(sample: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    folder, truth = sample
    assert "format" in inspect.signature(segwork.load).parameters
    assert detect_format(folder) == "stripe"
    direct = segwork.load(truth)
    for data in (segwork.load(folder), segwork.load(str(folder), format="stripe")):
        assert data.format == "stripe"
        reasons = set(data.left_out["reason"])
        assert {"never paid (incomplete)", "ended during its trial, never paid"} <= reasons
        assert any("not Canceled At" in n for n in data.notes)
        assert_same(
            segwork.mrr_movements(direct, "2024-12-31"), segwork.mrr_movements(data, "2024-12-31")
        )


def test_discount_folded_into_amount(sample: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    """The sample's discount d, given to segwork as a discount, is Amount x (1 - d) in Stripe."""
    from segwork.data.generate import generate_frames

    folder, truth = sample
    gen = generate_frames(300, random_state=3)["subscriptions"]
    gen = gen.assign(subscription_id="sub_" + gen["subscription_id"].astype(str))
    subs = truth["subscriptions"].merge(
        gen[["subscription_id", "amount", "discount"]],
        on="subscription_id",
        how="left",
        suffixes=("_folded", ""),
    )
    assert (subs["discount"] > 0).sum() > 10
    subs["amount"] = subs["amount"].fillna(subs["amount_folded"])  # rows beside the sample
    subs["discount"] = subs["discount"].fillna(0.0)
    discounted = {**truth, "subscriptions": subs.drop(columns="amount_folded")}
    a = segwork.mrr_movements(segwork.load(discounted), "2024-12-31")
    b = segwork.mrr_movements(segwork.load(folder, format="stripe"), "2024-12-31")
    assert_same(a, b)


def test_older_start_header_and_no_customers_file(tmp_path: Path) -> None:
    truth = write_stripe_export(
        tmp_path, n_customers=120, random_state=5, start_header="Start (UTC)", customers_file=False
    )
    assert "Start (UTC)" in header_of(tmp_path / "subscriptions.csv")
    imported = read_export(tmp_path, "stripe")
    assert_same(
        imported.tables["customers"].astype(str).sort_values("customer_id"),
        truth["customers"].astype(str).sort_values("customer_id"),
    )
    assert any("no customers file" in n for n in imported.notes)
    direct, via = segwork.load(truth), segwork.load(imported.tables)
    for as_of in ("2023-09-30", "2024-12-31"):
        for name in ("segment_table", "mrr_movements", "rfm"):
            assert_same(METRICS[name](direct, as_of), METRICS[name](via, as_of))


def test_extra_customers_stay_without_mrr(sample: tuple[Path, dict[str, pd.DataFrame]]) -> None:
    folder, _ = sample
    imported = read_export(folder, "stripe")
    customers = set(imported.tables["customers"]["customer_id"])
    extra = {cus(n) for n in (*EXTRA_NEVER_PAID, EXTRA_TRIAL_CANCELED, *EXTRA_TRIALING)}
    assert extra <= customers
    mrr = monthly(imported, "2024-12-31")
    assert not {c for c, _ in mrr} & extra
    starts = imported.tables["subscriptions"].set_index("customer_id")["start_date"]
    assert all(starts[cus(n)] > dt.date(2024, 12, 31) for n in EXTRA_TRIALING)


# ----------------------------------------------------------------------------------------------
# detection
# ----------------------------------------------------------------------------------------------
def test_detect(tmp_path: Path) -> None:
    assert not stripe.detect(tmp_path)
    (tmp_path / "Subscriptions.CSV").write_text("id,Customer ID,Interval,Status,Amount\n")
    assert stripe.detect(tmp_path)
    assert detect_format(tmp_path) == "stripe"
    (tmp_path / "Subscriptions.CSV").write_text("id,customer,interval,status,amount\n")
    assert not stripe.detect(tmp_path)


def test_file_names_compared_case_insensitively(tmp_path: Path) -> None:
    write(tmp_path, "SUBSCRIPTIONS.csv", [sub("sub_1", "cus_1", "2024-01-05 10:00:00")], SUB_HEADER)
    write(tmp_path, "Customers.csv", [{"id": "cus_1", "Created (UTC)": "2023-12-01 08:00"}])
    imported = stripe.read(tmp_path)
    assert imported.tables["customers"]["signup_date"].tolist() == [dt.date(2023, 12, 1)]
    assert set(imported.encodings) == {"SUBSCRIPTIONS.csv", "Customers.csv"}


def test_two_files_of_one_kind_refused(tmp_path: Path) -> None:
    write(tmp_path, "subscriptions.csv", [sub("sub_1", "cus_1", "2024-01-05")], SUB_HEADER)
    write(tmp_path, "Subscriptions.csv", [sub("sub_1", "cus_1", "2024-01-05")], SUB_HEADER)
    if len(list(tmp_path.iterdir())) == 2:  # a case-sensitive file system
        with pytest.raises(ValueError, match="several"):
            stripe.read(tmp_path)


# ----------------------------------------------------------------------------------------------
# hand-worked cases
# ----------------------------------------------------------------------------------------------
def test_trial_has_no_mrr(tmp_path: Path) -> None:
    imported = export(
        tmp_path,
        [
            sub(
                "sub_1",
                "cus_1",
                "2024-01-10 09:00:00",
                Quantity="2",
                Amount="30.00",
                **{
                    "Trial Start (UTC)": "2024-01-10 09:00:00",
                    "Trial End (UTC)": "2024-02-10 09:00:00",
                },
            )
        ],
    )
    subs = imported.tables["subscriptions"]
    assert subs["start_date"].tolist() == [dt.date(2024, 2, 10)]
    assert monthly(imported, "2024-03-31") == {
        ("cus_1", "2024-02"): 60.0,
        ("cus_1", "2024-03"): 60.0,
    }
    # signup: the customer's life starts with the trial
    assert imported.tables["customers"]["signup_date"].tolist() == [dt.date(2024, 1, 10)]
    assert any("with a trial" in n for n in imported.notes)


def test_cancel_at_period_end_pays_to_ended_at(tmp_path: Path) -> None:
    imported = export(
        tmp_path,
        [
            sub(
                "sub_1",
                "cus_1",
                "2024-01-05 10:00",
                Status="canceled",
                **{
                    "Canceled At (UTC)": "2024-02-10 12:00:00",
                    "Ended At (UTC)": "2024-03-05 10:00:00",
                    "Cancel At Period End": "true",
                    "Current Period End (UTC)": "2024-03-05 10:00:00",
                },
            ),
            # active, to cancel at its period's end (after the export) or on a given day
            sub(
                "sub_2",
                "cus_2",
                "2024-01-05",
                **{
                    "Canceled At (UTC)": "2024-03-20 12:00:00",
                    "Cancel At Period End": "true",
                    "Current Period End (UTC)": "2024-05-05 00:00:00",
                },
            ),
            sub(
                "sub_3",
                "cus_3",
                "2024-01-05",
                **{"Cancel At (UTC)": "2024-04-20 00:00:00", "Cancel At Period End": "false"},
            ),
        ],
    )
    ends = imported.tables["subscriptions"].set_index("subscription_id")["end_date"]
    assert ends.to_dict() == {
        "sub_1": dt.date(2024, 3, 5),
        "sub_2": dt.date(2024, 5, 5),
        "sub_3": dt.date(2024, 4, 20),
    }
    months = monthly(imported, "2024-06-30")
    assert sorted(m for c, m in months if c == "cus_1") == ["2024-01", "2024-02", "2024-03"]
    assert sorted(m for c, m in months if c == "cus_2")[-1] == "2024-05"
    assert sorted(m for c, m in months if c == "cus_3")[-1] == "2024-04"
    assert any("scheduled to end" in n for n in imported.notes)


def test_statuses(tmp_path: Path) -> None:
    imported = export(
        tmp_path,
        [
            sub("sub_1", "cus_1", "2024-01-05", Status="past_due"),
            sub("sub_2", "cus_2", "2024-01-05", Status="incomplete"),
            sub("sub_3", "cus_2", "2024-01-06", Status="incomplete"),
            sub(
                "sub_4",
                "cus_3",
                "2024-01-05",
                Status="incomplete_expired",
                **{"Ended At (UTC)": "2024-01-06 00:00:00"},
            ),
            sub("sub_5", "cus_4", "2024-01-05", Status="frozen"),
            sub("sub_6", "cus_4", "2024-01-05", Status="frozen", Amount="oops"),  # not checked
            sub(
                "sub_7",
                "cus_5",
                "2024-01-05",
                Status="Canceled",
                **{
                    "Trial End (UTC)": "2024-01-19 00:00:00",
                    "Ended At (UTC)": "2024-01-15 00:00:00",
                },
            ),
            sub(
                "sub_8",
                "cus_6",
                "2024-01-05",
                Status="unpaid",
                **{"Current Period Start (UTC)": "2024-03-05 00:00:00"},
            ),
            sub(
                "sub_9",
                "cus_7",
                "2024-01-05",
                Status="paused",
                **{
                    "Trial End (UTC)": "2024-02-05 00:00:00",
                    "Current Period Start (UTC)": "2024-02-05 00:00:00",
                },
            ),
            sub(
                "sub_10",
                "cus_8",
                "2024-12-20",
                Status="trialing",
                **{"Trial End (UTC)": "2025-01-03 00:00:00"},
            ),
            sub("sub_11", "cus_9", "2024-01-05", Quantity="0"),
        ],
    )
    assert left_out(imported) == {
        "never paid (incomplete)": 3,
        "unknown status 'frozen'": 2,
        "ended during its trial, never paid": 2,  # sub_7 canceled, sub_9 paused at trial end
        "quantity 0: no MRR": 1,
    }
    assert {(x.file, x.table) for x in imported.left_out} == {
        ("subscriptions.csv", "subscriptions")
    }
    subs = imported.tables["subscriptions"].set_index("subscription_id")
    assert sorted(subs.index) == ["sub_1", "sub_10", "sub_8"]
    assert subs.loc["sub_8", "end_date"] == dt.date(2024, 3, 5)
    months = monthly(imported, "2024-12-31")
    # the period from Mar 5 was not paid; Mar 1-4 were (a month counts when active a day)
    assert sorted(m for c, m in months if c == "cus_6") == ["2024-01", "2024-02", "2024-03"]
    assert months[("cus_1", "2024-12")] == 10.0  # past_due is open
    assert not [c for c, _ in months if c in ("cus_2", "cus_3", "cus_4", "cus_5", "cus_8")]
    # every customer of the export stays a customer
    assert len(imported.tables["customers"]) == 9
    assert any("unpaid or paused" in n for n in imported.notes)


def test_amount_quantity_interval(tmp_path: Path) -> None:
    header = [*SUB_HEADER, "Interval Count"]
    rows = [
        sub("sub_1", "cus_1", "2024-01-05", Quantity="", Amount="10.00"),
        sub("sub_2", "cus_2", "2024-01-05", Quantity="3", Amount="120.00", Interval="year"),
        sub("sub_3", "cus_3", "2024-01-05", Amount="1.00", Interval="day"),
        sub("sub_4", "cus_4", "2024-01-05", Amount="5.00", Interval="Week"),
        sub("sub_5", "cus_5", "2024-01-05", Amount="90.00", **{"Interval Count": "3"}),
        sub("sub_6", "cus_6", "2024-01-05", Amount="600.00", **{"Interval Count": "12"}),
        sub("sub_7", "cus_7", "2024-01-05", Amount="600.00", **{"Interval Count": "6"}),
        sub(
            "sub_8",
            "cus_8",
            "2024-01-05",
            Amount="10.00",
            Interval="week",
            **{"Interval Count": "2"},
        ),
        sub("sub_9", "cus_9", "2024-01-05", Coupon="SAVE20", Currency="USD"),
    ]
    write(tmp_path, "subscriptions.csv", rows, header)
    imported = stripe.read(tmp_path)
    subs = imported.tables["subscriptions"].set_index("subscription_id")
    assert subs["billing_interval"].to_dict() == {
        "sub_1": "month",
        "sub_2": "year",
        "sub_3": "day",
        "sub_4": "week",
        "sub_5": "quarter",
        "sub_6": "year",
        "sub_7": "month",
        "sub_8": "week",
        "sub_9": "month",
    }
    assert subs["amount"].to_dict() == {
        "sub_1": 10.0,
        "sub_2": 120.0,
        "sub_3": 1.0,
        "sub_4": 5.0,
        "sub_5": 90.0,
        "sub_6": 600.0,
        "sub_7": 100.0,
        "sub_8": 5.0,
        "sub_9": 10.0,
    }
    assert subs.loc["sub_1", "quantity"] == 1.0
    assert subs["currency"].unique().tolist() == ["USD"]
    assert subs["plan"].unique().tolist() == ["pro"]
    mrr = monthly(imported, "2024-02-29")
    expected = {
        "cus_1": 10.0,
        "cus_2": 30.0,
        "cus_3": 365 / 12,
        "cus_4": 5 * 52 / 12,
        "cus_5": 30.0,
        "cus_6": 50.0,
        "cus_7": 100.0,
        "cus_8": 5 * 52 / 12,
    }
    for c, value in expected.items():
        assert mrr[(c, "2024-02")] == pytest.approx(value)
    assert any("Interval Count" in n for n in imported.notes)
    assert any("1 subscription with a coupon" in n for n in imported.notes)


def test_metadata_become_attributes(tmp_path: Path) -> None:
    subs = [
        sub(
            "sub_1",
            "cus_1",
            "2024-01-05",
            **{"tier (metadata)": "silver", "source (metadata)": "ads"},
        ),
        sub(
            "sub_2",
            "cus_1",
            "2024-03-05",
            **{"tier (metadata)": "gold", "source (metadata)": "partner"},
        ),
        sub(
            "sub_3", "cus_2", "2024-02-05", **{"tier (metadata)": "bronze", "source (metadata)": ""}
        ),
        sub("sub_4", "cus_3", "2024-02-05", **{"tier (metadata)": "gold"}),
    ]
    customers = [
        {
            "id": "cus_1",
            "Email": "a@x.io",
            "Name": "A",
            "Created (UTC)": "2024-01-01 00:00:00",
            "Address Country": "DE",
            "tier (metadata)": "platinum",
            "Region Code (metadata)": "EU-1",
            "signup_date (metadata)": "2019",
        },
        {
            "id": "cus_2",
            "Email": "b@x.io",
            "Name": "B",
            "Created (UTC)": "2024-02-01 00:00:00",
            "Address Country": "",
            "tier (metadata)": "",
            "Region Code (metadata)": "",
            "signup_date (metadata)": "",
        },
    ]
    imported = export(tmp_path, subs, customers=customers)
    c = imported.tables["customers"].set_index("customer_id")
    assert list(c.columns) == [
        "signup_date",
        "tier",
        "Region Code",
        "signup_date (metadata)",
        "country",
        "source",
    ]
    assert c.loc["cus_1", "tier"] == "platinum"  # customers.csv wins
    assert c.loc["cus_2", "tier"] == "bronze"  # an empty one there is filled
    assert c.loc["cus_3", "tier"] == "gold"  # not in customers.csv
    assert c.loc["cus_1", "source"] == "partner"  # the latest-starting subscription's
    assert c.loc["cus_2", "source"] is None
    assert c.loc["cus_1", "Region Code"] == "EU-1" and c.loc["cus_2", "Region Code"] is None
    assert c.loc["cus_1", "country"] == "DE"
    assert c.loc["cus_3", "signup_date"] == dt.date(2024, 2, 5)  # added from its subscription
    assert not {"Email", "Name", "email", "name", "Customer Email"} & set(c.columns)
    assert any("personal data" in n for n in imported.notes)
    assert any("not in customers.csv" in n for n in imported.notes)
    data = segwork.load(imported.tables)
    table = segwork.segment_table(data, ["tier"], "2024-06-30", min_customers=1)
    assert set(table["tier"]) == {"platinum", "bronze", "gold"}


def test_invoices(tmp_path: Path) -> None:
    invoices = [
        {
            "id": "in_1",
            "Customer": "cus_1",
            "Amount Paid": "49.50",
            "Status": "paid",
            "Date (UTC)": "2024-02-03 10:00:00",
            "Subscription": "",
            "Currency": "usd",
        },
        {
            "id": "in_2",
            "Customer": "cus_1",
            "Amount Paid": "10.00",
            "Status": "paid",
            "Date (UTC)": "2024-02-05 10:00:00",
            "Subscription": "sub_1",
            "Currency": "usd",
        },
        {
            "id": "in_3",
            "Customer": "cus_1",
            "Amount Paid": "0.00",
            "Status": "open",
            "Date (UTC)": "2024-03-05",
            "Subscription": "sub_1",
            "Currency": "usd",
        },
        {
            "id": "in_4",
            "Customer": "cus_1",
            "Amount Paid": "0.00",
            "Status": "void",
            "Date (UTC)": "not a date",
            "Subscription": "",
            "Currency": "usd",
        },  # not checked
        {
            "id": "in_5",
            "Customer": "cus_1",
            "Amount Paid": "0.00",
            "Status": "void",
            "Date (UTC)": "",
            "Subscription": "",
            "Currency": "usd",
        },
        {
            "id": "in_6",
            "Customer": "cus_9",
            "Amount Paid": "15.00",
            "Status": "paid",
            "Date (UTC)": "2024-04-01 08:00",
            "Subscription": "",
            "Currency": "usd",
        },
        {
            "id": "in_7",
            "Customer": "cus_9",
            "Amount Paid": "0.00",
            "Status": "paid",
            "Date (UTC)": "2024-04-02",
            "Subscription": "",
            "Currency": "usd",
        },
    ]
    imported = export(tmp_path, [sub("sub_1", "cus_1", "2024-01-05")], invoices=invoices)
    tx = imported.tables["transactions"]
    assert tx.to_dict("records") == [
        {
            "customer_id": "cus_1",
            "order_id": "in_1",
            "date": dt.date(2024, 2, 3),
            "amount": 49.5,
            "currency": "USD",
        },
        {
            "customer_id": "cus_9",
            "order_id": "in_6",
            "date": dt.date(2024, 4, 1),
            "amount": 15.0,
            "currency": "USD",
        },
    ]
    assert left_out(imported) == {
        "subscription invoice: its revenue is in MRR": 1,
        "not paid (status 'open')": 1,
        "not paid (status 'void')": 2,
        "paid nothing (Amount Paid 0)": 1,
    }
    assert {x.table for x in imported.left_out} == {"transactions"}
    customers = imported.tables["customers"].set_index("customer_id")["signup_date"]
    assert customers.to_dict() == {"cus_1": dt.date(2024, 1, 5), "cus_9": dt.date(2024, 4, 1)}
    assert any("only from paid one-off invoices" in n for n in imported.notes)
    rfm = segwork.rfm(segwork.load(imported.tables), "2024-06-30")
    assert rfm.set_index("customer_id")["monetary"].to_dict() == {"cus_1": 49.5, "cus_9": 15.0}


def test_no_one_off_invoice_no_transactions(tmp_path: Path) -> None:
    imported = export(
        tmp_path,
        [sub("sub_1", "cus_1", "2024-01-05")],
        invoices=[
            {
                "id": "in_2",
                "Customer": "cus_1",
                "Amount Paid": "10.00",
                "Status": "paid",
                "Date (UTC)": "2024-02-05",
                "Subscription": "sub_1",
                "Currency": "usd",
            }
        ],
    )
    assert "transactions" not in imported.tables
    assert any("no paid one-off invoice" in n for n in imported.notes)
    segwork.load(imported.tables)


# ----------------------------------------------------------------------------------------------
# refusals: file, column, rule, first rows
# ----------------------------------------------------------------------------------------------
def test_missing_file_and_columns(tmp_path: Path) -> None:
    with pytest.raises(DataContractError) as info:
        stripe.read(tmp_path)
    assert (info.value.table, info.value.rule) == ("subscriptions.csv", "missing_file")

    rows = [
        {
            k: v
            for k, v in sub("sub_1", "cus_1", "2024-01-05").items()
            if k not in ("Interval", "Start Date (UTC)")
        }
    ]
    write(
        tmp_path,
        "subscriptions.csv",
        rows,
        [c for c in SUB_HEADER if c not in ("Interval", "Start Date (UTC)")],
    )
    with pytest.raises(DataContractError) as info:
        stripe.read(tmp_path)
    err = info.value
    assert {(b.table, b.column, b.rule) for b in err.breaches} == {
        ("subscriptions.csv", "Interval", "missing_column"),
        ("subscriptions.csv", "Start Date (UTC)", "missing_column"),
    }
    assert "'Start Date (UTC)' or 'Start (UTC)'" in str(err)

    write(tmp_path, "subscriptions.csv", [sub("sub_1", "cus_1", "2024-01-05")], SUB_HEADER)
    write(tmp_path, "invoices.csv", [{"id": "in_1", "Customer": "cus_1", "Status": "paid"}])
    with pytest.raises(DataContractError, match="Amount Paid") as info:
        stripe.read(tmp_path)
    assert info.value.table == "invoices.csv"


@pytest.mark.parametrize(
    ("bad", "column", "rule"),
    [
        ({"Start Date (UTC)": "05/01/2024"}, "Start Date (UTC)", "unparseable_date"),
        (
            {"Ended At (UTC)": "2024-13-01 00:00:00", "Status": "canceled"},
            "Ended At (UTC)",
            "unparseable_date",
        ),
        ({"Trial End (UTC)": "2024-02-01T00:00:00Z"}, "Trial End (UTC)", "unparseable_date"),
        ({"Amount": "$20"}, "Amount", "not_numeric"),
        ({"Amount": "1,200.00"}, "Amount", "not_numeric"),
        ({"Amount": ""}, "Amount", "missing_value"),
        ({"Amount": "-5"}, "Amount", "negative_amount"),
        ({"Quantity": "two"}, "Quantity", "not_numeric"),
        ({"Quantity": "-1"}, "Quantity", "non_positive_quantity"),
        ({"Interval": "fortnight"}, "Interval", "unknown_interval"),
        ({"Interval": ""}, "Interval", "unknown_interval"),
        ({"Customer ID": ""}, "Customer ID", "missing_value"),
        ({"Customer ID": " ", "Status": "incomplete"}, "Customer ID", "missing_value"),
        ({"Status": "canceled"}, "Ended At (UTC)", "missing_value"),
        ({"Start Date (UTC)": ""}, "Start Date (UTC)", "missing_value"),
    ],
)
def test_subscription_refusals(tmp_path: Path, bad: dict[str, str], column: str, rule: str) -> None:
    rows = [sub(f"sub_{i}", f"cus_{i}", "2024-01-05") for i in range(8)]
    for i in (2, 5, 6):
        rows[i].update(bad)
    err = refusal(tmp_path, subs=rows)
    assert_names(err, "subscriptions.csv", column, rule, [4, 7, 8])
    assert set(err.examples.columns) >= {"line", "id", "Customer ID", column}


def test_other_refusals(tmp_path: Path) -> None:
    base = sub("sub_1", "cus_1", "2024-01-05")
    err = refusal(tmp_path, subs=[base, {**base, "id": "sub_2", "Cancel At Period End": "maybe"}])
    assert_names(err, "subscriptions.csv", "Cancel At Period End", "not_boolean", [3])
    err = refusal(tmp_path, subs=[{**base, "Interval Count": "1.5"}])
    assert_names(err, "subscriptions.csv", "Interval Count", "invalid_interval_count", [2])
    err = refusal(tmp_path, subs=[{**base, "Cancel At Period End": "true"}])
    assert_names(err, "subscriptions.csv", "Current Period End (UTC)", "missing_value", [2])
    err = refusal(tmp_path, subs=[{**base, "Status": "unpaid"}])
    assert_names(err, "subscriptions.csv", "Current Period Start (UTC)", "missing_value", [2])
    for f in tmp_path.iterdir():
        f.unlink()
    customers = [
        {"id": "cus_1", "Created (UTC)": "2024-01-01"},
        {"id": "cus_1", "Created (UTC)": "2024-01-02"},
        {"id": "cus_2", "Created (UTC)": "yesterday"},
    ]
    with pytest.raises(DataContractError) as info:
        export(tmp_path, [base], customers=customers)
    rules = {(b.table, b.column, b.rule, b.n_rows) for b in info.value.breaches}
    assert rules == {
        ("customers.csv", "id", "duplicate_key", 2),
        ("customers.csv", "Created (UTC)", "unparseable_date", 1),
    }

    (tmp_path / "customers.csv").unlink()
    paid = {
        "id": "in_1",
        "Customer": "cus_1",
        "Amount Paid": "10.00",
        "Status": "paid",
        "Date (UTC)": "2024-02-01",
        "Subscription": "",
        "Currency": "usd",
    }
    for change, column, rule in [
        ({"Amount Paid": "ten"}, "Amount Paid", "not_numeric"),
        ({"Date (UTC)": "1 Feb 2024"}, "Date (UTC)", "unparseable_date"),
        ({"Customer": ""}, "Customer", "missing_value"),
    ]:
        with pytest.raises(DataContractError) as info:
            export(tmp_path, [base], invoices=[paid, {**paid, "id": "in_2", **change}])
        assert_names(info.value, "invoices.csv", column, rule, [3])


def test_refusal_from_segwork_load(tmp_path: Path) -> None:
    write(
        tmp_path,
        "subscriptions.csv",
        [sub("sub_1", "cus_1", "2024-01-05", Interval="fortnight")],
        SUB_HEADER,
    )
    with pytest.raises(DataContractError, match="unknown_interval") as info:
        segwork.load(tmp_path)
    assert "subscriptions.csv" in str(info.value) and "fortnight" in str(info.value)


# ----------------------------------------------------------------------------------------------
# property: the MRR of one subscription is the hand computation of the rules
# ----------------------------------------------------------------------------------------------
STATUSES = (
    "active",
    "past_due",
    "trialing",
    "canceled",
    "unpaid",
    "paused",
    "incomplete",
    "incomplete_expired",
)
FIRST = dt.date(2023, 1, 1)
AS_OF_P = dt.date(2024, 6, 30)


def month_key(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def hand_mrr(
    status: str,
    start: dt.date,
    trial: int,
    run: int,
    lapse: int,
    cents: int,
    qty: int,
    interval: str,
) -> dict[int, float]:
    """Month index -> MRR by the rules of segwork.sources.stripe, written out by hand."""
    if status in ("incomplete", "incomplete_expired"):
        return {}
    paid_from = start + dt.timedelta(days=trial)
    end = None
    if status == "canceled":
        end = start + dt.timedelta(days=run)
    elif status in ("unpaid", "paused"):
        end = start + dt.timedelta(days=lapse)
    if end is not None and end <= paid_from:
        return {}
    if paid_from > AS_OF_P:
        return {}
    value = cents / 100 * qty / BILLING_INTERVALS[interval]
    last = month_key(AS_OF_P) if end is None else month_key(end - dt.timedelta(days=1))
    return {m: value for m in range(month_key(paid_from), min(last, month_key(AS_OF_P)) + 1)}


@settings(max_examples=25, deadline=None)
@given(
    status=st.sampled_from(STATUSES),
    offset=st.integers(0, 500),
    trial=st.sampled_from([0, 0, 7, 14, 30, 45]),
    run=st.integers(0, 400),
    lapse=st.integers(0, 400),
    cents=st.integers(1, 500_000),
    qty=st.integers(1, 9),
    interval=st.sampled_from(["day", "week", "month", "year"]),
)
def test_mrr_is_the_hand_computation(
    tmp_path_factory: pytest.TempPathFactory,
    status: str,
    offset: int,
    trial: int,
    run: int,
    lapse: int,
    cents: int,
    qty: int,
    interval: str,
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    start = FIRST + dt.timedelta(days=offset)

    def at(days: int) -> str:
        return f"{start + dt.timedelta(days=days):%Y-%m-%d} 13:45:10"

    fields = {
        "Status": status,
        "Amount": f"{cents / 100:.2f}",
        "Quantity": str(qty),
        "Interval": interval,
    }
    if trial:
        fields |= {"Trial Start (UTC)": at(0), "Trial End (UTC)": at(trial)}
    if status == "canceled":
        fields |= {"Canceled At (UTC)": at(0), "Ended At (UTC)": at(run)}
    if status in ("unpaid", "paused"):
        fields |= {"Current Period Start (UTC)": at(lapse)}
    imported = export(folder, [sub("sub_1", "cus_1", at(0), **fields)])
    expected = hand_mrr(status, start, trial, run, lapse, cents, qty, interval)
    if "subscriptions" not in imported.tables:
        assert expected == {}
        assert sum(x.rows for x in imported.left_out) == 1
        return
    subs = canonical("subscriptions", ibis.memtable(imported.tables["subscriptions"]))
    got = derive_mrr(subs, AS_OF_P).to_pandas()
    assert dict(zip(got["month_idx"], got["mrr"], strict=True)) == pytest.approx(expected)


def test_encoding_detected_or_given(tmp_path: Path) -> None:
    rows = [
        sub(f"sub_{i}", f"cus_{i}", "2024-01-05", **{"owner (metadata)": "Åsa Ågren"})
        for i in range(3)
    ]
    frame = pd.DataFrame(rows, columns=[*SUB_HEADER, "owner (metadata)"]).fillna("")
    frame.to_csv(tmp_path / "subscriptions.csv", index=False, encoding="cp1252")
    for imported in (stripe.read(tmp_path), stripe.read(tmp_path, encoding="cp1252")):
        assert imported.encodings == {"subscriptions.csv": "cp1252"}
        assert imported.tables["customers"]["owner"].tolist() == ["Åsa Ågren"] * 3


# ----------------------------------------------------------------------------------------------
# several currencies (docs/metrics.md "Currencies"): planted truth
# ----------------------------------------------------------------------------------------------
def fx_rates(first: str = "2019-01-01", last: str = "2025-12-01") -> pd.DataFrame:
    """Monthly USD rates of EUR and GBP that move every month."""
    months = pd.date_range(first, last, freq="MS")
    i = np.arange(len(months))
    return pd.DataFrame(
        {
            "currency": ["EUR"] * len(months) + ["GBP"] * len(months),
            "month": [m.date().isoformat() for m in months] * 2,
            "rate": np.concatenate([1.08 + 0.05 * np.sin(i / 5), 1.27 + 0.04 * np.cos(i / 7)]),
        }
    )


def test_export_in_three_currencies_with_fx(tmp_path: Path) -> None:
    """A third of the customers pay in EUR or GBP (the same numbers, now in their currency): the
    metrics equal those of the MRR converted by hand at each month's rate, and the bridge is
    exact with its FX adjustment equal to sum x(m-1) (r(m) - r(m-1))."""
    truth = write_stripe_export(tmp_path, n_customers=240, random_state=5)
    subs = pd.read_csv(tmp_path / "subscriptions.csv", dtype=str, keep_default_na=False)
    ids = sorted(subs["Customer ID"].unique())
    foreign = {c: ("eur" if k % 2 else "gbp") for k, c in enumerate(ids[::3])}
    subs["Currency"] = [
        foreign.get(c, cur) for c, cur in zip(subs["Customer ID"], subs["Currency"], strict=True)
    ]
    subs.to_csv(tmp_path / "subscriptions.csv", index=False)
    rates = fx_rates()
    rates.to_csv(tmp_path / "fx.csv", index=False)

    data = segwork.load(tmp_path, base_currency="USD")
    assert data.format == "stripe" and data.currency == "USD" and data.currencies.converts
    assert set(data.currencies.found) == {"USD", "EUR", "GBP"}

    as_of = "2024-12-31"
    # the truth: native MRR from the canonical tables, converted by hand month by month
    native = segwork.monthly_mrr(segwork.load(truth), as_of)
    code = native["customer_id"].map(lambda c: foreign.get(c, "usd").upper())
    rate = rates.assign(month=pd.to_datetime(rates["month"])).set_index(["currency", "month"])[
        "rate"
    ]
    r = [1.0 if k == "USD" else rate[(k, m)] for k, m in zip(code, native["month"], strict=True)]
    expected = native.assign(mrr=native["mrr"] * np.array(r))
    got = segwork.monthly_mrr(data, as_of)
    assert_same(got, expected)

    # segment tables and cohorts equal those of the converted MRR given as a table
    given_mrr = segwork.load(
        {"customers": truth["customers"], "mrr": expected.assign(month=expected["month"].dt.date)}
    )
    for metric in (
        lambda d: segwork.segment_table(d, ["country"], as_of),
        lambda d: segwork.cohort_retention(d, as_of, metric="nrr"),
    ):
        assert_same(metric(data), metric(given_mrr))

    # the bridge: exact, FX adjustment as defined, no expansion from rates alone
    bridge = segwork.mrr_movements(data, as_of)
    moves = (
        bridge.new
        + bridge.reactivation
        + bridge.expansion
        - bridge.contraction
        - bridge.churn
        + bridge.fx_adjustment
    )
    assert (bridge.mrr_start + moves - bridge.mrr_end).abs().max() < 1e-6
    x = native.assign(code=code).set_index(["customer_id", "month"])["mrr"]
    fx_by_month = {}
    for (cust, month), value in x.items():
        k = foreign.get(cust, "usd").upper()
        nxt = month + pd.offsets.MonthBegin(1)
        if k == "USD" or nxt > pd.Timestamp(as_of):
            continue
        fx_by_month[nxt] = fx_by_month.get(nxt, 0.0) + value * (rate[(k, nxt)] - rate[(k, month)])
    got_fx = bridge.set_index("month")["fx_adjustment"]
    want_fx = pd.Series(fx_by_month).reindex(got_fx.index, fill_value=0.0)
    np.testing.assert_allclose(got_fx.to_numpy(), want_fx.to_numpy(), rtol=1e-9, atol=1e-6)
    assert (got_fx != 0).sum() > 12
    # without the rates the export is refused, naming the way out
    (tmp_path / "fx.csv").unlink()
    with pytest.raises(DataContractError, match="fx table") as err:
        segwork.load(tmp_path)
    assert err.value.rule == "mixed_currency"
