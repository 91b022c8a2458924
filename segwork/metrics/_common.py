"""Shared pieces of the metric core: as_of handling, the population, segment attributes.

Every metric resolves its ``by`` and ``where`` through :func:`customer_attributes`, so a derived
attribute (lifecycle stage, engagement, RFM segment, current / first plan, feature use, numeric
bins) works the same everywhere a customer attribute does (docs/metrics.md "Segmentations and
derived attributes").
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.dataset import Dataset
from segwork.data.derive import month_index, month_index_of

__all__ = [
    "DERIVED_ATTRIBUTES",
    "PLAN_ATTRIBUTES",
    "Bins",
    "Where",
    "attribute_tables",
    "available_attributes",
    "cache_key",
    "customer_attributes",
    "lifecycle_expr",
    "mrr_tables",
    "plan_source",
    "population",
    "to_date",
]

def cache_key(value: Any) -> str:
    """A hashable, order-independent cache key of a ``where`` / ``bins`` mapping (or None).

    >>> cache_key({"b": [1], "a": "x"}) == cache_key({"a": "x", "b": [1]})
    True
    """
    return json.dumps(value, sort_keys=True, default=repr)


#: Derived attributes usable in ``by`` and ``where`` (plus ``uses_<feature>`` for every event name).
DERIVED_ATTRIBUTES: tuple[str, ...] = (
    "lifecycle_stage",
    "engagement",
    "rfm_segment",
    "current_plan",
    "first_plan",
    "signup_month",
    "signup_quarter",
    "signup_year",
)
#: The plan criteria (docs/metrics.md "Current and first plan"), from segwork.metrics.plans.
PLAN_ATTRIBUTES: tuple[str, ...] = ("current_plan", "first_plan")
LIFECYCLE_LABELS = ("onboarding", "growth", "mature")
ENGAGEMENT_LABELS = {
    2: ("low", "high"),
    3: ("low", "medium", "high"),
    4: ("low", "medium", "high", "very high"),
}

Bins = Mapping[str, Sequence[float]]
Where = Mapping[str, Any]


def to_date(value: Any, name: str = "as_of") -> dt.date:
    """A date from a date-like value ("2024-06-30", date, Timestamp), or a clear error."""
    if value is None:
        raise ValueError(
            f"{name} is required (an explicit date, e.g. '2024-12-31'); segwork never "
            "reads today's date"
        )
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{name}={value!r} is not a date (use YYYY-MM-DD)") from err
    if pd.isna(ts):
        raise ValueError(f"{name}={value!r} is not a date (use YYYY-MM-DD)")
    return ts.date()


def population(data: Dataset, as_of: dt.date) -> ir.Table:
    """Customers with ``signup_date <= as_of``: the population at as_of (docs/metrics.md
    "Conventions").

    Raises a clear error when as_of is before every signup.
    """
    customers = data.table("customers")
    first = data.first_signup  # remembered per Dataset: no query on later calls
    if first > as_of:
        raise ValueError(
            f"as_of={as_of} is before all data: the first customer signed up on {first}"
        )
    pop = customers.filter(customers.signup_date <= as_of)
    return pop


def _event_names(data: Dataset) -> list[str]:
    if not data.has("events"):
        return []
    ev = data.table("events")
    return sorted(str(x) for x in ev.select("event").distinct().to_pandas()["event"].dropna())


def available_attributes(data: Dataset) -> list[str]:
    """Every name usable in ``by``/``where``: customer columns, derived attributes, feature use."""
    base = [c for c in data.table("customers").columns if c not in ("customer_id", "signup_date")]
    derived = [a for a in DERIVED_ATTRIBUTES if a not in base]
    if not data.has("events"):
        derived.remove("engagement")
    if not data.has("transactions"):
        derived.remove("rfm_segment")
    if plan_source(data) is None:
        derived = [a for a in derived if a not in PLAN_ATTRIBUTES]
    uses = [f"uses_{e}" for e in _event_names(data)]
    return base + derived + uses


def plan_source(data: Dataset) -> str | None:
    """The table ``current_plan`` / ``first_plan`` and plan moves read the plan from.

    ``"mrr"`` when an ``mrr`` table is given with a ``plan`` column, else ``"subscriptions"``
    when they have a ``plan`` column, else None (docs/metrics.md "Current and first plan").

    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]})
    >>> mrr = pd.DataFrame({"customer_id": [1], "month": ["2024-01-01"], "mrr": [10.0],
    ...     "plan": ["pro"]})
    >>> plan_source(segwork.load({"customers": customers, "mrr": mrr}))
    'mrr'
    >>> print(plan_source(segwork.load({"customers": customers, "mrr": mrr.drop(columns="plan")})))
    None
    """
    if data.has("mrr") and not data.mrr_derived and "plan" in data.table("mrr").columns:
        return "mrr"
    if data.has("subscriptions") and "plan" in data.table("subscriptions").columns:
        return "subscriptions"
    return None


def mrr_tables(data: Dataset) -> list[str]:
    """The table the MRR is read from: ``["mrr"]`` when given, ``["subscriptions"]`` when
    derived from them, ``[]`` when neither is there."""
    if not data.has("mrr"):
        return []
    return ["subscriptions"] if data.mrr_derived else ["mrr"]


def attribute_tables(data: Dataset, names: Iterable[str]) -> list[str]:
    """The tables besides ``customers`` that the ``by`` / ``where`` attributes ``names`` read.

    A customer column reads only ``customers``; ``engagement`` reads ``events`` and the MRR
    (:func:`mrr_tables`), ``uses_<feature>`` reads ``events``, ``rfm_segment`` reads
    ``transactions``, ``current_plan`` / ``first_plan`` the table of :func:`plan_source`.
    Sorted names; for a page that reports the rows it sets aside
    (:meth:`segwork.Dataset.set_aside`) only for the tables it reads.

    >>> import pandas as pd, segwork
    >>> data = segwork.load({"customers": pd.DataFrame({"customer_id": [1],
    ...     "signup_date": ["2024-01-01"], "plan": ["pro"]})})
    >>> attribute_tables(data, ["plan", "lifecycle_stage", "uses_api", "rfm_segment"])
    ['events', 'transactions']
    """
    columns = set(data.table("customers").columns) if data.has("customers") else set()
    out: set[str] = set()
    for name in names:
        if name in columns:
            continue
        if name == "engagement":
            out.update(("events", *mrr_tables(data)))
        elif name.startswith("uses_"):
            out.add("events")
        elif name == "rfm_segment":
            out.add("transactions")
        elif name in PLAN_ATTRIBUTES:
            out.update(filter(None, [plan_source(data)]))
    return sorted(out)


def as_list(by: str | Sequence[str] | None) -> list[str]:
    """``by`` as a list of column names (a single string is one column)."""
    if by is None:
        return []
    if isinstance(by, str):
        return [by]
    out = list(by)
    if len(set(out)) != len(out):
        raise ValueError(f"by={out} names a column twice")
    return out


def lifecycle_expr(
    signup: ir.DateValue, as_of: dt.date, edges: Sequence[int] = (30, 180)
) -> ir.StringValue:
    """Lifecycle stage by tenure in days at as_of: onboarding 0-30, growth 31-180, mature 181+."""
    lo, hi = _check_edges(edges, "lifecycle edges", n=2)
    tenure = _days_between(signup, as_of)
    return ibis.cases(
        (tenure <= lo, LIFECYCLE_LABELS[0]),
        (tenure <= hi, LIFECYCLE_LABELS[1]),
        else_=LIFECYCLE_LABELS[2],
    )


def _days_between(d: ir.DateValue, as_of: dt.date) -> ir.IntegerValue:
    return ibis.literal(as_of).delta(d, unit="day")


def _check_edges(edges: Sequence[float], what: str, n: int | None = None) -> list[float]:
    vals = list(edges)
    if n is not None and len(vals) != n:
        raise ValueError(f"{what} must have {n} values, got {vals}")
    if len(vals) < 1 or any(not math.isfinite(float(v)) for v in vals):
        raise ValueError(f"{what} must be finite numbers, got {vals}")
    if any(b <= a for a, b in itertools.pairwise(vals)):
        raise ValueError(f"{what} must be strictly increasing, got {vals}")
    return vals


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the right-closed bins ``(-inf, e0], (e0, e1], ..., (en, inf)``."""
    fmt = [f"{e:g}" for e in edges]
    labels = [f"<= {fmt[0]}"]
    labels += [f"({a}, {b}]" for a, b in itertools.pairwise(fmt)]
    labels.append(f"> {fmt[-1]}")
    return labels


def bin_expr(col: ir.NumericValue, edges: Sequence[float]) -> ir.StringValue:
    """Right-closed bins of a numeric column, labelled by :func:`bin_labels` (null stays null)."""
    vals = _check_edges(edges, "bin edges")
    labels = bin_labels(vals)
    cases = [(col <= e, lab) for e, lab in zip(vals, labels, strict=False)]
    return ibis.ifelse(col.isnull(), ibis.null("string"), ibis.cases(*cases, else_=labels[-1]))


def engagement_expr(
    data: Dataset, as_of: dt.date, *, window_months: int = 3, levels: int = 3
) -> ir.Table:
    """``customer_id, events_per_active_month, engagement`` over the trailing window.

    docs/metrics.md "Engagement": events per active month over a trailing window, cut into levels
    by quantile.

    The window is the ``window_months`` calendar months ending with as_of's month.  Customers with
    no active month in the window have no level (null).  Levels are quantiles of the rate over the
    customers that have one (percent rank, ties share a level): "low" < "medium" < "high" for 3.
    """
    if levels not in ENGAGEMENT_LABELS:
        raise ValueError(f"engagement levels must be one of {sorted(ENGAGEMENT_LABELS)}")
    a = month_index_of(as_of)
    lo = a - window_months + 1
    mrr = data.monthly_mrr(as_of)
    recent = mrr.filter(mrr.month_idx >= lo)
    # one row per customer and month (the mrr table's key): a count, not a distinct count
    active = recent.group_by("customer_id").aggregate(active_months=recent.count())
    ev = data.table("events", needed_for="engagement")
    ev = ev.filter(ev.timestamp.date() <= as_of)
    ev = ev.filter(month_index(ev.timestamp.date()) >= lo)
    counts = ev.group_by("customer_id").aggregate(n_events=ev["count"].sum())
    j = active.left_join(counts, "customer_id")
    rate = j.n_events.fill_null(0).cast("float64") / j.active_months
    j = j.select(customer_id=j.customer_id, rate=rate)
    pr = ibis.percent_rank().over(order_by=j.rate)
    labels = ENGAGEMENT_LABELS[levels]
    level = ibis.least((pr * levels).floor().cast("int64"), levels - 1)
    return j.select(
        "customer_id",
        events_per_active_month=j.rate,
        engagement=ibis.cases(*((level == i, lab) for i, lab in enumerate(labels))),
    )


def customer_attributes(
    data: Dataset,
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
    labels).  ``where`` maps a column (any ``by``-able name) to a value or a list of values.
    Unknown names raise an error listing the available ones; a ``where`` matching nobody raises.
    """
    by_names = as_list(by)
    where = dict(where or {})
    bins = dict(bins or {})
    needed = list(dict.fromkeys([*by_names, *where]))
    pop = population(data, as_of)
    available = None
    for name in needed:
        if (
            name not in pop.columns
            and name not in DERIVED_ATTRIBUTES
            and not name.startswith("uses_")
        ):
            available = available or available_attributes(data)
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
        eng = engagement_expr(
            data, as_of, window_months=engagement_window, levels=engagement_levels
        ).select("customer_id", "engagement")
        t = t.left_join(eng, "customer_id").drop("customer_id_right")
    if "rfm_segment" in needed and "rfm_segment" not in pop.columns:
        from segwork.metrics.rfm import rfm_expr

        r = rfm_expr(data, as_of).select("customer_id", "rfm_segment")
        t = t.left_join(r, "customer_id").drop("customer_id_right")
    plan_names = [n for n in PLAN_ATTRIBUTES if n in needed and n not in pop.columns]
    if plan_names:
        from segwork.metrics.plans import plans_expr

        p = plans_expr(data, as_of).select("customer_id", *plan_names)
        t = t.left_join(p, "customer_id").drop("customer_id_right")
    uses = [n for n in needed if n.startswith("uses_") and n not in pop.columns]
    if uses:
        features = set(_event_names(data))
        for name in uses:
            feature = name.removeprefix("uses_")
            if feature not in features:
                raise ValueError(
                    f"unknown segment column {name!r}: no event named {feature!r}; events are: "
                    f"{', '.join(sorted(features)) or 'none (no events table)'}"
                )
        ev = data.table("events")
        ev = ev.filter(ev.timestamp.date() <= as_of)
        flags = ev.group_by("customer_id").aggregate(
            **{n: (ev.event == n.removeprefix("uses_")).any() for n in uses}
        )
        t = t.left_join(flags, "customer_id").drop("customer_id_right")
        t = t.mutate(**{n: t[n].fill_null(False) for n in uses})
    for name, edges in bins.items():
        t = t.mutate(**{name: bin_expr(t[name], edges)})
    for name, value in where.items():
        values = list(value) if isinstance(value, list | tuple | set) else [value]
        t = t.filter(t[name].isin(values))
    if where and int(t.count().to_pandas()) == 0:
        raise ValueError(f"where={where} matches no customer signed up by {as_of}")
    keep = ["customer_id", "signup_date", *[n for n in by_names if n not in ("customer_id",)]]
    return t.select(*dict.fromkeys(keep)), by_names
