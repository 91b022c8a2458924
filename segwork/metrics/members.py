"""The customers of selected segments, for export (docs/metrics.md "Segment members")."""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index_of
from segwork.engine import Data, engine_for
from segwork.metrics._common import Bins, Where
from segwork.metrics.attributes import customer_attributes

__all__ = ["MEMBER_COLUMNS", "segment_members"]

#: Columns of :func:`segment_members` around the ``by`` columns.
MEMBER_COLUMNS: tuple[str, ...] = ("customer_id", "signup_date", "mrr", "active")

Segment = Mapping[str, Any]


def segment_selections(
    segment: Segment | Sequence[Segment], by: list[str]
) -> list[dict[str, list[Any]]]:
    items = [segment] if isinstance(segment, Mapping) else list(segment)
    if not items:
        raise ValueError(
            "segment must be a dict {column: value or list} or a non-empty list of them"
        )
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ValueError(
                f"a segment must be a dict {{column: value or list of values}}, got {item!r}"
            )
        bad = [c for c in item if c not in by]
        if bad:
            raise ValueError(
                f"segment names column(s) {bad} that are not in by={by}; use some of: "
                f"{', '.join(by)}"
            )
        out.append(
            {
                c: list(v) if isinstance(v, list | tuple | set | frozenset) else [v]
                for c, v in item.items()
            }
        )
    return out


def segment_match(t: ir.Table, col: str, values: list[Any]) -> ir.BooleanValue:
    present = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
    cond: ir.BooleanValue = t[col].isin(present) if present else ibis.literal(False)
    if len(present) < len(values):  # None / NaN selects the customers without a value
        cond = cond | t[col].isnull()
    return cond


def segment_members(
    data: Data,
    by: str | Sequence[str],
    as_of: Any,
    segment: Segment | Sequence[Segment],
    *,
    bins: Bins | None = None,
    where: Where | None = None,
) -> pd.DataFrame:
    """The customers of one or several segments at as_of, with their MRR then.

    Segments are those of :func:`segwork.segment_table` with the same ``by``, ``bins`` and ``where``
    (docs/metrics.md "Segment members"; population: signup_date <= as_of; a customer's segment is
    its attribute at as_of, docs/metrics.md "Conventions").  ``mrr`` is the customer's MRR in
    as_of's month (0 when none) and ``active`` is ``mrr > 0`` (docs/metrics.md "Active customer").

    Parameters
    ----------
    data : Dataset or Engine
    by : str or list of str
        The segment columns.
    as_of : date-like
    segment : dict or list of dicts
        ``{by column: value or list of values}`` selects the customers whose columns take those
        values (columns left out match anything; ``None`` matches a missing value).  A list of such
        dicts selects the union (several segments).  Binned columns take their bin labels, e.g.
        ``{"company_size": "(10, 50]"}``.
    bins, where : mapping, optional
        As in :func:`segwork.segment_table`.

    Returns
    -------
    pandas.DataFrame
        ``customer_id, signup_date, [*by], mrr, active`` sorted by ``customer_id`` (empty when no
        customer matches); ``mrr`` float64, ``active`` bool.

    Raises
    ------
    ValueError
        A segment naming a column not in ``by``, an empty selection, or what
        :func:`segwork.segment_table` refuses (unknown columns, dates before the data).

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.metrics.members import segment_members
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3],
    ...     "signup_date": ["2024-01-05", "2024-01-10", "2024-02-01"],
    ...     "plan": ["pro", "pro", "starter"]})
    >>> mrr = pd.DataFrame({"customer_id": [1, 2, 3], "month": ["2024-03-01", "2024-02-01",
    ...     "2024-03-01"], "mrr": [100.0, 100.0, 50.0]})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> segment_members(data, "plan", "2024-03-31", {"plan": "pro"})
       customer_id signup_date plan    mrr  active
    0            1  2024-01-05  pro  100.0    True
    1            2  2024-01-10  pro    0.0   False
    """
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    attrs, by_names = customer_attributes(eng, day, by, where=where, bins=bins)
    if not by_names:
        raise ValueError("by must name at least one segment column")
    selections = segment_selections(segment, by_names)
    a = month_index_of(day)
    mrr = eng.monthly_mrr(day)
    now = mrr.filter(mrr.month_idx == a).group_by("customer_id").aggregate(mrr_a=mrr.mrr.sum())
    conds = [
        functools.reduce(
            operator.and_,
            [segment_match(attrs, c, v) for c, v in sel.items()],
            ibis.literal(True),
        )
        for sel in selections
    ]
    picked = attrs.filter(functools.reduce(operator.or_, conds))
    t = picked.left_join(now, "customer_id")
    mrr_a = t.mrr_a.fill_null(0.0).cast("float64")
    t = t.select("customer_id", "signup_date", *by_names, mrr=mrr_a, active=mrr_a > 0)
    out = t.order_by("customer_id").to_pandas().reset_index(drop=True)
    out["mrr"] = out["mrr"].astype("float64")
    out["active"] = out["active"].astype(bool)
    return out[["customer_id", "signup_date", *by_names, "mrr", "active"]]
