"""Results in words: a segment described, the best segments and the mix shift as sentences.

One place for the sentences the pages and reports show beside their tables (numbers through
:mod:`segwork.formatting`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from segwork.formatting import currency_prefix, money_text

__all__ = [
    "LTV_HORIZON_YEARS",
    "best_customers_sentence",
    "describe_segment",
    "implied_lifetime_months",
    "is_missing",
    "lifetime_columns",
    "lifetime_text",
    "ltv_flagged",
    "mix_sentence",
    "percent_text",
    "segment_by_columns",
    "shop_customers_sentence",
]

_LOCATION = ("country", "region", "market", "city", "state")
_SIGNUP = ("signup_month", "signup_quarter", "signup_year")
# How describe_segment words a criterion ({v} its value, {words} the value with spaces for "_"):
# after the noun, the plan ones before the usage-flag rule and the others after it ...
_PLAN_PHRASES = {"billing_interval": "on {words} plans", "first_plan": "who started on {v}"}
_PHRASES = {
    "lifecycle_stage": "in the {words} stage",
    "acquisition_channel": "acquired via {words}",
    "channel": "acquired via {words}",
    **dict.fromkeys(_SIGNUP, "signed up {v}"),
    "clv_band": "with predicted CLV {v}",
    "alive_band": "with P(alive) {v}",
    "first_product": "who first bought {v}",
}
# ... or before the noun
_ADJECTIVES = {"engagement": "{v}-engagement", "rfm_segment": '"{v}" (RFM)'}
_TABLE_COLUMNS = frozenset(
    {
        "customers", "customers_share", "active_customers", "mrr", "mrr_share", "arpa",
        "at_risk_customer_months", "churned_customer_months", "churn_rate", "churn_rate_low",
        "churn_rate_high", "nrr_12m", "ltv", "ltv_low", "ltv_high", "small_segment",
        "implied_lifetime_years", "ltv_flag",
        "weight_a", "weight_b", "rate_a", "rate_b", "mix_effect", "rate_effect", "total_effect",
    }
)  # fmt: skip


def segment_by_columns(table: pd.DataFrame) -> list[str]:
    """The segment (``by``) columns of a segment table or mix-shift table: those before the
    metric columns."""
    out = []
    for col in table.columns:
        if col in _TABLE_COLUMNS:
            break
        out.append(str(col))
    return out


# -- segments ------------------------------------------------------------------------------------
def is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def describe_segment(
    values: pd.Series | Mapping[str, Any],
    by: Sequence[str] | None = None,
    *,
    noun: str | None = None,
) -> str:
    """A segment in words, e.g. "Enterprise customers in DE, on annual plans" (one rule for
    every page and report).

    The criteria are read in the order of ``by`` (default: the keys of ``values``):

    - firmographics: ``industry`` as "in software", ``company_size`` as "with 51-250
      employees" (the noun is then "companies"), places (``country``, ``region``, ...) as "in X";
    - plans: a plan name as an adjective ("Enterprise customers"), ``billing_interval`` as "on
      annual plans", ``first_plan`` as "who started on X", a missing plan as "with no paid plan";
    - behaviour: usage flags (``uses_api``) as "using api" / "not using api", engagement as
      "high-engagement", RFM segments quoted, ``lifecycle_stage`` as "in the X stage",
      ``acquisition_channel`` as "acquired via X", signup periods as "signed up 2023-Q2";
    - shop criteria: "with predicted CLV X", "with P(alive) X", "who first bought X";
    - other words as adjectives, other values (bins such as "(10, 50]") as "with column X".

    ``noun`` overrides "customers" / "companies".

    Examples
    --------
    >>> describe_segment({"industry": "software", "company_size": "51-250", "region": "Europe",
    ...                   "billing_interval": "annual"})
    'Companies in software with 51-250 employees in Europe, on annual plans'
    >>> describe_segment({"plan": "enterprise", "uses_invoice_automation": True})
    'Enterprise customers using invoice automation'
    >>> describe_segment({"engagement": "high", "region": "EU"}, ["engagement", "region"])
    'High-engagement customers in EU'
    """
    names = list(values.keys()) if by is None else list(by)
    adjectives: list[str] = []
    firmo: list[str] = []
    after: list[str] = []
    companies = False
    for col in names:
        v = values[col]
        words = str(v).replace("_", " ")
        if is_missing(v) and col in ("plan", "current_plan", "first_plan"):
            after.append("with no paid plan")
        elif is_missing(v):
            after.append(f"with unknown {col.replace('_', ' ')}")
        elif col == "industry":
            firmo.append(f"in {v}")
            companies = True
        elif col == "company_size":
            firmo.append(f"with {v} employees")
            companies = True
        elif col in _LOCATION:
            firmo.append(f"in {v}")
        elif col in _PLAN_PHRASES:
            after.append(_PLAN_PHRASES[col].format(v=v, words=words))
        elif isinstance(v, bool | np.bool_):
            feature = col.removeprefix("uses_").replace("_", " ")
            after.append(f"using {feature}" if v else f"not using {feature}")
        elif col in _ADJECTIVES:
            adjectives.append(_ADJECTIVES[col].format(v=v))
        elif col in _PHRASES:
            after.append(_PHRASES[col].format(v=v, words=words))
        elif isinstance(v, str) and v and not any(c in v for c in "()[]<>=,"):
            adjectives.append(words)
        else:
            after.append(f"with {col.replace('_', ' ')} {v}")
    head = " ".join([*adjectives, noun or ("companies" if companies else "customers"), *firmo])
    text = head + ((", " if firmo else " ") + ", ".join(after) if after else "")
    return text[0].upper() + text[1:]


def _short_money(v: float) -> str:
    a = abs(v)
    if a >= 1e7:
        return f"{v / 1e6:.0f}M"
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.0f}k"
    if a >= 1e3:
        return f"{v / 1e3:.1f}k"
    return f"{v:,.0f}"


#: An LTV whose implied lifetime (1 / monthly churn) is longer than this many years is flagged:
#: LTV = ARPA x margin / churn counts on the customer staying that long (docs/metrics.md "LTV").
LTV_HORIZON_YEARS = 10


def implied_lifetime_months(churn_rate: float) -> float:
    """The lifetime a monthly logo churn rate implies, in months: 1 / churn (inf without churn,
    NaN when the rate is unknown).

    >>> implied_lifetime_months(0.0265), implied_lifetime_months(0.0)
    (37.735849056603776, inf)
    """
    try:
        rate = float(churn_rate)
    except (TypeError, ValueError):
        return math.nan
    if math.isnan(rate) or rate < 0:
        return math.nan
    return math.inf if rate == 0 else 1.0 / rate


def ltv_flagged(churn_rate: float) -> bool:
    """Whether the lifetime ``churn_rate`` implies is beyond :data:`LTV_HORIZON_YEARS`.

    >>> ltv_flagged(0.0265), ltv_flagged(0.0022), ltv_flagged(float("nan"))
    (False, True, False)
    """
    months = implied_lifetime_months(churn_rate)
    return not math.isnan(months) and months > LTV_HORIZON_YEARS * 12


def lifetime_text(churn_rate: float) -> str:
    """The implied lifetime in words: months under two years, else years; flagged past the
    horizon.

    >>> lifetime_text(0.1), lifetime_text(0.0265), lifetime_text(0.0022)
    ('10 months', '3.1 years', '38 years, beyond the 10-year horizon: LTV flagged')
    """
    months = implied_lifetime_months(churn_rate)
    if math.isnan(months):
        return "unknown"
    if math.isinf(months):
        text = "unbounded (no churn observed)"
    elif months < 24:
        text = f"{months:.0f} months"
    else:
        years = months / 12
        text = f"{years:.1f} years" if years < 10 else f"{years:.0f} years"
    if ltv_flagged(churn_rate):
        text += f", beyond the {LTV_HORIZON_YEARS}-year horizon: LTV flagged"
    return text


def lifetime_columns(table: pd.DataFrame) -> pd.DataFrame:
    """A segment table with the implied lifetime beside LTV: ``implied_lifetime_years`` (1 /
    churn / 12) and ``ltv_flag`` ("beyond 10 years" past :data:`LTV_HORIZON_YEARS`, else empty),
    after ``ltv_high``; a table without ``ltv`` and ``churn_rate`` is returned as it is.

    >>> t = pd.DataFrame({"churn_rate": [0.0265, 0.0022], "ltv": [1.0, 2.0], "ltv_high": [1, 2]})
    >>> lifetime_columns(t)[["implied_lifetime_years", "ltv_flag"]].round(1).values.tolist()
    [[3.1, ''], [37.9, 'beyond 10 years']]
    """
    if "ltv" not in table.columns or "churn_rate" not in table.columns:
        return table
    out = table.copy()
    after = "ltv_high" if "ltv_high" in out.columns else "ltv"
    at = list(out.columns).index(after) + 1
    months = [implied_lifetime_months(r) for r in out["churn_rate"]]
    out.insert(at, "implied_lifetime_years", [m / 12 for m in months])
    flag = f"beyond {LTV_HORIZON_YEARS} years"
    flags = [flag if ltv_flagged(r) else "" for r in out["churn_rate"]]
    out.insert(at + 1, "ltv_flag", flags)
    return out


def _churn_text(rate: float) -> str:
    pct = rate * 100
    return f"{pct:.1f} %/month" if pct >= 1 else f"{pct:.2f} %/month"


def best_customers_sentence(table: pd.DataFrame, n: int = 3, *, currency: str = "USD") -> str:
    """The "best customers" statement: the top segments by LTV among those that are not small.

    Reads a :func:`segwork.segment_table` result (pure; no computation).  Segments flagged
    ``small_segment`` (docs/metrics.md "Small segments") and those without a defined LTV (no
    churn seen) are skipped.  Each segment reads like "Enterprise customers in DE, on annual
    plans: LTV $41k (CI $33k-$52k), implied lifetime 14 years ..., churn 0.6 %/month, n = 212",
    the CI being the LTV interval that follows from the churn interval, the implied lifetime
    1 / churn, flagged past :data:`LTV_HORIZON_YEARS` (docs/metrics.md "LTV").

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`segwork.segment_table` result.
    n : int, default 3
        How many segments at most.
    currency : str, default "USD"
        The currency of the LTV (``Dataset.currency``): ``$41k``, ``€41k``, ``CHF 41k``.

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"plan": ["enterprise", "pro"], "customers": [212, 12],
    ...     "churn_rate": [0.006, 0.001], "ltv": [41_000.0, 90_000.0],
    ...     "ltv_low": [33_000.0, 20_000.0], "ltv_high": [52_000.0, 200_000.0],
    ...     "small_segment": [False, True]})
    >>> t.attrs.update(gross_margin=0.8, min_customers=30)
    >>> best_customers_sentence(t)
    'Best customers (highest LTV among segments of at least 30 customers, gross margin 80 %): \
Enterprise customers: LTV $41k (CI $33k-$52k), implied lifetime 14 years, beyond the 10-year \
horizon: LTV flagged, churn 0.60 %/month, n = 212.'
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    by = segment_by_columns(table)
    min_n = int(table.attrs.get("min_customers", 30))
    gm = table.attrs.get("gross_margin")
    ok = table[~table["small_segment"].astype(bool) & np.isfinite(table["ltv"].astype(float))]
    ok = ok.sort_values("ltv", ascending=False, kind="mergesort").head(n)
    if ok.empty:
        return (
            f"No segment with at least {min_n} customers has a defined LTV yet (too few "
            "customers, or no churn observed): lower the minimum segment size or use fewer "
            "criteria."
        )
    parts = []
    prefix = currency_prefix(currency)
    for _, row in ok.iterrows():
        hi = row["ltv_high"]
        ci = (
            f"CI {prefix}{_short_money(row['ltv_low'])}-{prefix}{_short_money(hi)}"
            if np.isfinite(hi)
            else f"CI from {prefix}{_short_money(row['ltv_low'])}, no upper bound"
        )
        parts.append(
            f"{describe_segment(row, by)}: LTV {prefix}{_short_money(row['ltv'])} ({ci}), "
            f"implied lifetime {lifetime_text(row['churn_rate'])}, "
            f"churn {_churn_text(row['churn_rate'])}, n = {int(row['customers']):,}"
        )
    gm_text = f", gross margin {float(gm):.0%}".replace("%", " %") if gm is not None else ""
    return (
        f"Best customers (highest LTV among segments of at least {min_n} customers{gm_text}): "
        + "; ".join(parts)
        + "."
    )


def percent_text(v: float, digits: int = 0) -> str:
    return f"{v:.{digits}%}".replace("%", " %")


def shop_customers_sentence(table: pd.DataFrame, n: int = 3, *, currency: str = "USD") -> str:
    """The "best customers" statement of shop data: the top segments by predicted CLV.

    Reads an e-commerce segment table (:func:`segwork.segment_table` on transactions-only data;
    pure).  Small segments are skipped.  Each segment reads like ""Champions" (RFM) customers:
    predicted CLV £1.2k per customer (£240k in total), P(alive) 91 %, repeat rate 64 % (CI
    58-70 %), AOV £45, n = 200".  When no CLV could be predicted (``attrs["clv_error"]``) the
    sentence says why and names the segments with the most revenue instead.

    Examples
    --------
    >>> t = pd.DataFrame({"country": ["DE", "FR"], "customers": [212, 12],
    ...     "revenue": [9000.0, 800.0], "revenue_share": [0.9, 0.1], "aov": [45.0, 40.0],
    ...     "repeat_rate": [0.5, 0.4], "repeat_rate_low": [0.43, 0.2],
    ...     "repeat_rate_high": [0.57, 0.6], "mean_p_alive": [0.8, 0.7],
    ...     "mean_clv": [120.0, 300.0], "total_clv": [25440.0, 3600.0],
    ...     "small_segment": [False, True]})
    >>> t.attrs.update(min_customers=30, horizon_months=12, gross_margin=1.0)
    >>> shop_customers_sentence(t, currency="EUR")
    'Best customers (highest predicted CLV per customer over the next 12 months among segments \
of at least 30 customers, gross margin 100 %): Customers in DE: predicted CLV €120 per customer \
(€25.4k in total), P(alive) 80 %, repeat rate 50 % (CI 43-57 %), AOV €45, n = 212.'
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    by = segment_by_columns(table)
    min_n = int(table.attrs.get("min_customers", 30))
    big = table[~table["small_segment"].astype(bool)]

    def money(v: float) -> str:
        return money_text(v, currency, short=True)

    def common(row: pd.Series) -> str:
        alive = row["mean_p_alive"]
        alive_text = f"P(alive) {percent_text(alive)}, " if np.isfinite(alive) else ""
        ci = f"CI {row['repeat_rate_low'] * 100:.0f}-{row['repeat_rate_high'] * 100:.0f} %"
        rate = row["repeat_rate"]
        repeat = f"repeat rate {percent_text(rate)} ({ci})" if np.isfinite(rate) else "no order"
        aov = f", AOV {money(row['aov'])}" if np.isfinite(row["aov"]) else ""
        return f"{alive_text}{repeat}{aov}, n = {int(row['customers'])}"

    has_clv = np.isfinite(table["mean_clv"].astype(float))
    ok = big[np.isfinite(big["mean_clv"].astype(float))]
    if has_clv.any():
        ok = ok.sort_values("mean_clv", ascending=False, kind="mergesort").head(n)
        if ok.empty:
            return (
                f"No segment with at least {min_n} customers has a predicted CLV: lower the "
                "minimum segment size or use fewer criteria."
            )
        parts = [
            f"{describe_segment(row, by)}: predicted CLV {money(row['mean_clv'])} per customer "
            f"({money(row['total_clv'])} in total), {common(row)}"
            for _, row in ok.iterrows()
        ]
        horizon = table.attrs.get("horizon_months", 12)
        gm = table.attrs.get("gross_margin")
        gm_text = f", gross margin {percent_text(float(gm))}" if gm is not None else ""
        return (
            f"Best customers (highest predicted CLV per customer over the next {horizon} months "
            f"among segments of at least {min_n} customers{gm_text}): " + "; ".join(parts) + "."
        )
    why = (
        "the models could not be fitted"
        if table.attrs.get("clv_error")
        else "no segment has a customer with an order"
    )
    top = big.sort_values("revenue", ascending=False, kind="mergesort").head(n)
    head = f"No customer value could be predicted ({why})."
    if top.empty:
        return f"{head} No segment has at least {min_n} customers: lower the minimum size."
    parts = [
        f"{describe_segment(row, by)}: revenue {money(row['revenue'])} "
        f"({percent_text(row['revenue_share'])} of revenue), {common(row)}"
        for _, row in top.iterrows()
    ]
    return (
        f"{head} Segments with the most revenue (at least {min_n} customers): "
        + "; ".join(parts)
        + "."
    )


def mix_sentence(mix: pd.DataFrame) -> str:
    a = mix.attrs
    tot = mix.iloc[-1]
    what = "NRR" if a["metric"] == "nrr" else "Monthly churn"
    digits = 1 if a["metric"] == "nrr" else 2
    ra, rb = a["overall_a"], a["overall_b"]
    if not (np.isfinite(ra) and np.isfinite(rb)):
        return f"{what}: not defined at both dates ({a['as_of_a']}, {a['as_of_b']})."
    return (
        f"{what} went from {ra:.{digits}%} ({a['as_of_a']}) to {rb:.{digits}%} ({a['as_of_b']}): "
        f"{(rb - ra) * 100:+.2f} pp, of which segment mix {tot['mix_effect'] * 100:+.2f} pp and "
        f"within-segment rates {tot['rate_effect'] * 100:+.2f} pp."
    ).replace("%", " %")


# -- the explorer ---------------------------------------------------------------------------------
