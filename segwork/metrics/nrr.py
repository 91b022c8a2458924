"""Net revenue retention per customer (docs/metrics.md "NRR and GRR"), written once.

NRR over k months ending in month A: the MRR in A of the customers active (MRR > 0) in A - k,
over their MRR in A - k.  Per customer, the base is its MRR in A - k and its end its MRR in A
when the base is positive, else 0 (a customer who starts after A - k adds nothing to either).
A segment's NRR is its customers' ends over their bases.  The segment table (k = 12,
:data:`NRR_MONTHS`, with its churn window in the same pass) and the mix shift (any k) build
their per-customer rows with these expressions; the segment history's counts are a faster path
tested equal to them (tests/metrics/test_history.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from segwork.data.derive import month_index_of
from segwork.engine import Data, engine_for
from segwork.engine.keys import CacheKey

__all__ = ["NRR_MONTHS", "NRRPerCustomer", "nrr_base", "nrr_end", "nrr_per_customer"]

#: The NRR of the segment table is over 12 months (m = A - 12, k = 12).
NRR_MONTHS = 12


@dataclass(frozen=True)
class NRRPerCustomer(CacheKey):
    """Each customer's NRR base and end MRR at ``as_of`` over ``months``."""

    as_of: dt.date
    months: int


def nrr_base(rows: ir.Table, base_idx: int) -> ir.FloatingScalar:
    """Aggregate over a customer's month rows (``month_idx, mrr``): its MRR in month
    ``base_idx`` (A - k), 0 when it has none."""
    return ibis.ifelse(rows.month_idx == base_idx, rows.mrr, ibis.literal(0.0)).sum()


def nrr_end(base: ir.FloatingValue, mrr_at_a: ir.FloatingValue) -> ir.FloatingValue:
    """A customer's NRR end: its MRR in A when its base is positive, else 0."""
    return ibis.ifelse(base > 0, mrr_at_a, ibis.literal(0.0))


def nrr_per_customer(data: Data, as_of: dt.date, months: int) -> ir.Table:
    """Engine table ``customer_id, nrr_base, nrr_end`` at ``as_of`` over ``months`` (k), kept by
    the engine per date and k.

    >>> import pandas as pd, segwork
    >>> data = segwork.load({"customers": pd.DataFrame({"customer_id": [1, 2],
    ...     "signup_date": ["2024-01-01", "2024-02-01"]}),
    ...     "mrr": pd.DataFrame({"customer_id": [1, 1, 2], "mrr": [100.0, 120.0, 50.0],
    ...     "month": ["2024-01-01", "2024-02-01", "2024-02-01"]})})
    >>> import datetime as dt
    >>> nrr_per_customer(data, dt.date(2024, 2, 29), 1).to_pandas().sort_values("customer_id")
       customer_id  nrr_base  nrr_end
    0            1     100.0    120.0
    1            2       0.0      0.0
    """
    eng = engine_for(data)
    a = month_index_of(as_of)
    base_idx = a - int(months)

    def build() -> ir.Table:
        mrr = eng.monthly_mrr(as_of)
        r = mrr.filter((mrr.month_idx == a) | (mrr.month_idx == base_idx))
        zero = ibis.literal(0.0)
        per = r.group_by("customer_id").aggregate(
            nrr_base=nrr_base(r, base_idx),
            mrr_a=ibis.ifelse(r.month_idx == a, r.mrr, zero).sum(),
        )
        return per.select("customer_id", "nrr_base", nrr_end=nrr_end(per.nrr_base, per.mrr_a))

    return eng.table(NRRPerCustomer(as_of, int(months)), build)
