"""A Stripe Dashboard export folder written from the synthetic SaaS sample, with its truth.

:func:`write_stripe_export` turns :func:`segwork.data.generate.generate_frames` into the CSV files
the Stripe Dashboard writes (``subscriptions.csv``, ``customers.csv``, ``invoices.csv``) and
returns the canonical tables segwork should read from them: loading those tables directly and
loading the folder must give the same metrics.

What the export carries, beside the sample's plan changes, seats and churn:

- trials: a third of the customers start with a 7-30 day trial before their first paid day (the
  Stripe ``Start Date`` and the customer's ``Created`` are the trial's start; the canonical
  signup_date is that day, the canonical start_date the trial's end);
- seats (``Quantity`` > 1), some ``Quantity`` left empty (= 1), ``past_due`` open subscriptions,
  yearly plans written as ``month`` x ``Interval Count`` 12, coupons (ids only);
- cancel at period end: every canceled subscription has ``Canceled At`` before ``Ended At`` (the
  canonical end is Ended At); some open ones are scheduled to end after the export
  (``Cancel At Period End`` with ``Current Period End``, or ``Cancel At``);
- the sample's discount folded into ``Amount`` (canonical discount d -> Amount x (1 - d),
  rounded to cents; the canonical amount is that Amount and carries no discount);
- never-paid subscriptions (``incomplete``, ``incomplete_expired``), one canceled during its trial
  and customers still ``trialing`` at the export (customers without MRR);
- metadata: customer attributes as ``<key> (metadata)`` columns of customers.csv (country as
  ``Address Country``), ``plan (metadata)`` and ``sales_rep (metadata)`` on subscriptions (the
  customers.csv plan wins; sales_rep comes from the latest-starting subscription);
- invoices: the sample's one-off orders as paid invoices without a subscription (the canonical
  transactions), its subscription invoices as paid invoices of a subscription, and a few
  invoices not paid (open, void, draft, uncollectible).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from segwork.data.generate import generate_frames

#: The last day of the sample (and the day of the export).
EXPORT_DAY = pd.Timestamp("2024-12-31")
#: Customers added beside the sample's: never paid, canceled in trial, trialing at the export.
EXTRA_NEVER_PAID = (90001, 90002, 90003)
EXTRA_TRIAL_CANCELED = 90004
EXTRA_TRIALING = (90005, 90006)
ATTRIBUTES = ("region", "industry", "company_size", "plan", "billing_interval",
              "acquisition_channel")
REPS = ("ana", "bo", "chen", "")
#: Left-out counts the reader must report for an export written with the defaults.
NEVER_PAID_ROWS = 4
TRIAL_CANCELED_ROWS = 1
NOT_PAID_INVOICES = {"open": 2, "void": 1, "draft": 1, "uncollectible": 1}

SUBSCRIPTION_HEADER = [
    "id", "Customer ID", "Customer Name", "Customer Email", "Plan", "Quantity", "Currency",
    "Interval", "Interval Count", "Amount", "Status", "Cancellation Reason", "Coupon",
    "Created (UTC)", "Start Date (UTC)", "Current Period Start (UTC)",
    "Current Period End (UTC)", "Trial Start (UTC)", "Trial End (UTC)", "Canceled At (UTC)",
    "Ended At (UTC)", "Cancel At Period End", "Cancel At (UTC)", "plan (metadata)",
    "sales_rep (metadata)",
]
CUSTOMER_HEADER = [
    "id", "Description", "Email", "Name", "Created (UTC)", "Delinquent", "Address Country",
    *(f"{a} (metadata)" for a in ATTRIBUTES),
]
INVOICE_HEADER = [
    "id", "Number", "Customer", "Customer Email", "Amount Due", "Amount Paid", "Status",
    "Date (UTC)", "Subscription", "Currency",
]


def cus(n: int) -> str:
    """The Stripe id of sample customer ``n``."""
    return f"cus_{n}"


def stamp(day: pd.Timestamp | dt.date, rng: np.random.Generator) -> str:
    """A UTC timestamp on ``day`` at a random time, as Stripe writes it."""
    seconds = int(rng.integers(0, 86400))
    return f"{pd.Timestamp(day):%Y-%m-%d} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:" \
        f"{seconds % 60:02d}"


def write_stripe_export(
    folder: str | Path,
    n_customers: int = 300,
    random_state: int = 0,
    *,
    start_header: str = "Start Date (UTC)",
    customers_file: bool = True,
    invoices_file: bool = True,
) -> dict[str, pd.DataFrame]:
    """Write a Stripe export of the sample into ``folder``; the canonical tables it holds.

    Parameters
    ----------
    folder : path
        Created if needed; ``subscriptions.csv``, ``customers.csv`` and ``invoices.csv`` are
        written there.
    n_customers, random_state : int
        Passed to :func:`segwork.data.generate.generate_frames`.
    start_header : str
        The start column's header: ``"Start Date (UTC)"`` or the older ``"Start (UTC)"``.
    customers_file, invoices_file : bool
        Whether to write ``customers.csv`` / ``invoices.csv``.  Without customers.csv the
        canonical customers are signed up on their first subscription's start and have only the
        subscription metadata as attributes.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``customers``, ``subscriptions`` and (with invoices) ``transactions``, as segwork loads
        them (customer ids ``cus_<n>``, dates as ``datetime.date``).
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    frames = generate_frames(n_customers, random_state=random_state)
    rng = np.random.default_rng(random_state + 7919)
    customers = frames["customers"].copy()
    subs = frames["subscriptions"].copy()

    # -- trials: a third of the customers; their first subscription starts at signup
    trial_days = np.where(rng.random(len(customers)) < 1 / 3,
                          rng.choice([7, 14, 30], len(customers)), 0)
    trial = pd.Series(pd.to_timedelta(trial_days, unit="D"), index=customers["customer_id"])
    created = customers["signup_date"] - trial.to_numpy()
    first_sub = ~subs.duplicated("customer_id")
    sub_trial = trial.reindex(subs["customer_id"]).to_numpy()
    sub_trial = np.where(first_sub, sub_trial, pd.Timedelta(0))

    sub_rows: list[dict[str, str]] = []
    canon_subs: list[dict[str, object]] = []
    for i, row in enumerate(subs.itertuples(index=False)):
        n = int(row.customer_id)
        start = pd.Timestamp(row.start_date)
        end = pd.Timestamp(row.end_date) if pd.notna(row.end_date) else None
        length = pd.Timedelta(sub_trial[i])
        raw_start = start - length
        amount = f"{row.amount * (1 - row.discount):.2f}"
        month_x12 = row.billing_interval == "year" and rng.random() < 0.3
        qty = int(row.quantity)
        rec = {
            "id": f"sub_{row.subscription_id}",
            "Customer ID": cus(n),
            "Customer Name": f"Customer {n}",
            "Customer Email": f"c{n}@example.com",
            "Plan": row.plan,
            "Quantity": "" if qty == 1 and rng.random() < 0.3 else str(qty),
            "Currency": "usd",
            "Interval": "month" if month_x12 else row.billing_interval,
            "Interval Count": "12" if month_x12 else "1",
            "Amount": amount,
            "Coupon": "SPRING24" if rng.random() < 0.05 else "",
            "Created (UTC)": stamp(raw_start, rng),
            "Start Date (UTC)": stamp(raw_start, rng),
            "Trial Start (UTC)": stamp(raw_start, rng) if length else "",
            "Trial End (UTC)": stamp(start, rng) if length else "",
            "Cancel At Period End": "false",
            "plan (metadata)": row.plan,
            "sales_rep (metadata)": str(rng.choice(REPS)),
        }
        canon_end = end
        if end is not None:
            canceled_at = max(end - pd.Timedelta(days=int(rng.integers(0, 26))), start)
            rec.update({
                "Status": "canceled",
                "Cancellation Reason": "cancellation_requested",
                "Current Period Start (UTC)": stamp(end - pd.Timedelta(days=30), rng),
                "Current Period End (UTC)": stamp(end, rng),
                "Canceled At (UTC)": stamp(canceled_at, rng),
                "Ended At (UTC)": stamp(end, rng),
            })
        else:
            period_end = EXPORT_DAY + pd.Timedelta(days=int(rng.integers(1, 30)))
            rec.update({
                "Status": "past_due" if rng.random() < 0.1 else "active",
                "Current Period Start (UTC)": stamp(period_end - pd.Timedelta(days=30), rng),
                "Current Period End (UTC)": stamp(period_end, rng),
            })
            u = rng.random()
            if u < 0.08:  # cancels at the end of its paid period, after the export
                rec["Cancel At Period End"] = "true"
                rec["Canceled At (UTC)"] = stamp(EXPORT_DAY - pd.Timedelta(days=3), rng)
                canon_end = period_end
            elif u < 0.12:  # cancellation scheduled on a day
                cancel_at = EXPORT_DAY + pd.Timedelta(days=int(rng.integers(40, 200)))
                rec["Cancel At (UTC)"] = stamp(cancel_at, rng)
                canon_end = cancel_at
        sub_rows.append(rec)
        canon_subs.append({
            "subscription_id": rec["id"],
            "customer_id": cus(n),
            "start_date": start.date(),
            "end_date": None if canon_end is None else canon_end.date(),
            "amount": float(amount),
            "billing_interval": row.billing_interval,
            "quantity": float(qty),
            "plan": row.plan,
            "currency": "USD",
        })

    # -- customers beside the sample's: never paid, canceled in trial, trialing at the export
    extra_customers: list[dict[str, object]] = []

    def extra_customer(n: int, day: pd.Timestamp) -> None:
        extra_customers.append({"customer_id": n, "created": day})

    def extra_sub(n: int, k: int, status: str, start: pd.Timestamp, **fields: str) -> None:
        rec = {
            "id": f"sub_x{n}_{k}", "Customer ID": cus(n), "Customer Name": f"Customer {n}",
            "Customer Email": f"c{n}@example.com", "Plan": "pro", "Quantity": "2",
            "Currency": "usd", "Interval": "month", "Interval Count": "1", "Amount": "60.00",
            "Status": status, "Created (UTC)": stamp(start, rng),
            "Start Date (UTC)": stamp(start, rng), "Cancel At Period End": "false",
            "plan (metadata)": "pro", "sales_rep (metadata)": "dee",
        }
        rec.update(fields)
        sub_rows.append(rec)

    day = pd.Timestamp("2024-04-02")
    for j, n in enumerate(EXTRA_NEVER_PAID):
        extra_customer(n, day + pd.Timedelta(days=10 * j))
        status = "incomplete" if j % 2 == 0 else "incomplete_expired"
        extra_sub(n, 1, status, day + pd.Timedelta(days=10 * j))
    # a second attempt of the first one, and one of a sample customer
    extra_sub(EXTRA_NEVER_PAID[0], 2, "incomplete_expired", day + pd.Timedelta(days=3),
              **{"Ended At (UTC)": stamp(day + pd.Timedelta(days=4), rng)})
    # a sample customer's failed upgrade would change its latest-starting subscription's
    # metadata; the never-paid rows stay on the extra customers
    t0 = pd.Timestamp("2024-03-01")
    extra_customer(EXTRA_TRIAL_CANCELED, t0)
    extra_sub(EXTRA_TRIAL_CANCELED, 1, "canceled", t0, **{
        "Trial Start (UTC)": stamp(t0, rng),
        "Trial End (UTC)": stamp(t0 + pd.Timedelta(days=14), rng),
        "Canceled At (UTC)": stamp(t0 + pd.Timedelta(days=9), rng),
        "Ended At (UTC)": stamp(t0 + pd.Timedelta(days=9), rng),
    })
    for j, n in enumerate(EXTRA_TRIALING):
        t = EXPORT_DAY - pd.Timedelta(days=5 + j)
        trial_end = t + pd.Timedelta(days=14)
        extra_customer(n, t)
        extra_sub(n, 1, "trialing", t, **{
            "Trial Start (UTC)": stamp(t, rng),
            "Trial End (UTC)": stamp(trial_end, rng),
            "Current Period Start (UTC)": stamp(t, rng),
            "Current Period End (UTC)": stamp(trial_end, rng),
        })
        canon_subs.append({
            "subscription_id": f"sub_x{n}_1", "customer_id": cus(n),
            "start_date": trial_end.date(), "end_date": None, "amount": 60.0,
            "billing_interval": "month", "quantity": 2.0, "plan": "pro", "currency": "USD",
        })

    sub_frame = pd.DataFrame(sub_rows).reindex(columns=SUBSCRIPTION_HEADER).fillna("")
    sub_frame = sub_frame.rename(columns={"Start Date (UTC)": start_header})
    sub_frame.to_csv(out / "subscriptions.csv", index=False)

    # -- customers.csv
    extra = pd.DataFrame(extra_customers)
    all_ids = [*customers["customer_id"].astype(int), *extra["customer_id"]]
    all_created = [*created, *extra["created"]]
    attrs = {a: [*customers[a].astype(str), *(["starter"] * len(extra) if a == "plan" else
                                              ["unknown"] * len(extra))] for a in ATTRIBUTES}
    country = [*customers["country"].astype(str), *(["US"] * len(extra))]
    if customers_file:
        cust_frame = pd.DataFrame({
            "id": [cus(n) for n in all_ids],
            "Description": "",
            "Email": [f"c{n}@example.com" for n in all_ids],
            "Name": [f"Customer {n}" for n in all_ids],
            "Created (UTC)": [stamp(d, rng) for d in all_created],
            "Delinquent": "false",
            "Address Country": country,
            **{f"{a} (metadata)": attrs[a] for a in ATTRIBUTES},
        })
        cust_frame.to_csv(out / "customers.csv", index=False)

    # latest-starting subscription's metadata, by (start, created, line)
    meta = sub_frame.assign(
        _start=pd.to_datetime(sub_frame[start_header]),
        _created=pd.to_datetime(sub_frame["Created (UTC)"]),
        _line=np.arange(len(sub_frame)),
    ).sort_values(["Customer ID", "_start", "_created", "_line"])
    latest = meta.drop_duplicates("Customer ID", keep="last").set_index("Customer ID")
    rep = latest["sales_rep (metadata)"].replace("", None)

    ids = [cus(n) for n in all_ids]
    if customers_file:
        canon_customers = pd.DataFrame({
            "customer_id": ids,
            "signup_date": [pd.Timestamp(d).date() for d in all_created],
            **attrs,
            "country": country,
        })
    else:
        first = pd.to_datetime(sub_frame[start_header]).dt.normalize().groupby(
            sub_frame["Customer ID"]).min()
        canon_customers = pd.DataFrame({
            "customer_id": ids,
            "signup_date": [first[i].date() for i in ids],
            "plan": [latest["plan (metadata)"][i] for i in ids],
        })
    canon_customers["sales_rep"] = [rep.get(i) for i in ids]
    canon_customers = canon_customers.astype(object).where(canon_customers.notna(), None)

    tables = {
        "customers": canon_customers,
        "subscriptions": pd.DataFrame(canon_subs),
    }
    if invoices_file:
        tables["transactions"] = _write_invoices(out, frames, subs, rng)
    return tables


def _write_invoices(
    out: Path, frames: dict[str, pd.DataFrame], subs: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    tx = frames["transactions"]
    first_sub = subs.drop_duplicates("customer_id").set_index("customer_id")["subscription_id"]
    one_off = tx["product"] != "subscription"
    rows = []
    for row in tx.itertuples(index=False):
        n = int(row.customer_id)
        paid = f"{row.amount:.2f}"
        rows.append({
            "id": f"in_{row.order_id}", "Number": f"INV-{row.order_id:05d}",
            "Customer": cus(n), "Customer Email": f"c{n}@example.com",
            "Amount Due": paid, "Amount Paid": paid, "Status": "paid",
            "Date (UTC)": stamp(row.date, rng),
            "Subscription": "" if row.product != "subscription" else
            f"sub_{first_sub[row.customer_id]}",
            "Currency": "usd",
        })
    k = 0
    for status, count in NOT_PAID_INVOICES.items():
        for _ in range(count):
            k += 1
            n = int(rng.choice(tx["customer_id"]))
            rows.append({
                "id": f"in_open{k}", "Number": f"INV-X{k}", "Customer": cus(n),
                "Customer Email": f"c{n}@example.com", "Amount Due": "45.00",
                "Amount Paid": "0.00", "Status": status,
                "Date (UTC)": stamp(pd.Timestamp("2024-06-01"), rng), "Subscription": "",
                "Currency": "usd",
            })
    pd.DataFrame(rows, columns=INVOICE_HEADER).to_csv(out / "invoices.csv", index=False)
    kept = tx[one_off]
    return pd.DataFrame({
        "customer_id": [cus(int(n)) for n in kept["customer_id"]],
        "order_id": [f"in_{o}" for o in kept["order_id"]],
        "date": [pd.Timestamp(d).date() for d in kept["date"]],
        "amount": [float(f"{a:.2f}") for a in kept["amount"]],
        "currency": "USD",
    })
