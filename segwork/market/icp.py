"""The ideal customer profile (ICP) found in the data, with its headroom in the market.

docs/metrics.md "Ideal customer profile".  The candidate segments are every combination of one or
more ``by`` criteria; each is measured with the segment table (docs/metrics.md "Segment table",
"LTV", "NRR and GRR", "Logo churn") and the best one with enough customers is turned into a
sentence, together with the accounts of the market it has not won yet (docs/metrics.md
"Penetration").
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.engine import Data, engine_for
from segwork.market.penetration import (
    SizeBands,
    bands_relabel,
    penetration,
    resolve_size_bands,
)
from segwork.market.table import MarketLike, criteria_columns, market_frame
from segwork.market.text import money as sizing_money
from segwork.market.text import pct
from segwork.metrics._common import as_list
from segwork.metrics.segments import SEGMENT_COLUMNS, segment_tables
from segwork.metrics.stats import safe_ratio
from segwork.sentences import describe_segment

__all__ = [
    "FIRMOGRAPHIC_COLUMNS",
    "ICP",
    "ICP_COLUMNS",
    "ideal_customer_profile",
]

#: Default ICP criteria, those present in ``customers`` are used (``country`` when no ``region``).
FIRMOGRAPHIC_COLUMNS: tuple[str, ...] = ("industry", "company_size", "region", "billing_interval")

#: Columns of ``ICP.segments`` around the ``by`` columns: ``rank, segment, *by, n_criteria, ...``;
#: the segment-table ones are those of :data:`~segwork.metrics.segments.SEGMENT_COLUMNS` it keeps.
ICP_COLUMNS: tuple[str, ...] = (
    "n_criteria",
    *(
        c
        for c in SEGMENT_COLUMNS
        if c in ("customers", "active_customers", "arpa")
        or c.startswith(("churn_rate", "nrr_", "ltv"))
    ),
    "market_accounts",
    "headroom_accounts",
    "market_acv",
    "headroom",
)

_GEO = ("region", "country")


@dataclass(frozen=True)
class ICP:
    """The result of :func:`ideal_customer_profile`.

    Attributes
    ----------
    statement : str
        The ICP in words with its unit economics, n and market headroom.
    profile : dict
        The best segment's criteria ``{column: value}`` (empty when no segment qualifies).
    segments : pandas.DataFrame
        Every candidate segment with at least ``min_customers`` customers, best first:
        ``rank, segment`` (its description), the ``by`` columns (None where the segment does not
        use the criterion), ``n_criteria, customers, active_customers, arpa, churn_rate,
        churn_rate_low, churn_rate_high, nrr_12m, ltv, ltv_low, ltv_high`` (segment table) and
        ``market_accounts, headroom_accounts, market_acv, headroom`` (NaN without a market).
    headroom, headroom_accounts : float
        Of the best segment (NaN without a market table or segment).
    """

    statement: str
    profile: dict[str, Any]
    segments: pd.DataFrame
    headroom: float
    headroom_accounts: float
    by: tuple[str, ...]
    min_customers: int
    as_of: Any
    notes: tuple[str, ...] = field(default=())

    def __repr__(self) -> str:
        return f"<ICP as of {self.as_of}: {self.statement}>"


def _default_by(data: Data) -> list[str]:
    eng = engine_for(data)
    data = eng.data
    cols = set(data.table("customers").columns)
    out = []
    for c in FIRMOGRAPHIC_COLUMNS:
        if c in cols:
            out.append(c)
        elif c == "region" and "country" in cols:
            out.append("country")
    if not out:
        raise ValueError(
            "the customers table has none of the firmographic columns "
            f"{', '.join(FIRMOGRAPHIC_COLUMNS)}; pass by=[...]"
        )
    return out


def ideal_customer_profile(
    data: Data,
    as_of: Any,
    *,
    by: str | Sequence[str] | None = None,
    min_customers: int = 30,
    market: MarketLike | None = None,
    window_months: int = 12,
    gross_margin: float = 1.0,
    max_criteria: int | None = None,
    size_bands: SizeBands | None = None,
) -> ICP:
    """The segment with the best unit economics among those with enough customers, in words.

    docs/metrics.md "Ideal customer profile".  Candidates are the segments of every combination of
    one or more of the ``by`` criteria (up to ``max_criteria`` of them), each measured by
    :func:`segwork.segment_table` (docs/metrics.md "Segment table": ARPA, logo churn rate with its
    Wilson interval, 12-month NRR, LTV = ARPA x gross margin / churn with its interval from the
    churn interval's ends).  Only segments with at least ``min_customers`` customers
    (docs/metrics.md "Small segments") and no missing criterion value qualify.  They are ranked by
    ``ltv_low``, the LTV at the upper end of the 95 % churn interval, descending; ties by NRR
    (higher first), churn (lower first), fewer criteria.  The lower end of the LTV interval rewards
    both good unit economics and enough evidence: the point LTV favours small lucky segments and is
    undefined where no churn was seen.

    With a market table (``market``, else ``data``'s when it has one), each segment gets its
    headroom (docs/metrics.md "Penetration"): over the market segments matching its criteria that
    are market criteria (criteria such as ``billing_interval`` do not restrict the market),
    ``headroom_accounts`` = accounts not yet customers (accounts - customers per market segment,
    at least 0, see :func:`segwork.market.penetration`) and ``headroom`` = those accounts x ACV.

    Parameters
    ----------
    data : Dataset or Engine
        Needs ``customers`` and ``mrr`` (given or derived).
    as_of : date-like
        Explicit as-of date.
    by : str or list of str, optional
        Candidate criteria (customer columns or derived attributes such as ``plan`` or
        ``uses_<feature>``).  Default: the firmographic columns present among ``industry,
        company_size, region`` (``country`` without region) and ``billing_interval``.  A numeric
        ``company_size`` is grouped into the market's size bands (see ``size_bands``).
    min_customers : int, default 30
        Smallest number of customers of a qualifying segment.
    market : DataFrame, Ibis table or Dataset, optional
        Market table for the headroom (default: ``data``'s, if any).
    window_months : int, default 12
        Churn window of the segment table.
    gross_margin : float, default 1.0
        Gross margin used in LTV (stated in the statement when not 1).
    max_criteria : int, optional
        Largest number of criteria combined (default: all of ``by``).
    size_bands : (lower edges, labels), optional
        Company-size bands; default parsed from the market's labels, else the sample's bands.

    Returns
    -------
    ICP
        ``.statement``, ``.profile``, ``.segments`` (best first), ``.headroom``.

    Raises
    ------
    ValueError
        Unknown ``by`` columns (the message lists the available ones) or bad parameters.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> from segwork.market import ideal_customer_profile
    >>> customers = pd.DataFrame({"customer_id": range(1, 7), "signup_date": ["2024-01-01"] * 6,
    ...     "billing_interval": ["annual"] * 3 + ["monthly"] * 3})
    >>> mrr = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6, 1, 2, 3, 4],
    ...     "month": ["2024-01-01"] * 6 + ["2024-02-01"] * 4, "mrr": [100.0] * 10})
    >>> data = segwork.load({"customers": customers, "mrr": mrr})
    >>> icp = ideal_customer_profile(data, "2024-02-29", min_customers=3)
    >>> icp.profile
    {'billing_interval': 'annual'}
    >>> icp.statement.split(":")[0]
    'Customers on annual plans'
    """
    eng = engine_for(data)
    data = eng.data
    day = to_date(as_of)
    by_names = as_list(by) if by is not None else _default_by(eng)
    if not by_names:
        raise ValueError("by must name at least one criterion")
    if (
        not isinstance(min_customers, numbers.Integral)
        or isinstance(min_customers, bool)
        or min_customers < 1
    ):
        raise ValueError(f"min_customers must be an integer >= 1, got {min_customers!r}")
    k_max = len(by_names) if max_criteria is None else int(max_criteria)
    if k_max < 1:
        raise ValueError(f"max_criteria must be >= 1, got {max_criteria!r}")

    frame: pd.DataFrame | None = None
    if market is not None:
        frame = market_frame(market)
    elif data.has("market"):
        frame = market_frame(data)
    customers = data.table("customers")
    bins: dict[str, Sequence[float]] = {}
    relabel: dict[str, str | None] = {}
    bands: SizeBands | None = None
    if "company_size" in by_names and "company_size" in customers.columns:
        if customers["company_size"].type().is_numeric():
            bands = resolve_size_bands(size_bands, frame)
            bins = {"company_size": list(bands[0])}
            relabel = bands_relabel(bands)

    combos = [
        list(combo)
        for k in range(1, min(k_max, len(by_names)) + 1)
        for combo in itertools.combinations(by_names, k)
    ]
    # one engine query for every combination (segment_tables sums them from the finest one); a
    # page reads the counts at any date from its segment history (the criteria stay, dates change)
    tables = segment_tables(
        eng,
        combos,
        day,
        window_months=window_months,
        gross_margin=gross_margin,
        min_customers=int(min_customers),
        bins=bins or None,
    )
    candidates = []
    for sub, t in zip(combos, tables, strict=True):
        if "company_size" in sub and relabel:
            t["company_size"] = t["company_size"].map(relabel)
        t = t[(t["customers"] >= int(min_customers)) & t[sub].notna().all(axis=1)]
        if len(t):
            t = t.copy()
            t["n_criteria"] = len(sub)
            candidates.append(t)
    segments = _rank(candidates, by_names)
    notes: list[str] = []
    if frame is not None:
        notes.extend(_add_headroom(segments, eng, day, frame, by_names, bands))
    else:
        notes.append("no market table: headroom not computed")
    profile: dict[str, Any] = {}
    if len(segments):
        best = segments.iloc[0]
        profile = {c: _plain(best[c]) for c in by_names if best[c] is not None}
    statement = _statement(segments, profile, by_names, int(min_customers), gross_margin, day,
                           frame is not None, notes, data.currency)  # fmt: skip
    head = float(segments["headroom"].iloc[0]) if len(segments) else math.nan
    head_acc = float(segments["headroom_accounts"].iloc[0]) if len(segments) else math.nan
    return ICP(
        statement=statement,
        profile=profile,
        segments=segments,
        headroom=head,
        headroom_accounts=head_acc,
        by=tuple(by_names),
        min_customers=int(min_customers),
        as_of=day,
        notes=tuple(notes),
    )


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _rank(candidates: list[pd.DataFrame], by_names: list[str]) -> pd.DataFrame:
    cols = ["rank", "segment", *by_names, *ICP_COLUMNS]
    if not candidates:
        out = pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
        out["segment"] = out["segment"].astype(object)
        for c in by_names:
            out[c] = out[c].astype(object)
        for c in ("rank", "n_criteria", "customers", "active_customers"):
            out[c] = out[c].astype("int64")
        return out
    t = pd.concat(candidates, ignore_index=True)
    for c in by_names:
        t[c] = t[c].astype(object).where(t[c].notna(), None)
    t["segment"] = [
        ", ".join(f"{c} = {row[c]}" for c in by_names if row[c] is not None)
        for row in t[by_names].to_dict("records")
    ]
    t["_k1"] = -t["ltv_low"]
    t["_k2"] = -t["nrr_12m"]
    t = t.sort_values(
        ["_k1", "_k2", "churn_rate", "n_criteria", "segment"],
        kind="mergesort",
        na_position="last",
    ).reset_index(drop=True)
    t["rank"] = np.arange(1, len(t) + 1, dtype="int64")
    for c in ("market_accounts", "headroom_accounts", "market_acv", "headroom"):
        t[c] = np.nan
    t["n_criteria"] = t["n_criteria"].astype("int64")
    return t[cols]


def _add_headroom(
    segments: pd.DataFrame,
    data: Data,
    day: Any,
    frame: pd.DataFrame,
    by_names: list[str],
    bands: SizeBands | None,
) -> list[str]:
    eng = engine_for(data)
    data = eng.data
    cust_cols = set(data.table("customers").columns)
    market_crit = [c for c in criteria_columns(frame) if c in cust_cols]
    if not market_crit:
        return ["the market's criteria are not customer columns: headroom not computed"]
    pen = penetration(
        eng,
        day,
        criteria=market_crit,
        market=frame,
        size_bands=bands,
        sizing={"n_draws": 1},  # only the point accounts x ACV are used here
    ).segments
    accounts = pen["accounts"].to_numpy(dtype="float64")
    acv = pen["acv"].to_numpy(dtype="float64")
    head_acc = pen["headroom_accounts"].to_numpy(dtype="float64")
    values = {c: pen[c].astype(object).to_numpy() for c in market_crit}
    out: dict[str, list[float]] = {
        k: [] for k in ("market_accounts", "headroom_accounts", "market_acv", "headroom")
    }
    for row in segments[by_names].to_dict("records"):
        mask = np.ones(len(pen), dtype=bool)
        for c in market_crit:
            if c in row and row[c] is not None:
                mask &= values[c] == row[c]
        out["market_accounts"].append(float(accounts[mask].sum()))
        out["headroom_accounts"].append(float(head_acc[mask].sum()))
        out["market_acv"].append(
            float(safe_ratio((accounts * acv)[mask].sum(), accounts[mask].sum()))
        )
        out["headroom"].append(float((head_acc * acv)[mask].sum()))
    for k, v in out.items():
        segments[k] = np.asarray(v, dtype="float64")
    return []


def _statement(
    segments: pd.DataFrame,
    profile: dict[str, Any],
    by_names: list[str],
    min_customers: int,
    gross_margin: float,
    day: Any,
    has_market: bool,
    notes: list[str],
    currency: str = "USD",
) -> str:
    def money(value: float) -> str:  # in the data's currency (docs/metrics.md "Currencies")
        return sizing_money(value, currency)

    if not len(segments):
        return (
            f"No segment by {', '.join(by_names)} has at least {min_customers} customers signed "
            f"up by {day}: lower min_customers or use fewer criteria."
        )
    b = segments.iloc[0]
    if math.isfinite(b["ltv"]):
        hi = money(b["ltv_high"]) if math.isfinite(b["ltv_high"]) else "unbounded"
        ltv = f"LTV {money(b['ltv'])} (95% CI {money(b['ltv_low'])} to {hi})"
    else:
        ltv = (
            f"LTV undefined (no churn seen; at least {money(b['ltv_low'])} at the 95% upper "
            "churn bound)"
        )
    gm = f" at {gross_margin:.0%} gross margin" if gross_margin != 1 else ""
    nrr = f", NRR {pct(b['nrr_12m'], 0)}" if math.isfinite(b["nrr_12m"]) else ""
    text = (
        f"{describe_segment(profile)}: {ltv}{gm}, churn {pct(b['churn_rate'], 2)}/month{nrr}, "
        f"ARPA {money(b['arpa'])}/month, n = {int(b['customers']):,} customers "
        f"(best of {len(segments):,} segments with at least {min_customers} customers, ranked "
        "by the lower end of the LTV interval)."
    )
    if has_market and math.isfinite(b["headroom"]):
        market_part = {c: v for c, v in profile.items() if c in ("industry", "company_size", *_GEO)}
        if market_part:
            said = describe_segment(market_part, noun="companies")
            where = said[0].lower() + said[1:]
            scope = ""
        else:
            where, scope = "accounts", " (the profile uses no market criterion: whole market)"
        text += (
            f" Headroom{scope}: {b['headroom_accounts']:,.0f} {where} in the market are not yet "
            f"customers, x ACV {money(b['market_acv'])} = {money(b['headroom'])} a year."
        )
    elif notes:
        text += " (" + "; ".join(notes) + ".)"
    return text
