"""The activity of the synthetic sample's customers: subscriptions (plan and seat changes, churn,
reactivation), active months, usage events and transactions (invoices and one-off orders)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segwork.data.derive import positions_in_runs
from segwork.data.gen_days import (
    NO_END,
    add_months,
    add_years,
    days_in_month,
    first_day_of,
    month_of,
    to_datetime,
    year_of,
)
from segwork.data.gen_draws import as_object, make_frame, uniform_int
from segwork.data.gen_truth import (
    ANNUAL_PRICE_MONTHS,
    FEATURES,
    LIST_PRICES,
    PLANS,
    PLANTED_EFFECTS,
)

__all__ = [
    "active_months",
    "simulate_events",
    "simulate_subscriptions",
    "simulate_transactions",
]

# Sampling parameters (not part of the documented truth beyond the docstring of make_saas_data)
_FEATURE_RATE = np.array([20.0, 6.0, 8.0, 40.0, 10.0, 3.0])  # mean monthly uses per sqrt(seat)
_MAX_PLAN_CHANGE_DELAY, _MAX_SEAT_CHANGE_DELAY = 12, 24  # months after signup (uniform from 1)
_REACTIVATION_EXTRA_GAP_P = 0.35  # gap = 2 + Geometric(p) - 1 months
# one-off orders: product -> (P(order | plan) for starter/pro/enterprise, median amount by plan)
_ONE_OFF: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "onboarding": ((0.01, 0.05, 0.30), (500.0, 1500.0, 5000.0)),
    "training": ((0.005, 0.02, 0.15), (300.0, 800.0, 2500.0)),
    "addon": ((0.02, 0.04, 0.06), (99.0, 249.0, 599.0)),
}
_ONBOARDING_WINDOW_DAYS = 30


def _run_end(
    last_start: np.ndarray,
    annual: np.ndarray,
    nominal_end: np.ndarray,
) -> np.ndarray:
    """End day of a run: monthly = nominal end; annual = first anniversary of ``last_start`` on or
    after the nominal end (annual terms end only at anniversaries)."""
    k = np.maximum(year_of(nominal_end) - year_of(last_start), 1)
    candidate = add_years(last_start, k)
    k = k + (candidate < nominal_end)
    return np.where(annual, add_years(last_start, k), nominal_end)


def _nominal_end(
    rng: np.random.Generator,
    start: np.ndarray,
    hazard: np.ndarray,
    renewal: np.ndarray,
    annual: np.ndarray,
) -> np.ndarray:
    """Churn day of a run starting on ``start`` before plan/seat changes are taken into account.

    Monthly: the run lasts T ~ Geometric(hazard) calendar months (the start month is the first), and
    the customer cancels on a uniform day of month T (end_date in (first day, first day of next
    month]).
    Annual: K ~ Geometric(renewal churn) terms; end = start + K years.
    """
    m0 = month_of(start)
    t = rng.geometric(hazard)
    last_month = m0 + t - 1
    lo = np.maximum(start, first_day_of(last_month))
    monthly_end = lo + uniform_int(rng, np.ones_like(lo), first_day_of(last_month + 1) - lo)
    years = rng.geometric(renewal)
    annual_end = add_years(start, years)
    return np.where(annual, annual_end, monthly_end)


def simulate_subscriptions(
    rng: np.random.Generator, cust: dict[str, Any], end_day: int
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    n = cust["n"]
    eff = PLANTED_EFFECTS
    signup, plan0, annual, q0 = cust["signup"], cust["plan"], cust["annual"], cust["quantity"]
    hazard, renewal = cust["hazard"], cust["renewal_churn"]
    s_month = month_of(signup)
    end_month = int(month_of(np.array([end_day]))[0])

    nominal = _nominal_end(rng, signup, hazard, renewal, annual)

    # --- scheduled plan change (first day of a month, 1..12 months after the signup month)
    up_p = np.array([eff["upgrade_probability"][p] for p in PLANS])[plan0]
    down_p = np.array([eff["downgrade_probability"][p] for p in PLANS])[plan0]
    u = rng.random(n)
    upgrade, downgrade = u < up_p, (u >= up_p) & (u < up_p + down_p)
    jump = np.where(rng.random(n) < 0.1, 2, 1)  # starter -> enterprise now and then
    new_plan = np.where(upgrade, np.minimum(plan0 + jump, 2), np.where(downgrade, plan0 - 1, plan0))
    p_month = s_month + uniform_int(rng, np.ones(n, np.int64), np.full(n, _MAX_PLAN_CHANGE_DELAY))
    # --- scheduled seat change (1..24 months after the signup month), 75 % up / 25 % down
    seat_change = rng.random(n) < eff["seat_change_probability"]
    q_month = s_month + uniform_int(rng, np.ones(n, np.int64), np.full(n, _MAX_SEAT_CHANGE_DELAY))
    q_month = np.where(q_month == p_month, q_month + 1, q_month)
    factor = np.where(rng.random(n) < 0.75, rng.uniform(1.2, 2.0, n), rng.uniform(0.4, 0.9, n))
    q1 = np.maximum(np.round(q0 * factor), 1).astype(np.int64)
    q1 = np.where(q1 == q0, q0 + 1, q1)

    inf = np.iinfo(np.int64).max // 8
    keep_p = (upgrade | downgrade) & (first_day_of(p_month) < nominal) & (p_month <= end_month)
    keep_q = seat_change & (first_day_of(q_month) < nominal) & (q_month <= end_month)
    pm = np.where(keep_p, p_month, inf)
    qm = np.where(keep_q, q_month, inf)
    first = np.minimum(pm, qm)
    second = np.where(keep_p & keep_q, np.maximum(pm, qm), inf)
    has1, has2 = first < inf, second < inf
    first_day = np.where(has1, first_day_of(np.where(has1, first, 0)), 0)
    second_day = np.where(has2, first_day_of(np.where(has2, second, 0)), 0)
    last_start = np.where(has2, second_day, np.where(has1, first_day, signup))
    run1_end = _run_end(last_start, annual, nominal)
    final_plan = np.where(keep_p, new_plan, plan0)
    final_q = np.where(keep_q, q1, q0)

    ids = cust["customer_id"]
    rows_a = {
        "idx": np.arange(n),
        "start": signup,
        "end": np.where(has1, first_day, run1_end),
        "plan": plan0,
        "quantity": q0,
    }
    i1 = np.flatnonzero(has1)
    rows_b = {
        "idx": i1,
        "start": first_day[i1],
        "end": np.where(has2, second_day, run1_end)[i1],
        "plan": np.where(pm == first, new_plan, plan0)[i1],
        "quantity": np.where(qm == first, q1, q0)[i1],
    }
    i2 = np.flatnonzero(has2)
    rows_c = {
        "idx": i2,
        "start": second_day[i2],
        "end": run1_end[i2],
        "plan": final_plan[i2],
        "quantity": final_q[i2],
    }

    # --- reactivation: a new subscription after >= 2 fully inactive months
    churned = run1_end <= end_day
    back = churned & (rng.random(n) < eff["reactivation_probability"])
    last_active = month_of(run1_end - 1)
    gap = eff["min_reactivation_gap_months"] + rng.geometric(_REACTIVATION_EXTRA_GAP_P, n) - 1
    r_month = last_active + 1 + gap
    r_day = uniform_int(rng, np.zeros(n, np.int64), days_in_month(r_month) - 1)
    r_start = first_day_of(r_month) + r_day
    back &= r_start <= end_day
    ir = np.flatnonzero(back)
    r_end = _nominal_end(rng, r_start[ir], hazard[ir], renewal[ir], annual[ir])
    rows_r = {
        "idx": ir,
        "start": r_start[ir],
        "end": r_end,
        "plan": final_plan[ir],
        "quantity": final_q[ir],
    }

    parts = [rows_a, rows_b, rows_c, rows_r]
    idx = np.concatenate([p["idx"] for p in parts])
    start_d = np.concatenate([p["start"] for p in parts])
    end_d = np.concatenate([p["end"] for p in parts])
    plan = np.concatenate([p["plan"] for p in parts])
    qty = np.concatenate([p["quantity"] for p in parts])
    order = np.lexsort((start_d, idx))
    idx, start_d, end_d = idx[order], start_d[order], end_d[order]
    plan, qty = plan[order], qty[order]
    end_d = np.where(end_d > end_day, NO_END, end_d)
    is_annual = annual[idx]
    price = np.array([LIST_PRICES[p] for p in PLANS])[plan]
    amount = np.where(is_annual, price * ANNUAL_PRICE_MONTHS, price)

    subs = make_frame(
        {
            "subscription_id": np.arange(1, len(idx) + 1, dtype=np.int64),
            "customer_id": ids[idx],
            "plan": as_object(PLANS, plan),
            "billing_interval": np.where(is_annual, "year", "month").astype(object),
            "start_date": to_datetime(start_d),
            "end_date": to_datetime(end_d),
            "amount": amount.astype(np.float64),
            "quantity": qty.astype(np.int64),
            "currency": np.full(len(idx), "USD", dtype=object),
            "discount": cust["discount"][idx].astype(np.float64),
        }
    )
    # runs = unbroken stretches of activity (first run + optional reactivation), end exclusive
    run_idx = np.concatenate([np.arange(n), ir])
    run_start = np.concatenate([signup, r_start[ir]])
    run_end = np.concatenate([run1_end, r_end])
    runs = {
        "idx": run_idx,
        "start": run_start,
        "end": np.where(run_end > end_day, NO_END, run_end),
        # rows of the subscriptions frame, for invoices
        "sub_idx": idx,
        "sub_start": start_d,
        "sub_end": end_d,
        "sub_annual": is_annual,
        "sub_billed": amount * qty * (1.0 - cust["discount"][idx]),
    }
    return subs, runs


def active_months(runs: dict[str, np.ndarray], end_day: int) -> dict[str, np.ndarray]:
    """Customer x month rows of activity (active months of docs/metrics.md "MRR"), with the active
    day range."""
    last_day = np.minimum(runs["end"] - 1, end_day)
    m0 = month_of(runs["start"])
    m1 = month_of(last_day)
    n_months = m1 - m0 + 1
    rep = np.repeat(np.arange(len(m0)), n_months)
    offset = positions_in_runs(n_months)
    month = m0[rep] + offset
    lo = np.maximum(first_day_of(month), runs["start"][rep])
    hi = np.minimum(first_day_of(month + 1) - 1, last_day[rep])
    return {"idx": runs["idx"][rep], "month": month, "lo": lo, "hi": hi}


def simulate_events(
    rng: np.random.Generator, cust: dict[str, Any], months: dict[str, np.ndarray]
) -> pd.DataFrame:
    idx = months["idx"]
    # one row per (active customer-month, adopted feature), in customer, month, feature order
    row, feat = np.nonzero(cust["adopted"][idx])
    c = idx[row]
    rate = _FEATURE_RATE[None, :] * (cust["engagement"] * np.sqrt(cust["quantity"]))[:, None]
    count = rng.poisson(rate.ravel()[c * len(FEATURES) + feat])
    count += 1
    del rate
    # a uniform day within the active days of the month (spans are at most 31 days)
    span = (months["hi"] - months["lo"] + 1).astype(np.float32)
    offset = rng.random(len(row), dtype=np.float32)
    offset *= span[row]
    day = months["lo"][row]
    day += np.minimum(offset.astype(np.int64), (span[row] - 1).astype(np.int64))
    del offset, span, row
    return make_frame(
        {
            "customer_id": cust["customer_id"][c],
            "timestamp": to_datetime(day),
            "event": as_object(FEATURES, feat),
            "count": count.astype(np.int64, copy=False),
        }
    )


def simulate_transactions(
    rng: np.random.Generator,
    cust: dict[str, Any],
    runs: dict[str, np.ndarray],
    end_day: int,
) -> pd.DataFrame:
    # --- invoices: one per billing period start within [start_date, min(end_date, end])
    s_start, s_end, s_annual = runs["sub_start"], runs["sub_end"], runs["sub_annual"]
    limit = np.minimum(s_end - 1, end_day)  # last billable day
    month_span = month_of(limit) - month_of(s_start)
    n_periods = np.where(s_annual, month_span // 12 + 1, month_span + 1)
    rep = np.repeat(np.arange(len(s_start)), n_periods)
    k = positions_in_runs(n_periods)
    inv_day = add_months(s_start[rep], np.where(s_annual[rep], 12 * k, k))
    ok = inv_day <= limit[rep]
    rep, inv_day = rep[ok], inv_day[ok]
    inv_cust = runs["sub_idx"][rep]
    inv_amount = np.round(runs["sub_billed"][rep], 2)
    inv_product = np.zeros(len(rep), dtype=np.int64)

    # --- one-off orders during the first run
    n = cust["n"]
    plan = cust["plan"]
    run1_last = np.minimum(runs["end"][:n] - 1, end_day)  # runs[:n] are the first runs, by customer
    signup = cust["signup"]
    days, custs, amounts, products = [inv_day], [inv_cust], [inv_amount], [inv_product]
    for j, (probs, medians) in enumerate(_ONE_OFF.values(), start=1):
        has = rng.random(n) < np.asarray(probs)[plan]
        i = np.flatnonzero(has)
        hi = run1_last[i]
        if j == 1:  # onboarding: within the first 30 days
            hi = np.minimum(hi, signup[i] + _ONBOARDING_WINDOW_DAYS)
        days.append(uniform_int(rng, signup[i], hi))
        custs.append(i)
        noise = np.exp(rng.normal(0.0, 0.3, len(i)))
        amounts.append(np.round(np.asarray(medians)[plan[i]] * noise, 2))
        products.append(np.full(len(i), j, dtype=np.int64))

    day = np.concatenate(days)
    c = np.concatenate(custs)
    amount = np.concatenate(amounts)
    product = np.concatenate(products)
    order = np.lexsort((product, c, day))
    names = ("subscription", *_ONE_OFF)
    return make_frame(
        {
            "customer_id": cust["customer_id"][c[order]],
            "order_id": np.arange(1, len(order) + 1, dtype=np.int64),
            "date": to_datetime(day[order]),
            "amount": amount[order].astype(np.float64),
            "product": as_object(names, product[order]),
        }
    )
