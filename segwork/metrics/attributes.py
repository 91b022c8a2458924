"""The population at as_of with its segment criteria: customer columns and derived attributes.

docs/metrics.md "Segmentations and derived attributes": a criterion is a customer column, a
numeric column cut into bins, or a derived attribute (lifecycle stage, engagement, RFM segment,
current and first plan, signup period, feature use).  :func:`customer_attributes` builds them
all in the engine; every metric that takes ``by`` / ``where`` goes through it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import ibis.expr.types as ir

from segwork.engine import Data, engine_for
from segwork.metrics._common import (
    DERIVED_ATTRIBUTES,
    PLAN_ATTRIBUTES,
    Bins,
    Where,
    as_list,
    available_attributes,
    bin_expr,
    engagement_expr,
    event_names,
    lifecycle_expr,
    population,
)
from segwork.metrics.plans import plans_expr
from segwork.metrics.rfm import rfm_expr

__all__ = ["customer_attributes"]


def customer_attributes(
    data: Data,
    as_of: dt.date,
    by: str | Sequence[str] | None = None,
    *,
    where: Where | None = None,
    bins: Bins | None = None,
    lifecycle_edges: Sequence[int] = (30, 180),
    engagement_window: int = 3,
    engagement_levels: int = 3,
) -> tuple[ir.Table, list[str]]:
    """The population at as_of with the ``by`` columns, filtered by ``where``.

    Returns ``(table, by_names)``: ``table`` has ``customer_id, signup_date`` and one column per
    name in ``by`` (derived attributes computed, numeric columns in ``bins`` replaced by their bin
    labels).  ``where`` maps a column (any ``by``-able name) to a value or a list of values, or a
    numeric column to a range ``{"min": a, "max": b}`` (both inclusive, either may be left out;
    applied to the values before any bins; a missing value is in no range).
    Unknown names raise an error listing the available ones; a ``where`` matching nobody raises.
    """
    eng = engine_for(data)
    data = eng.data
    by_names = as_list(by)
    where = dict(where or {})
    bins = dict(bins or {})
    needed = list(dict.fromkeys([*by_names, *where]))
    pop = population(eng, as_of)
    available = None
    for name in needed:
        if (
            name not in pop.columns
            and name not in DERIVED_ATTRIBUTES
            and not name.startswith("uses_")
        ):
            available = available or available_attributes(eng)
            raise ValueError(f"unknown segment column {name!r}; available: {', '.join(available)}")
    for name in bins:
        if name not in pop.columns:
            raise ValueError(f"bins given for {name!r}, which is not a customers column")
        if not pop[name].type().is_numeric():
            raise ValueError(f"bins need a numeric column; {name!r} is {pop[name].type()}")
    t = pop
    if "lifecycle_stage" in needed and "lifecycle_stage" not in pop.columns:
        t = t.mutate(lifecycle_stage=lifecycle_expr(t.signup_date, as_of, lifecycle_edges))
    for name, fmt in (("signup_month", "%Y-%m"), ("signup_year", "%Y")):
        if name in needed and name not in pop.columns:
            t = t.mutate(**{name: t.signup_date.strftime(fmt)})
    if "signup_quarter" in needed and "signup_quarter" not in pop.columns:
        q = t.signup_date.year().cast("string") + "-Q" + t.signup_date.quarter().cast("string")
        t = t.mutate(signup_quarter=q)
    if "engagement" in needed and "engagement" not in pop.columns:
        # its own name: ``eng`` is the engine, which the attributes below are computed on
        level = engagement_expr(
            eng, as_of, window_months=engagement_window, levels=engagement_levels
        ).select("customer_id", "engagement")
        t = t.left_join(level, "customer_id").drop("customer_id_right")
    if "rfm_segment" in needed and "rfm_segment" not in pop.columns:
        r = rfm_expr(eng, as_of).select("customer_id", "rfm_segment")
        t = t.left_join(r, "customer_id").drop("customer_id_right")
    plan_names = [n for n in PLAN_ATTRIBUTES if n in needed and n not in pop.columns]
    if plan_names:
        p = plans_expr(eng, as_of).select("customer_id", *plan_names)
        t = t.left_join(p, "customer_id").drop("customer_id_right")
    uses = [n for n in needed if n.startswith("uses_") and n not in pop.columns]
    if uses:
        features = set(event_names(eng))
        for name in uses:
            feature = name.removeprefix("uses_")
            if feature not in features:
                raise ValueError(
                    f"unknown segment column {name!r}: no event named {feature!r}; events are: "
                    f"{', '.join(sorted(features)) or 'none (no events table)'}"
                )
        ev = data.table("events")
        # dated up to as_of: a plain range on the raw timestamp (no date computed per event)
        ev = ev.filter(ev.timestamp < dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))
        flags = ev.group_by("customer_id").aggregate(
            **{n: (ev.event == n.removeprefix("uses_")).any() for n in uses}
        )
        t = t.left_join(flags, "customer_id").drop("customer_id_right")
        t = t.mutate(**{n: t[n].fill_null(False) for n in uses})
    ranges = {k: v for k, v in where.items() if isinstance(v, Mapping)}
    for name, bounds in ranges.items():  # on the numbers, before any bins
        t = t.filter(_in_range(t[name], name, bounds))
    for name, edges in bins.items():
        t = t.mutate(**{name: bin_expr(t[name], edges)})
    for name, value in where.items():
        if name in ranges:
            continue
        values = list(value) if isinstance(value, list | tuple | set) else [value]
        t = t.filter(t[name].isin(values))
    if where and int(t.count().to_pandas()) == 0:
        raise ValueError(f"where={where} matches no customer signed up by {as_of}")
    keep = ["customer_id", "signup_date", *[n for n in by_names if n not in ("customer_id",)]]
    return t.select(*dict.fromkeys(keep)), by_names


def _in_range(col: ir.Column, name: str, bounds: Mapping[str, Any]) -> ir.BooleanValue:
    """``where={name: {"min": a, "max": b}}``: a <= value <= b (either bound optional)."""
    if not col.type().is_numeric():
        raise ValueError(
            f"where[{name!r}] is a range, which needs a numeric column; {name!r} is "
            f"{col.type()}: list its values instead"
        )
    if not bounds or any(k not in ("min", "max") for k in bounds):
        raise ValueError(f'where[{name!r}]: a range takes "min" and/or "max", got {dict(bounds)}')
    keep = col.notnull()
    for key, v in bounds.items():
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ValueError(f"where[{name!r}]: {key} must be a number, got {v!r}")
        keep &= (col >= v) if key == "min" else (col <= v)
    return keep
