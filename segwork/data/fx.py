"""Currencies: the base currency, the ``fx`` table, and amounts converted month by month.

docs/metrics.md "Currencies": every amount is converted to the base currency at the rate of the
month it belongs to (the MRR of month m at m's rate, an order at its month's rate, a market ACV at
the latest rate).  The ``fx`` table holds ``currency, month, rate``: units of the base currency
per unit of ``currency``, one rate per currency and month.  A currency code is compared trimmed
and upper-cased; an empty code is the base currency.  Without an ``fx`` table the data must hold
one currency (any code), which then is the currency the pages show.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.contract import ContractBreach, DataContractError
from segwork.data.derive import month_index, month_start_of

__all__ = [
    "DEFAULT_CURRENCY",
    "MONEY_TABLES",
    "Currencies",
    "code",
    "convert_dated_amounts",
    "currencies",
    "rates",
    "require_rates",
    "settle_currencies",
    "to_base",
]

#: The currency of data that names none.
DEFAULT_CURRENCY = "USD"
#: Tables whose amounts may carry a ``currency`` column, and their money columns.
MONEY_TABLES: dict[str, tuple[str, ...]] = {
    "subscriptions": ("amount",),
    "mrr": ("mrr",),
    "transactions": ("amount", "price"),
    "market": ("acv", "price", "acv_low", "acv_mode", "acv_high"),
}


class Currencies:
    """What a Dataset's amounts are in: the base currency, and whether anything is converted.

    Attributes
    ----------
    base : str
        The currency every metric is in (a page's money figures, axes, reports).
    converts : bool
        Whether some amounts are in another currency and are converted with the ``fx`` table.
    found : tuple of str
        The currency codes of the data (upper-cased), most rows first.
    """

    def __init__(self, base: str, converts: bool = False, found: tuple[str, ...] = ()) -> None:
        self.base, self.converts, self.found = base, converts, found

    def __repr__(self) -> str:
        return f"Currencies(base={self.base!r}, converts={self.converts}, found={self.found})"


def code(col: ir.Value) -> ir.StringValue:
    """Engine expression: a currency code trimmed and upper-cased (empty stays empty)."""
    return col.cast("string").strip().upper()


def currencies(tables: Mapping[str, ir.Table]) -> pd.DataFrame:
    """``table, currency, rows``: the non-empty currency codes of every money table (small)."""
    parts = []
    for name in MONEY_TABLES:
        if name in tables and "currency" in tables[name].columns:
            t = tables[name]
            coded = t.select(currency=code(t.currency))
            coded = coded.filter(coded.currency.notnull() & (coded.currency != ""))
            counts = coded.group_by("currency").aggregate(rows=coded.count()).to_pandas()
            counts.insert(0, "table", name)
            parts.append(counts)
    if not parts:
        return pd.DataFrame({"table": [], "currency": [], "rows": []})
    out = pd.concat(parts, ignore_index=True)
    out["rows"] = out["rows"].astype("int64")
    return out.sort_values(["rows", "currency"], ascending=[False, True], ignore_index=True)


def settle_currencies(
    tables: Mapping[str, ir.Table], base_currency: str | None
) -> Currencies:
    """The data's base currency, or a :class:`DataContractError` when amounts cannot be summed.

    - With an ``fx`` table, ``base_currency`` is required; every other code is converted.
    - Without one, the data must hold a single currency (in every table together); it is the
      base, and ``base_currency``, if given, must name it.
    """
    found = currencies(tables)
    codes = tuple(dict.fromkeys(found["currency"]))
    base = base_currency.strip().upper() if base_currency else None
    if "fx" in tables:
        if base is None:
            raise DataContractError(
                [
                    ContractBreach(
                        "fx",
                        "currency",
                        "base_currency_missing",
                        "an fx table converts amounts to a base currency: name it with "
                        "load(..., base_currency='USD')",
                        0,
                        pd.DataFrame(),
                    )
                ]
            )
        return Currencies(base, converts=any(c != base for c in codes), found=codes)
    if len(codes) > 1:
        main = codes[0]
        others = found[found["currency"] != main]
        first = others.iloc[0]
        raise DataContractError(
            [
                ContractBreach(
                    str(first["table"]),
                    "currency",
                    "mixed_currency",
                    f"amounts in several currencies ({', '.join(codes)}) cannot be summed "
                    "without rates: add an fx table (currency, month, rate: units of the base "
                    "currency per unit) and load(..., base_currency='USD')",
                    int(others["rows"].sum()),
                    others.reset_index(drop=True),
                )
            ]
        )
    if codes and base is not None and codes[0] != base:
        raise DataContractError(
            [
                ContractBreach(
                    "fx",
                    "rate",
                    "missing_rate",
                    f"the amounts are in {codes[0]}, not base_currency {base}: add an fx table "
                    f"with the {codes[0]} rates, or leave base_currency out",
                    0,
                    pd.DataFrame(),
                )
            ]
        )
    return Currencies(codes[0] if codes else (base or DEFAULT_CURRENCY), found=codes)


def rates(fx: ir.Table) -> ir.Table:
    """``fx_currency, fx_month_idx, rate``: the fx table keyed by code and month index."""
    return fx.select(
        fx_currency=code(fx.currency),
        fx_month_idx=month_index(fx.month),
        rate=fx.rate.cast("float64"),
    )


def to_base(t: ir.Table, value: str, fx: ir.Table, base: str, *, coded: bool = False) -> ir.Table:
    """``t`` with ``value`` converted to ``base`` at the rate of its row's ``currency`` and
    ``month_idx`` (an empty code or the base's own: rate 1), and a column ``rate``.

    ``coded``: ``currency`` is already a :func:`code` (a native MRR table), not coded again.
    A rate the fx table lacks is null (so is the value): :func:`require_rates` names them.
    """
    r = rates(fx)
    keyed = t.mutate(_fx_code=t.currency.cast("string") if coded else code(t.currency))
    j = keyed.left_join(
        r, [keyed._fx_code == r.fx_currency, keyed.month_idx == r.fx_month_idx]
    )
    return _apply_rate(j, list(t.columns), (value,), base)


def _apply_rate(j: ir.Table, columns: list[str], values: tuple[str, ...], base: str) -> ir.Table:
    """The joined table's ``columns`` with ``values`` multiplied by the row's rate (1 for the
    base currency or an empty code), and the ``rate`` used."""
    c = j._fx_code
    own = c.isnull() | (c == "") | (c == base)
    rate = ibis.ifelse(own, ibis.literal(1.0), j.rate)
    kept = [c for c in columns if c != "rate"]
    return j.select(
        *[(j[c] * rate).name(c) if c in values else j[c] for c in kept], rate=rate
    )


def require_rates(needed: ir.Table, fx: ir.Table, base: str, what: str) -> None:
    """Raise naming the fx table, each currency and its months when a needed rate is missing.

    ``needed`` has ``currency, month_idx`` (any number of rows); ``what`` says what needs them.
    """
    # the few distinct raw (currency, month) pairs first, fetched, then their codes: a string
    # function on every row (13M rows of MRR at 1M customers) took 9 s, and the engine pushes a
    # filter on the codes below a DISTINCT of the same query
    pairs = needed.select("currency", "month_idx").distinct().to_pyarrow()
    raw = ibis.memtable(pairs)
    c = code(raw.currency)
    keys = raw.filter(c.notnull() & (c != "") & (c != base)).select(
        currency=c, month_idx=raw.month_idx
    ).distinct()
    r = rates(fx)
    missing = (
        keys.anti_join(r, [keys.currency == r.fx_currency, keys.month_idx == r.fx_month_idx])
        .order_by(["currency", "month_idx"])
        .to_pandas()
    )
    if missing.empty:
        return
    missing["month"] = [month_start_of(int(i)).strftime("%Y-%m") for i in missing["month_idx"]]
    per = [
        f"{cur}: {_months_text(list(g['month']))}" for cur, g in missing.groupby("currency")
    ]
    raise DataContractError(
        [
            ContractBreach(
                "fx",
                "rate",
                "missing_rate",
                f"no rate for {'; '.join(per)} ({what} in those months; the fx table needs one "
                f"rate to {base} per currency and month)",
                len(missing),
                missing[["currency", "month"]],
            )
        ]
    )


def _months_text(months: list[str], most: int = 6) -> str:
    shown = ", ".join(months[:most])
    return shown + (f" and {len(months) - most} more" if len(months) > most else "")


def latest_rates(fx: ir.Table) -> ir.Table:
    """``fx_currency, rate``: each currency's rate of its latest month."""
    r = rates(fx)
    last = r.group_by("fx_currency").aggregate(last=r.fx_month_idx.max())
    j = r.join(last, [r.fx_currency == last.fx_currency, r.fx_month_idx == last.last])
    return j.select(fx_currency=r.fx_currency, rate=r.rate)


def convert_at_load(name: str, t: ir.Table, fx: ir.Table, base: str) -> ir.Table:
    """A table whose amounts have one date each, in the base currency.

    ``transactions``: each order line at its month's rate; ``market``: ACVs at each currency's
    latest rate.  The original amounts are kept as ``<column>_original`` and the original code as
    ``currency_original``; ``currency`` becomes ``base`` (so a written, reloaded table is not
    converted twice).
    """
    cols = [c for c in MONEY_TABLES[name] if c in t.columns]
    keep: dict[str, Any] = {f"{c}_original": t[c] for c in cols}
    keep["currency_original"] = t.currency
    keyed = t.mutate(**keep, _fx_code=code(t.currency))
    if name == "market":
        r = latest_rates(fx)
        j = keyed.left_join(r, keyed._fx_code == r.fx_currency)
    else:
        r = rates(fx)
        j = keyed.left_join(
            r, [keyed._fx_code == r.fx_currency, month_index(keyed.date) == r.fx_month_idx]
        )
    out = _apply_rate(j, [c for c in keyed.columns if c != "_fx_code"], tuple(cols), base)
    return out.drop("rate").mutate(currency=ibis.literal(base))


def convert_dated_amounts(tables: Mapping[str, ir.Table], base: str) -> dict[str, ir.Table]:
    """``transactions`` and ``market`` converted to ``base`` (:func:`convert_at_load`), after
    checking the fx table has every rate they need (a missing one is named)."""
    fx = tables["fx"]
    out: dict[str, ir.Table] = {}
    t = tables.get("transactions")
    if t is not None and "currency" in t.columns:
        needed = t.select("currency", month_idx=month_index(t.date))
        require_rates(needed, fx, base, "orders")
        out["transactions"] = convert_at_load("transactions", t, fx, base)
    m = tables.get("market")
    if m is not None and "currency" in m.columns:
        c = code(m.currency)
        wanted = m.filter(c.notnull() & (c != "") & (c != base)).select(currency=c).distinct()
        r = rates(fx)
        lacking = wanted.anti_join(r, wanted.currency == r.fx_currency).to_pandas()
        if not lacking.empty:
            raise DataContractError(
                [
                    ContractBreach(
                        "fx",
                        "rate",
                        "missing_rate",
                        f"no rate for {', '.join(lacking['currency'])} (the market table's ACVs "
                        "are converted at each currency's latest rate)",
                        len(lacking),
                        lacking,
                    )
                ]
            )
        out["market"] = convert_at_load("market", m, fx, base)
    return out
