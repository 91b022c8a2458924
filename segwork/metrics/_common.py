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
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index_of, month_start_of
from segwork.engine import Data, engine_for
from segwork.engine.keys import CacheKey
from segwork.metrics.stats import safe_ratio

__all__ = [
    "DERIVED_ATTRIBUTES",
    "PLAN_ATTRIBUTES",
    "Bins",
    "Where",
    "add_shares",
    "as_list",
    "attribute_tables",
    "available_attributes",
    "bin_expr",
    "bin_labels",
    "cache_key",
    "check_edges",
    "check_segment_params",
    "days_between",
    "engagement_expr",
    "event_names",
    "lifecycle_expr",
    "mrr_tables",
    "plan_source",
    "population",
    "rank_segments",
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


def population(data: Data, as_of: dt.date) -> ir.Table:
    """Customers with ``signup_date <= as_of``: the population at as_of (docs/metrics.md
    "Conventions").

    Raises a clear error when as_of is before every signup.
    """
    eng = engine_for(data)
    data = eng.data
    customers = data.table("customers")
    first = data.first_signup  # remembered per Dataset: no query on later calls
    if first > as_of:
        raise ValueError(
            f"as_of={as_of} is before all data: the first customer signed up on {first}"
        )
    pop = customers.filter(customers.signup_date <= as_of)
    return pop


@dataclass(frozen=True)
class EventNames(CacheKey):
    """The distinct event names of the events table (as_of-independent)."""


def event_names(data: Data) -> list[str]:
    """The distinct names of the ``events`` table, sorted (the ``uses_<event>`` attributes); one
    query per engine, then kept (a page asks for them with every list of criteria)."""
    eng = engine_for(data)
    data = eng.data
    if not data.has("events"):
        return []
    ev = data.table("events")

    def build() -> list[str]:
        names = ev.select("event").distinct().to_pandas()["event"].dropna()
        return sorted(str(x) for x in names)

    return list(eng.value(EventNames(), build))


def available_attributes(data: Data) -> list[str]:
    """Every name usable in ``by``/``where``: customer columns, derived attributes, feature use."""
    eng = engine_for(data)
    data = eng.data
    base = [c for c in data.table("customers").columns if c not in ("customer_id", "signup_date")]
    derived = [a for a in DERIVED_ATTRIBUTES if a not in base]
    if not data.has("events"):
        derived.remove("engagement")
    if not data.has("transactions"):
        derived.remove("rfm_segment")
    if plan_source(eng) is None:
        derived = [a for a in derived if a not in PLAN_ATTRIBUTES]
    uses = [f"uses_{e}" for e in event_names(eng)]
    return base + derived + uses


def plan_source(data: Data) -> str | None:
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
    eng = engine_for(data)
    data = eng.data
    if data.has("mrr") and not data.mrr_derived and "plan" in data.table("mrr").columns:
        return "mrr"
    if data.has("subscriptions") and "plan" in data.table("subscriptions").columns:
        return "subscriptions"
    return None


def mrr_tables(data: Data) -> list[str]:
    """The table the MRR is read from: ``["mrr"]`` when given, ``["subscriptions"]`` when
    derived from them, ``[]`` when neither is there."""
    eng = engine_for(data)
    data = eng.data
    if not data.has("mrr"):
        return []
    return ["subscriptions"] if data.mrr_derived else ["mrr"]


def attribute_tables(data: Data, names: Iterable[str]) -> list[str]:
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
    eng = engine_for(data)
    data = eng.data
    columns = set(data.table("customers").columns) if data.has("customers") else set()
    out: set[str] = set()
    for name in names:
        if name in columns:
            continue
        if name == "engagement":
            out.update(("events", *mrr_tables(eng)))
        elif name.startswith("uses_"):
            out.add("events")
        elif name in ("rfm_segment", "clv_band", "alive_band", "first_product"):
            out.add("transactions")  # RFM and the shop criteria of predicted customer value
        elif name in PLAN_ATTRIBUTES:
            out.update(filter(None, [plan_source(eng)]))
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
    lo, hi = check_edges(edges, "lifecycle edges", n=2)
    tenure = days_between(signup, as_of)
    return ibis.cases(
        (tenure <= lo, LIFECYCLE_LABELS[0]),
        (tenure <= hi, LIFECYCLE_LABELS[1]),
        else_=LIFECYCLE_LABELS[2],
    )


def days_between(d: ir.DateValue, as_of: dt.date) -> ir.IntegerValue:
    return ibis.literal(as_of).delta(d, unit="day")


def check_edges(edges: Sequence[float], what: str, n: int | None = None) -> list[float]:
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
    vals = check_edges(edges, "bin edges")
    labels = bin_labels(vals)
    cases = [(col <= e, lab) for e, lab in zip(vals, labels, strict=False)]
    return ibis.ifelse(col.isnull(), ibis.null("string"), ibis.cases(*cases, else_=labels[-1]))


def engagement_expr(
    data: Data, as_of: dt.date, *, window_months: int = 3, levels: int = 3
) -> ir.Table:
    """``customer_id, events_per_active_month, engagement`` over the trailing window.

    docs/metrics.md "Engagement": events per active month over a trailing window, cut into levels
    by quantile.

    The window is the ``window_months`` calendar months ending with as_of's month.  Customers with
    no active month in the window have no level (null).  Levels are quantiles of the rate over the
    customers that have one (percent rank, ties share a level): "low" < "medium" < "high" for 3.
    """
    eng = engine_for(data)
    if levels not in ENGAGEMENT_LABELS:
        raise ValueError(f"engagement levels must be one of {sorted(ENGAGEMENT_LABELS)}")
    if not eng.reuse_across_dates:  # a one-off call: one query, nothing kept
        return _engagement(eng, as_of, window_months, levels)
    # a page keeps it: a change of criteria, or the personas at another window, reads it again
    key = EngagementLevels(to_date(as_of), int(window_months), int(levels))
    return eng.table(key, lambda: _engagement(eng, as_of, window_months, levels))


@dataclass(frozen=True)
class EngagementLevels(CacheKey):
    """Each customer's events per active month over a window and its engagement level."""

    as_of: dt.date
    window_months: int
    levels: int


def _engagement(data: Data, as_of: dt.date, window_months: int, levels: int) -> ir.Table:
    eng = engine_for(data)
    data = eng.data
    a = month_index_of(as_of)
    lo = a - window_months + 1
    mrr = eng.monthly_mrr(as_of)
    recent = mrr.filter(mrr.month_idx >= lo)
    # one row per customer and month (the mrr table's key): a count, not a distinct count
    active = recent.group_by("customer_id").aggregate(active_months=recent.count())
    ev = data.table("events", needed_for="engagement")
    # the window's events: a plain range on the raw timestamp (the engine prunes it while
    # reading, with no date computed per row), from the window's first day through as_of's end
    start = dt.datetime.combine(month_start_of(lo), dt.time())
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    ev = ev.filter((ev.timestamp >= start) & (ev.timestamp < end))
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


def check_segment_params(
    window_months: Any, gross_margin: Any, min_customers: Any, confidence: Any
) -> None:
    """Refuse out-of-range segment-table parameters with a message naming the parameter."""

    def is_int(v: Any) -> bool:
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    def is_real(v: Any) -> bool:
        return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)

    if not is_int(window_months) or window_months < 1:
        raise ValueError(f"window_months must be an integer >= 1, got {window_months!r}")
    if not is_real(gross_margin) or not 0 < gross_margin <= 1:
        raise ValueError(
            f"gross_margin must be a fraction in (0, 1] (e.g. 0.8 for 80 %), got {gross_margin!r}"
        )
    if not is_int(min_customers) or min_customers < 1:
        raise ValueError(f"min_customers must be an integer >= 1, got {min_customers!r}")
    if not is_real(confidence) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1) (e.g. 0.95), got {confidence!r}")


def add_shares(table: pd.DataFrame, *columns: str) -> None:
    """Add ``<column>_share`` for each column: each segment's share of the column's total (NaN
    when the total is 0), in place.

    >>> t = pd.DataFrame({"customers": [1, 3]})
    >>> add_shares(t, "customers")
    >>> t["customers_share"].tolist()
    [0.25, 0.75]
    """
    for col in columns:
        values = table[col].to_numpy()
        table[f"{col}_share"] = safe_ratio(values, values.sum())


def rank_segments(table: pd.DataFrame, value: str, by_names: Sequence[str]) -> pd.DataFrame:
    """Segments in the order of a segment table: ``value`` descending, missing last, ties by the
    ``by`` columns ascending (missing last); a stable sort (docs/metrics.md "Segment table").

    >>> t = pd.DataFrame({"plan": ["a", "b", "c"], "ltv": [5.0, float("nan"), 9.0]})
    >>> rank_segments(t, "ltv", ["plan"])["plan"].tolist()
    ['c', 'a', 'b']
    """
    key = "_rank_key"
    ordered = table.assign(**{key: -table[value]}).sort_values(
        [key, *by_names], ascending=True, na_position="last", kind="mergesort"
    )
    return ordered.drop(columns=key)
