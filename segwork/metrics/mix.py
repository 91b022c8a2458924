"""Mix-shift analysis: how much of a change in churn (or NRR) comes from the segment mix.

The overall pooled rate at a date is a weighted mean of the segment rates,
``R = sum_i w_i r_i``; between two dates the change ``R_b - R_a`` is split per segment into a *mix
effect* (the weights moved) and a *rate effect* (the segment rates moved) by the symmetric
(Shapley, "midpoint") decomposition, whose parts add up to the change exactly.
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.data.derive import month_index_of
from segwork.engine import Data, engine_for
from segwork.metrics._common import Bins, Where, as_list
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.nrr import nrr_per_customer
from segwork.metrics.segments import per_customer
from segwork.metrics.stats import safe_ratio

__all__ = ["MIX_COLUMNS", "MIX_METRICS", "TOTAL_LABEL", "mix_shift"]


#: Allowed ``metric`` values.
MIX_METRICS: tuple[str, ...] = ("churn", "nrr")
#: Columns after the ``by`` columns, in order.
MIX_COLUMNS: tuple[str, ...] = (
    "weight_a",
    "weight_b",
    "rate_a",
    "rate_b",
    "mix_effect",
    "rate_effect",
    "total_effect",
)
#: The value of the ``by`` columns in the final totals row.
TOTAL_LABEL = "(total)"


def _parts(
    data: Data,
    by: list[str],
    day: dt.date,
    metric: str,
    window_months: int,
    where: Where | None,
    bins: Bins | None,
) -> pd.DataFrame:
    """Per segment at one date: ``[*by], num, den`` (rate = num / den, weight = den / sum den).

    churn: num = churned customer-months, den = at-risk customer-months in the churn window.
    nrr: num = MRR in A of the customers active in A-k, den = their MRR in A-k (k = window).
    """
    eng = engine_for(data)
    data = eng.data
    a = month_index_of(day)
    attrs, by_names = customer_attributes(eng, day, by, where=where, bins=bins)
    if metric == "churn":
        per = per_customer(eng, a, window_months, day)
        t = attrs.left_join(per, "customer_id")
        num = t.churned.sum().cast("float64")
        den = t.at_risk.sum().cast("float64")
    else:
        # per customer, whatever the segments: reused by a change of criteria
        per = nrr_per_customer(eng, day, window_months)
        t = attrs.left_join(per, "customer_id")
        num = t.nrr_end.sum()
        den = t.nrr_base.sum()
    got = t.group_by(by_names).aggregate(num=num, den=den).to_pandas()
    for col in ("num", "den"):
        got[col] = pd.to_numeric(got[col]).fillna(0.0).astype("float64")
    return got


def mix_shift(
    data: Data,
    by: str | Sequence[str],
    as_of_a: Any,
    as_of_b: Any,
    *,
    metric: str = "churn",
    window_months: int = 12,
    where: Where | None = None,
    bins: Bins | None = None,
) -> pd.DataFrame:
    """Split the change of the overall churn (or NRR) between two dates into mix and rate effects.

    The overall rate is pooled, so it is a weighted mean of the segment rates,
    ``R = sum_i w_i r_i``:

    - ``metric="churn"``: r_i = the segment's logo churn rate over the churn window ending at the
      date (docs/metrics.md "Churn window"; pooled as in "Logo churn": churned customer-months /
      customer-months at risk), w_i = its share of the at-risk customer-months.
    - ``metric="nrr"``: r_i = the segment's NRR over ``window_months`` months ending at the date
      (docs/metrics.md "NRR and GRR", over k months from month m, with k = ``window_months`` and
      m = A - k), w_i = its share of the base MRR (MRR in m of the customers
      active in m).

    Each segment's contribution ``w_b r_b - w_a r_a`` is split by the symmetric (Shapley /
    midpoint) decomposition::

        mix_i  = (w_b - w_a) * (r_a + r_b) / 2
        rate_i = (r_b - r_a) * (w_a + w_b) / 2
        mix_i + rate_i = w_b r_b - w_a r_a          (exactly, by algebra)

    so the mix and rate effects add up to ``R_b - R_a`` exactly (up to floating point), with no
    order-dependent residual.  A segment absent at one date (weight 0 there, rate undefined) takes
    the other date's rate in place of the missing one: its whole contribution is then mix (it
    entered or left the mix) and its rate effect is 0.  A segment with weight 0 at both dates
    contributes 0.  A customer's segment is its attribute at each date (as in the segment table).

    Parameters
    ----------
    data : Dataset or Engine
    by : str or list of str
        Segment columns (any customer or derived attribute; at least one).
    as_of_a, as_of_b : date-like
        The two as-of dates ("before" and "after").
    metric : {"churn", "nrr"}, default "churn"
    window_months : int, default 12
        The churn window w, or the NRR horizon k.
    where, bins : mapping, optional
        As in :func:`segwork.segment_table`.

    Returns
    -------
    pandas.DataFrame
        The ``by`` columns, then ``weight_a, weight_b, rate_a, rate_b, mix_effect, rate_effect,
        total_effect``: one row per segment seen at either date (sorted by the ``by`` columns), and
        a final totals row whose ``by`` columns are ``"(total)"``, with weights 1, rates the
        overall rates and effects the sums (``total_effect`` = ``overall_b - overall_a``).
        ``rate_a`` / ``rate_b`` are NaN where the segment has no weight.  ``attrs``: ``overall_a,
        overall_b, metric, as_of_a, as_of_b, window_months``.  When no customer is at risk (no base
        MRR) at a date its overall rate and the effects are NaN.

    Raises
    ------
    ValueError
        An unknown ``metric`` (the allowed ones are listed), an empty ``by``, a bad window, or what
        :func:`segwork.segment_table` refuses (unknown columns, dates before the data).

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.metrics.mix import mix_shift
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3, 4],
    ...     "signup_date": ["2023-01-01"] * 4, "plan": ["a", "a", "b", "b"]})
    >>> mrr = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3, 3, 4, 4, 4],
    ...     "month": ["2024-01-01", "2024-02-01", "2024-01-01", "2024-01-01", "2024-02-01",
    ...               "2024-03-01", "2024-01-01", "2024-02-01", "2024-03-01"],
    ...     "mrr": [10.0] * 9})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> m = mix_shift(data, "plan", "2024-02-29", "2024-03-31", window_months=1)
    >>> m[["plan", "weight_a", "weight_b", "rate_a", "rate_b", "total_effect"]]
          plan  weight_a  weight_b  rate_a    rate_b  total_effect
    0        a       0.5  0.333333    0.50  1.000000      0.083333
    1        b       0.5  0.666667    0.00  0.000000      0.000000
    2  (total)       1.0  1.000000    0.25  0.333333      0.083333
    """
    eng = engine_for(data)
    data = eng.data
    if metric not in MIX_METRICS:
        raise ValueError(
            f"metric={metric!r} is not allowed; choose one of: {', '.join(MIX_METRICS)}"
        )
    by_names = as_list(by)
    if not by_names:
        raise ValueError("by must name at least one segment column")
    if (
        not isinstance(window_months, numbers.Integral)
        or isinstance(window_months, bool)
        or window_months < 1
    ):
        raise ValueError(f"window_months must be an integer >= 1, got {window_months!r}")
    day_a, day_b = to_date(as_of_a, "as_of_a"), to_date(as_of_b, "as_of_b")
    w = int(window_months)
    pa = _parts(eng, by_names, day_a, metric, w, where, bins)
    pb = _parts(eng, by_names, day_b, metric, w, where, bins)
    m = pa.merge(pb, on=by_names, how="outer", suffixes=("_a", "_b"))
    for col in ("num_a", "den_a", "num_b", "den_b"):
        m[col] = m[col].fillna(0.0)
    m = m.sort_values(by_names, na_position="last", kind="mergesort").reset_index(drop=True)

    den_a, den_b = m["den_a"].to_numpy(), m["den_b"].to_numpy()
    num_a, num_b = m["num_a"].to_numpy(), m["num_b"].to_numpy()
    wa = safe_ratio(den_a, den_a.sum())
    wb = safe_ratio(den_b, den_b.sum())
    ra = safe_ratio(num_a, den_a)
    rb = safe_ratio(num_b, den_b)
    overall_a = float(safe_ratio(num_a.sum(), den_a.sum()))
    overall_b = float(safe_ratio(num_b.sum(), den_b.sum()))
    # a segment absent at one date takes the other date's rate there (all of it is mix);
    # absent at both dates, it contributes nothing
    ra_f = np.where(np.isnan(ra), rb, ra)
    rb_f = np.where(np.isnan(rb), ra, rb)
    ra_f = np.where(np.isnan(ra_f), 0.0, ra_f)
    rb_f = np.where(np.isnan(rb_f), 0.0, rb_f)
    mix = (wb - wa) * (ra_f + rb_f) / 2
    rate = (rb_f - ra_f) * (wa + wb) / 2

    out = m[by_names].copy()
    out["weight_a"] = wa
    out["weight_b"] = wb
    out["rate_a"] = ra
    out["rate_b"] = rb
    out["mix_effect"] = mix
    out["rate_effect"] = rate
    out["total_effect"] = mix + rate
    total = {c: TOTAL_LABEL for c in by_names}
    total.update(
        {
            "weight_a": float(np.sum(wa)),
            "weight_b": float(np.sum(wb)),
            "rate_a": overall_a,
            "rate_b": overall_b,
            "mix_effect": float(np.sum(mix)),
            "rate_effect": float(np.sum(rate)),
            "total_effect": overall_b - overall_a,
        }
    )
    out = out.astype({c: object for c in by_names})
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out = out[[*by_names, *MIX_COLUMNS]].astype({c: "float64" for c in MIX_COLUMNS})
    out.attrs.update(
        {
            "overall_a": overall_a,
            "overall_b": overall_b,
            "metric": metric,
            "as_of_a": day_a,
            "as_of_b": day_b,
            "window_months": w,
        }
    )
    return out
