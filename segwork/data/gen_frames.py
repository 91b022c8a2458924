"""Deterministic, vectorised synthetic SaaS sample data: the raw tables as pandas DataFrames.

:func:`generate_frames` builds the raw tables of a fictitious B2B SaaS company (customers,
subscriptions, usage events, transactions) plus a synthetic market table, as pandas DataFrames that
follow the input-table contract of ``docs/metrics.md`` ("Input tables"). :func:`make_saas_data`
passes them through
segwork's loader, which derives ``mrr`` from ``subscriptions``. The churn model contains a few known
effects (:data:`PLANTED_EFFECTS`) so that analyses and tests can check that they recover the truth.

Everything is drawn from ``numpy.random.default_rng(random_state)`` (split into one independent
stream per table with ``Generator.spawn``), so the same arguments always give the same frames. The
work is done on whole arrays: the only Python loops run over the handful of plans, features, bands
or product types, never over customers or months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segwork.data.gen_activity import (
    active_months,
    simulate_events,
    simulate_subscriptions,
    simulate_transactions,
)
from segwork.data.gen_customers import draw_customers
from segwork.data.gen_days import DateLike, to_datetime, to_day
from segwork.data.gen_draws import as_object, make_frame
from segwork.data.gen_market import draw_market
from segwork.data.gen_truth import ACQUISITION_CHANNELS, INDUSTRIES, PLANS

__all__ = ["generate_frames"]


def generate_frames(
    n_customers: int = 2000,
    *,
    start: DateLike = "2022-01-01",
    end: DateLike = "2024-12-31",
    random_state: int = 0,
) -> dict[str, pd.DataFrame]:
    """Generate the raw tables of the synthetic SaaS sample as pandas DataFrames.

    The tables, their columns and the planted effects are documented in :func:`make_saas_data`,
    which is this function followed by segwork's loader (that also derives ``mrr``).

    Parameters
    ----------
    n_customers : int, default 2000
        Number of customers (>= 1).
    start, end : str or date-like, default "2022-01-01" and "2024-12-31"
        First and last day of the observation window (inclusive). Nothing is dated after ``end``.
    random_state : int, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives identical frames.

    Returns
    -------
    dict of str to pandas.DataFrame
        Keys ``"customers"``, ``"subscriptions"``, ``"events"``, ``"transactions"``, ``"market"``.

    Raises
    ------
    ValueError
        If ``n_customers < 1`` or ``end`` is before ``start``.

    Examples
    --------
    >>> frames = generate_frames(200, random_state=1)
    >>> sorted(frames)
    ['customers', 'events', 'market', 'subscriptions', 'transactions']
    """
    n = int(n_customers)
    if n < 1:
        raise ValueError(f"n_customers must be >= 1, got {n_customers!r}")
    start_day, end_day = to_day(start), to_day(end)
    if end_day < start_day:
        raise ValueError(f"end ({end!r}) is before start ({start!r})")

    rng = np.random.default_rng(random_state)
    rng_cust, rng_subs, rng_events, rng_tx, rng_market = rng.spawn(5)

    cust = draw_customers(rng_cust, n, start_day, end_day)
    subs, runs = simulate_subscriptions(rng_subs, cust, end_day)
    months = active_months(runs, end_day)
    events = simulate_events(rng_events, cust, months)
    transactions = simulate_transactions(rng_tx, cust, runs, end_day)
    market = draw_market(rng_market)

    customers = make_frame(
        {
            "customer_id": cust["customer_id"],
            "signup_date": to_datetime(cust["signup"]),
            "country": cust["country"],
            "region": cust["region"],
            "industry": as_object(INDUSTRIES, cust["industry"]),
            "company_size": cust["company_size"],
            "plan": as_object(PLANS, cust["plan"]),
            "billing_interval": np.where(cust["annual"], "annual", "monthly").astype(object),
            "acquisition_channel": as_object(ACQUISITION_CHANNELS, cust["channel"]),
        }
    )
    return {
        "customers": customers,
        "subscriptions": subs,
        "events": events,
        "transactions": transactions,
        "market": market,
    }
