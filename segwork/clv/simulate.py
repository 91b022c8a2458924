"""Transactions drawn from a BG/NBD model with known parameters (planted truth for checks)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from segwork.clv.summary import period_days
from segwork.data.dates import to_date

__all__ = ["simulate_bg_nbd"]


def simulate_bg_nbd(
    n_customers: int,
    params: dict[str, float],
    *,
    start: Any = "2024-01-01",
    acquisition_periods: float = 12.0,
    end: Any = "2024-12-31",
    period: str = "week",
    mean_amount: float = 30.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Transactions (``customer_id, order_id, date, amount``) of customers who follow BG/NBD.

    Each customer's first order falls uniformly in the first ``acquisition_periods`` periods
    after ``start``; while alive they buy at rate lambda ~ Gamma(r, alpha) per period, and after
    each repeat purchase drop out with probability p ~ Beta(a, b).  Purchases stop at ``end``.
    Dates are rounded down to days (so two purchases may share a day).  Amounts follow the
    Gamma-Gamma model with p = 4, q = 4 and v = 3/4 ``mean_amount`` (population mean
    ``mean_amount``).

    Examples
    --------
    >>> from segwork.clv import simulate_bg_nbd
    >>> tx = simulate_bg_nbd(3, {"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 3.0}, seed=1)
    >>> list(tx.columns), tx.customer_id.nunique()
    (['customer_id', 'order_id', 'date', 'amount'], 3)
    """
    unit = period_days(period)
    first_day, last_day = to_date(start, "start"), to_date(end, "end")
    horizon = (last_day - first_day).days / unit
    rng = np.random.default_rng(seed)
    n = int(n_customers)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    drop = rng.beta(params["a"], params["b"], n)
    clock = rng.uniform(0.0, min(acquisition_periods, horizon), n)
    ids, times = [np.arange(n)], [clock.copy()]
    alive = np.ones(n, dtype=bool)
    while alive.any():
        clock[alive] += rng.exponential(1.0 / lam[alive])
        bought = alive & (clock <= horizon)
        ids.append(np.flatnonzero(bought))
        times.append(clock[bought])
        alive = bought & (rng.random(n) >= drop)
    nu = rng.gamma(4.0, 1.0 / (0.75 * mean_amount), n)
    cid = np.concatenate(ids)
    days = np.floor(np.concatenate(times) * unit).astype("int64")
    order = np.lexsort((days, cid))
    cid, days = cid[order], days[order]
    dates = [first_day + dt.timedelta(days=int(d)) for d in days]
    return pd.DataFrame(
        {
            "customer_id": cid + 1,
            "order_id": [f"o{i}" for i in range(len(cid))],
            "date": pd.to_datetime(dates),
            "amount": rng.gamma(4.0, 1.0 / nu[cid]).round(2),
        }
    )
