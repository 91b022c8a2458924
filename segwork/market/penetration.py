"""Penetration: the customers mapped onto the market segments (docs/metrics.md "Penetration").

Customers are counted per segment by the engine (Ibis); only the per-segment counts come back to
pandas, where they are matched with the (small) market table.  Customers whose attributes match
no market segment are counted and reported in ``Penetration.unmatched``, never dropped.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segwork.data.bands import COMPANY_SIZE_BAND_LABELS, COMPANY_SIZE_BANDS
from segwork.data.dates import to_date
from segwork.data.derive import month_index_of, month_start_of
from segwork.engine import Data, engine_for
from segwork.engine.keys import CacheKey
from segwork.market.sizing import MarketSize, market_size
from segwork.market.table import MarketLike, criteria_columns, market_frame
from segwork.market.text import money, pct
from segwork.metrics._common import bin_labels, population
from segwork.metrics.attributes import customer_attributes
from segwork.metrics.history import (
    AT_DATE,
    history_applies,
    kept_counts,
    rollup,
    segment_counts_over_time,
)
from segwork.metrics.stats import safe_ratio

__all__ = [
    "DEFAULT_SIZE_BANDS",
    "PENETRATION_COLUMNS",
    "Penetration",
    "SizeBands",
    "penetration",
    "size_bands_from_labels",
]


@dataclass(frozen=True)
class PenetrationCounts(CacheKey):
    """Customers and MRR per market segment at ``as_of`` (banded: the size bands' labels)."""

    as_of: dt.date
    criteria: tuple[str, ...]
    banded: Any


#: ``(lower edges, labels)``: band i holds ``edges[i] < employees <= edges[i + 1]``, the last band
#: is open.  The same convention as :func:`segwork.data.bands.company_size_band`.
SizeBands = tuple[Sequence[float], Sequence[str]]

#: The sample's company-size bands (:data:`segwork.data.bands.COMPANY_SIZE_BANDS`).
DEFAULT_SIZE_BANDS: SizeBands = (COMPANY_SIZE_BANDS, COMPANY_SIZE_BAND_LABELS)

#: Columns of ``Penetration.segments`` after the criteria columns, in order.
PENETRATION_COLUMNS: tuple[str, ...] = (
    "accounts",
    "customers",
    "active_customers",
    "arr",
    "penetration",
    "active_penetration",
    "acv",
    "tam",
    "serviceable",
    "som",
    "arr_to_som",
    "headroom_accounts",
    "headroom",
)
UNMATCHED_COLUMNS: tuple[str, ...] = ("customers", "active_customers", "arr", "reason")
TOTALS_COLUMNS: tuple[str, ...] = (
    "customers",
    "matched_customers",
    "unmatched_customers",
    "active_customers",
    "arr",
    "matched_arr",
    "unmatched_arr",
    "accounts",
    "penetration",
    "som",
    "arr_to_som",
)

_BAND = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)|\+)\s*$")


def size_bands_from_labels(labels: Sequence[Any]) -> SizeBands | None:
    """Bands from labels like ``"1-10"``, ``"11-50"``, ``"1001+"`` (None if they are not such).

    ``"a-b"`` covers ``a - 1 < employees <= b`` and ``"a+"`` covers ``employees > a - 1``; the bands
    must follow each other without gaps (``"1-10"`` then ``"11-50"``) and only the last may be open.

    Examples
    --------
    >>> size_bands_from_labels(["11-50", "1-10", "51+"])
    ((0.0, 10.0, 50.0), ('1-10', '11-50', '51+'))
    >>> size_bands_from_labels(["small", "large"]) is None
    True
    """
    parsed = []
    for label in {str(v) for v in labels if v is not None and not _isnan(v)}:
        m = _BAND.match(label)
        if not m:
            return None
        lo = float(m.group(1))
        hi = float(m.group(2)) if m.group(2) is not None else math.inf
        if hi < lo:
            return None
        parsed.append((lo, hi, label))
    if not parsed:
        return None
    parsed.sort()
    for (_lo, hi, _), (lo2, _hi2, _) in itertools.pairwise(parsed):
        if lo2 - 1 != hi:
            return None
    return tuple(lo - 1 for lo, _, _ in parsed), tuple(lab for _, _, lab in parsed)


def _isnan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _check_bands(bands: Any) -> SizeBands:
    try:
        edges, labels = bands
        edges = tuple(float(e) for e in edges)
        labels = tuple(str(lab) for lab in labels)
    except (TypeError, ValueError) as err:
        raise ValueError(
            "size_bands must be (lower edges, labels), e.g. ((0, 10, 50), ('1-10', '11-50', "
            f"'51+')), got {bands!r}"
        ) from err
    if len(edges) != len(labels) or not edges:
        raise ValueError(f"size_bands needs one label per edge, got {len(edges)} and {len(labels)}")
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError(f"size_bands edges must increase strictly, got {edges}")
    return edges, labels


def band_expr(col: ir.NumericValue, bands: SizeBands) -> ir.StringValue:
    """Band label of a numeric column (``edges[i] < x <= edges[i + 1]``); null outside the bands."""
    edges, labels = bands
    cases = []
    for i, label in enumerate(labels):
        cond = col > edges[i]
        if i + 1 < len(edges):
            cond = cond & (col <= edges[i + 1])
        cases.append((cond, label))
    return ibis.cases(*cases, else_=ibis.null("string"))


def bands_relabel(bands: SizeBands) -> dict[str, str | None]:
    """segwork bin labels of ``bands``' edges (as made by ``bins``) -> the band labels."""
    edges, labels = bands
    names = bin_labels(list(edges))
    out: dict[str, str | None] = {names[0]: None}
    out.update({names[i + 1]: labels[i] for i in range(len(labels))})
    return out


def resolve_size_bands(
    size_bands: SizeBands | None, market: pd.DataFrame | None, column: str = "company_size"
) -> SizeBands:
    """Explicit ``size_bands``, else bands parsed from the market's labels, else the sample's."""
    if size_bands is not None:
        return _check_bands(size_bands)
    if market is not None and column in market.columns:
        parsed = size_bands_from_labels(market[column].dropna().unique().tolist())
        if parsed is None:
            raise ValueError(
                f"customers.{column} is numeric but the market's {column} labels "
                f"{sorted(map(str, market[column].dropna().unique()))[:8]} are not bands like "
                "'1-10', '11-50', '1001+'; pass size_bands=(lower edges, labels)"
            )
        return parsed
    return DEFAULT_SIZE_BANDS


@dataclass(frozen=True)
class Penetration:
    """The result of :func:`penetration`.

    Attributes
    ----------
    segments : pandas.DataFrame
        One row per market segment: the criteria, then ``accounts, customers, active_customers,
        arr, penetration, active_penetration, acv, tam, serviceable, som, arr_to_som,
        headroom_accounts, headroom``.
    unmatched : pandas.DataFrame
        Customers mapped to no segment, grouped by their criteria values: ``customers,
        active_customers, arr, reason`` ("missing <column>" or "no market segment").
    totals : pandas.DataFrame
        One row: ``customers, matched_customers, unmatched_customers, active_customers, arr,
        matched_arr, unmatched_arr, accounts, penetration, som, arr_to_som``.
    sentence : str
        The match rate, the overall penetration and current ARR against SOM in words.
    n_customers, n_matched, n_unmatched : int
        Population at as_of and how it splits (``n_matched + n_unmatched == n_customers``).
    sizing : MarketSize
        The market size whose segments and SOM were used.
    """

    segments: pd.DataFrame
    unmatched: pd.DataFrame
    totals: pd.DataFrame
    sentence: str
    n_customers: int
    n_matched: int
    n_unmatched: int
    criteria: tuple[str, ...]
    as_of: Any
    sizing: MarketSize

    def __repr__(self) -> str:
        return f"<Penetration as of {self.as_of}: {self.sentence}>"


def _object(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out


def penetration(
    data: Data,
    as_of: Any,
    *,
    criteria: str | Sequence[str] = ("industry", "company_size", "region"),
    market: MarketLike | None = None,
    size_bands: SizeBands | None = None,
    sizing: MarketSize | Mapping[str, Any] | None = None,
) -> Penetration:
    """Customers, ARR and penetration per market segment (docs/metrics.md "Penetration").

    Each customer of the population (docs/metrics.md "Conventions": customers with
    ``signup_date <= as_of``) is mapped onto a market segment by its ``criteria`` attributes
    (customer columns with the same names as the market's criteria columns).  A numeric
    ``company_size`` (employees) is mapped to the market's band labels first (bands parsed from
    labels like "1-10", "11-50", "1001+", or ``size_bands``).  Per segment:

    - ``customers``: customers of the population in the segment; ``active_customers``: those with
      MRR > 0 in as_of's month (docs/metrics.md "Active customer");
    - ``arr`` = 12 x their MRR in as_of's month;
    - ``penetration`` = customers / accounts and ``active_penetration`` = active customers /
      accounts (NaN where accounts is 0, docs/metrics.md "Conventions");
    - ``acv, tam, serviceable, som`` from :func:`segwork.market.market_size` (docs/metrics.md
      "Market sizing") and ``arr_to_som`` = arr / som, how far the segment's current ARR is
      toward its SOM;
    - ``headroom_accounts`` = max(accounts - customers, 0) (accounts not yet customers) and
      ``headroom`` = headroom_accounts x acv.

    Customers with a missing attribute or a combination that is no market segment are not
    dropped: they are counted in ``unmatched`` (with the reason) and in the totals, and
    ``n_matched + n_unmatched == n_customers``.  The totals compare all customers' ARR with the
    total SOM (``arr_to_som``).

    Parameters
    ----------
    data : Dataset or Engine
        Needs ``customers`` and ``mrr`` (given or derived); its ``market`` table unless ``market``
        is given.
    as_of : date-like
        Explicit as-of date; data dated after it is ignored.
    criteria : str or sequence of str, default ("industry", "company_size", "region")
        Columns present in both the market table and the customers.
    market : DataFrame, Ibis table or Dataset, optional
        The market table (default: ``data``'s).
    size_bands : (lower edges, labels), optional
        Company-size bands for a numeric ``company_size``: band i holds ``edges[i] < employees
        <= edges[i + 1]``.  Default: parsed from the market's labels.
    sizing : MarketSize or mapping, optional
        The market size to compare with (same criteria), or keyword arguments for
        :func:`~segwork.market.market_size`; default ``market_size(market, criteria=criteria)``.

    Returns
    -------
    Penetration
        ``.segments`` (sorted by penetration descending, NaN last, then criteria), ``.unmatched``
        (sorted by customers descending), ``.totals``, ``.sentence``, the counts and ``.sizing``.

    Raises
    ------
    ValueError
        A criterion missing from the market (the message lists its criteria) or from the
        customers (the message lists the available attributes), a sizing with other criteria,
        unusable size bands.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.market import penetration
    >>> customers = pd.DataFrame({"customer_id": [1, 2, 3],
    ...     "signup_date": ["2024-01-05", "2024-02-01", "2024-03-01"],
    ...     "industry": ["software", "software", "mining"]})
    >>> mrr = pd.DataFrame({"customer_id": [1, 2, 3], "month": ["2024-03-01"] * 3,
    ...                     "mrr": [100.0, 50.0, 10.0]})
    >>> market = pd.DataFrame({"industry": ["software", "retail"], "accounts": [100, 50],
    ...                        "acv": [1000.0, 500.0]})
    >>> data = segwork.load({"customers": customers, "mrr": mrr, "market": market})
    >>> p = penetration(data, "2024-03-31", criteria=["industry"])
    >>> p.segments[["industry", "accounts", "customers", "arr", "penetration"]]
       industry  accounts  customers     arr  penetration
    0  software       100          2  1800.0         0.02
    1    retail        50          0     0.0         0.00
    >>> p.n_matched, p.n_unmatched
    (2, 1)
    >>> p.unmatched
      industry  customers  active_customers    arr             reason
    0   mining          1                 1  120.0  no market segment
    """
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    frame = market_frame(market if market is not None else data)
    crit = [criteria] if isinstance(criteria, str) else list(criteria)
    if not crit:
        raise ValueError("penetration needs at least one criterion shared by market and customers")
    available = criteria_columns(frame)
    for name in crit:
        if name not in available:
            raise ValueError(
                f"unknown market criterion {name!r}; the market's criteria columns are: "
                f"{', '.join(available) or 'none'}"
            )
    sizing_result = _sizing(frame, crit, sizing)
    attrs, _ = customer_attributes(eng, day, crit)
    banded: Any = None
    if "company_size" in crit:
        col = attrs["company_size"]
        if col.type().is_numeric() and not pd.api.types.is_numeric_dtype(frame["company_size"]):
            bands = resolve_size_bands(size_bands, frame)
            attrs = attrs.mutate(company_size=band_expr(col, bands))
            banded = (tuple(bands[0]), tuple(bands[1]))

    def counts() -> Any:
        m = eng.mrr_in_month(day)  # one row per customer: the monthly MRR's key
        current = m.select("customer_id", cur_mrr=m.mrr)
        joined = attrs.left_join(current, attrs.customer_id == current.customer_id)
        t = joined.select(*crit, cur_mrr=joined.cur_mrr)
        return t.group_by(crit).aggregate(
            customers=t.count(),
            active_customers=(t.cur_mrr > 0).fill_null(False).cast("int64").sum(),
            mrr=t.cur_mrr.sum(),
        )

    if history_applies(eng, crit):
        # a page: the counts at this date from its segment history (penetration's criteria are
        # the ideal customer profile's firmographics, whose history serves them); a banded size
        # is cut by the bands' edges and relabelled ("<= first edge" is outside every band)
        got = eng.frame(
            PenetrationCounts(day, tuple(crit), banded),
            lambda: _counts_over_time(eng, crit, day, banded),
        )
    else:
        bins = {"company_size": list(banded[0])} if banded else None
        kept = kept_counts(eng, crit, day, bins)  # a finer segmentation's at this date
        if kept is not None:
            got = _relabelled(kept, crit, banded)
        else:
            # the customers per segment do not depend on the sizing assumptions: a change of
            # share or horizon on the page reads them from the engine's cache
            got = eng.table(PenetrationCounts(day, tuple(crit), banded), counts).to_pandas()
    got["customers"] = pd.to_numeric(got["customers"]).fillna(0).astype("int64")
    got["active_customers"] = pd.to_numeric(got["active_customers"]).fillna(0).astype("int64")
    got["arr"] = 12.0 * pd.to_numeric(got["mrr"]).fillna(0.0).astype("float64")
    got = _object(got.drop(columns="mrr"), crit)
    n_customers = int(population(eng, day).count().to_pandas())

    missing = got[crit].isna().any(axis=1).to_numpy()
    seg = _object(sizing_result.segments, crit)
    keys = seg[crit].drop_duplicates()
    complete = got[~missing]
    merged = complete.merge(keys.assign(_matched=True), on=crit, how="left")
    matched_mask = merged["_matched"].eq(True).to_numpy()
    matched = merged[matched_mask].drop(columns="_matched")
    unmatched = pd.concat(
        [got[missing].assign(reason=_missing_reason(got[missing], crit)),
         merged[~matched_mask].drop(columns="_matched").assign(reason="no market segment")],
        ignore_index=True,
    )  # fmt: skip
    n_matched = int(matched["customers"].sum())
    n_unmatched = int(unmatched["customers"].sum())
    if n_matched + n_unmatched != n_customers:  # pragma: no cover - an invariant
        raise RuntimeError(
            f"penetration lost customers: {n_matched} matched + {n_unmatched} unmatched != "
            f"{n_customers}"
        )
    segments = _segments(seg, matched, crit)
    unmatched = _unmatched(unmatched, crit)
    totals = _totals(segments, unmatched, n_customers, n_matched, n_unmatched, sizing_result)
    sentence = _sentence(totals, segments, unmatched, day, crit, data.currency)
    return Penetration(
        segments=segments,
        unmatched=unmatched,
        totals=totals,
        sentence=sentence,
        n_customers=n_customers,
        n_matched=n_matched,
        n_unmatched=n_unmatched,
        criteria=tuple(crit),
        as_of=day,
        sizing=sizing_result,
    )


def _counts_over_time(
    data: Data, crit: list[str], day: dt.date, banded: tuple[Any, Any] | None
) -> pd.DataFrame:
    """``customers, active_customers, mrr`` per ``crit`` segment at ``day`` from the segment
    history (:func:`segwork.metrics.history.segment_counts_over_time`)."""
    eng = engine_for(data)
    data = eng.data
    bins = {"company_size": list(banded[0])} if banded else None
    # the churn window does not change these three counts: 12 months, the ideal customer
    # profile's, so that on the market page its counts at this date are rolled up, not queried
    got = segment_counts_over_time(eng, crit, day, 12, bins=bins)
    return _relabelled(got[[*crit, *AT_DATE]], crit, banded)


def _relabelled(got: pd.DataFrame, crit: list[str], banded: tuple[Any, Any] | None) -> pd.DataFrame:
    """Segment counts whose banded company size (cut by the bands' edges) is labelled as the
    market's bands ("<= first edge" is outside every band) and summed per label."""
    if not banded:
        return got
    got = got.assign(company_size=got["company_size"].map(bands_relabel(banded)))
    return rollup(got, crit, values=AT_DATE)


def _sizing(frame: pd.DataFrame, crit: list[str], sizing: Any) -> MarketSize:
    if isinstance(sizing, MarketSize):
        if list(sizing.criteria) != crit:
            raise ValueError(
                f"sizing has criteria {list(sizing.criteria)} but penetration uses {crit}; size "
                "the market with the same criteria"
            )
        return sizing
    kwargs = dict(sizing or {})
    kwargs.pop("criteria", None)
    return market_size(frame, criteria=crit, **kwargs)


def _missing_reason(rows: pd.DataFrame, crit: list[str]) -> list[str]:
    nulls = rows[crit].isna().to_numpy()
    return ["missing " + ", ".join(c for c, n in zip(crit, row, strict=True) if n) for row in nulls]


def _segments(seg: pd.DataFrame, matched: pd.DataFrame, crit: list[str]) -> pd.DataFrame:
    cols = ["accounts", "acv", "tam", "serviceable", "som"]
    out = seg[[*crit, *cols]].merge(matched, on=crit, how="left")
    for c in ("customers", "active_customers"):
        out[c] = out[c].fillna(0).astype("int64")
    out["arr"] = out["arr"].fillna(0.0).astype("float64")
    accounts = out["accounts"].to_numpy(dtype="float64")
    out["penetration"] = safe_ratio(out["customers"].to_numpy(), accounts)
    out["active_penetration"] = safe_ratio(out["active_customers"].to_numpy(), accounts)
    out["arr_to_som"] = safe_ratio(out["arr"].to_numpy(), out["som"].to_numpy())
    head = np.maximum(accounts - out["customers"].to_numpy(), 0.0)
    out["headroom_accounts"] = head.astype("int64") if out["accounts"].dtype == "int64" else head
    out["headroom"] = head * out["acv"].to_numpy(dtype="float64")
    out["_key"] = -out["penetration"]
    out = out.sort_values(["_key", *crit], kind="mergesort", na_position="last")
    return out[[*crit, *PENETRATION_COLUMNS]].reset_index(drop=True)


def _unmatched(rows: pd.DataFrame, crit: list[str]) -> pd.DataFrame:
    out = rows[[*crit, *UNMATCHED_COLUMNS]].copy()
    out["customers"] = out["customers"].astype("int64")
    out["active_customers"] = out["active_customers"].astype("int64")
    out["arr"] = out["arr"].astype("float64")
    out["_key"] = -out["customers"]
    out = out.sort_values(["_key", *crit], kind="mergesort", na_position="last")
    return out.drop(columns="_key").reset_index(drop=True)


def _totals(
    segments: pd.DataFrame,
    unmatched: pd.DataFrame,
    n_customers: int,
    n_matched: int,
    n_unmatched: int,
    sizing: MarketSize,
) -> pd.DataFrame:
    matched_arr = float(segments["arr"].sum())
    unmatched_arr = float(unmatched["arr"].sum())
    arr = matched_arr + unmatched_arr
    accounts = float(segments["accounts"].sum())
    som = sizing.som
    row = {
        "customers": n_customers,
        "matched_customers": n_matched,
        "unmatched_customers": n_unmatched,
        "active_customers": int(segments["active_customers"].sum())
        + int(unmatched["active_customers"].sum()),
        "arr": arr,
        "matched_arr": matched_arr,
        "unmatched_arr": unmatched_arr,
        "accounts": accounts,
        "penetration": float(safe_ratio(n_matched, accounts)),
        "som": som,
        "arr_to_som": float(safe_ratio(arr, som)),
    }
    out = pd.DataFrame([row], columns=list(TOTALS_COLUMNS))
    for c in ("customers", "matched_customers", "unmatched_customers", "active_customers"):
        out[c] = out[c].astype("int64")
    if float(accounts).is_integer():
        out["accounts"] = out["accounts"].astype("int64")
    return out


def _sentence(
    totals: pd.DataFrame,
    segments: pd.DataFrame,
    unmatched: pd.DataFrame,
    day: Any,
    crit: list[str],
    currency: str,
) -> str:
    t = totals.iloc[0]
    n, k, u = int(t["customers"]), int(t["matched_customers"]), int(t["unmatched_customers"])
    share = f" ({k / n:.1%})" if n else ""
    text = (
        f"{k:,} of {n:,} customers{share} map onto the market's {len(segments):,} segments "
        f"by {', '.join(crit)}: penetration {pct(t['penetration'], 3)} of "
        f"{float(t['accounts']):,.0f} accounts."
    )
    if u:
        reasons = unmatched.groupby("reason", sort=True)["customers"].sum()
        parts = "; ".join(f"{r}: {int(c):,}" for r, c in reasons.items())
        text += f" {u:,} customers match no segment ({parts}); they are listed as unmatched."
    else:
        text += " Every customer matches a segment."
    month = month_start_of(month_index_of(day)).strftime("%Y-%m")
    text += (
        f" Current ARR {money(t['arr'], currency)} (12 x MRR of {month}) is "
        f"{pct(t['arr_to_som'])} of the SOM point estimate {money(t['som'], currency)} "
        "(assumptions at their modes)."
    )
    return text
