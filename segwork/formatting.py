"""How an amount in a currency is written: symbol, axis titles, plotly hover formats, short text.

One place for the currency of every figure, table caption and sentence (docs/metrics.md
"Currencies": every amount is in the Dataset's base currency, ``Dataset.currency``).  Common codes
have a symbol (USD ``$``, EUR ``€``, GBP ``£``, JPY ``¥``); any other code is written in front of
the number followed by a space (``CHF 1,200``).
"""

from __future__ import annotations

import math

__all__ = [
    "DEFAULT_CURRENCY",
    "SYMBOLS",
    "currency_code",
    "currency_prefix",
    "money_axis",
    "money_hover",
    "money_one_decimal",
    "money_text",
    "rate_text",
    "signed_count",
    "signed_money",
    "signed_percent",
    "signed_pp",
]

#: The currency of figures drawn without one (and of data that names none).
DEFAULT_CURRENCY = "USD"
#: Symbols of the common codes; other codes are written as the code and a space.
SYMBOLS: dict[str, str] = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def currency_code(currency: str | None) -> str:
    """The code as shown: trimmed and upper-cased; empty or None is :data:`DEFAULT_CURRENCY`.

    >>> currency_code(" eur "), currency_code(None)
    ('EUR', 'USD')
    """
    text = (currency or "").strip().upper()
    return text or DEFAULT_CURRENCY


def currency_prefix(currency: str | None) -> str:
    """What is written before an amount: the symbol of a common code, else the code and a space.

    >>> [currency_prefix(c) for c in ("USD", "eur", "GBP", "JPY", "CHF")]
    ['$', '€', '£', '¥', 'CHF ']
    """
    code = currency_code(currency)
    return SYMBOLS.get(code, f"{code} ")


def money_axis(title: str, currency: str | None) -> str:
    """A money axis (or colour bar, caption) title naming the currency code.

    >>> money_axis("MRR", "eur"), money_axis("annual value", None)
    ('MRR (EUR)', 'annual value (USD)')
    """
    return f"{title} ({currency_code(currency)})"


def money_hover(ref: str, currency: str | None, fmt: str = ",.0f") -> str:
    """A plotly hover-template piece writing the value ``ref`` as an amount.

    ``ref`` is what goes between ``%{`` and ``}`` (``"y"``, ``"customdata[2]"``).

    >>> money_hover("y", "EUR"), money_hover("x", "CHF")
    ('€%{y:,.0f}', 'CHF %{x:,.0f}')
    """
    return f"{currency_prefix(currency)}%{{{ref}:{fmt}}}"


def money_text(value: float, currency: str | None, *, short: bool = False) -> str:
    """An amount as text: ``€1,234`` or, ``short``, ``€41k`` / ``£1.7M`` / ``$2.5B``.

    The sign goes before the symbol (``-€1,234``); NaN and infinities read ``—``.

    >>> money_text(1234.4, "EUR"), money_text(-41_000, "GBP", short=True)
    ('€1,234', '-£41k')
    >>> money_text(1_700_000, "CHF", short=True), money_text(999_999, "USD", short=True)
    ('CHF 1.7M', '$1M')
    """
    if value is None or not math.isfinite(float(value)):
        return "—"
    v = float(value)
    sign = "-" if v < 0 else ""
    a = abs(v)
    prefix = currency_prefix(currency)
    if short:
        rounded = float(f"{a:.3g}")  # 999,999 reads 1M, not 1e+03k
        for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if rounded >= div:
                n = rounded / div
                num = f"{n:,.0f}" if n >= 1000 else f"{n:.3g}"
                return f"{sign}{prefix}{num}{suffix}"
    return f"{sign}{prefix}{a:,.0f}"


def money_one_decimal(value: float, currency: str | None, *, missing: str = "n/a") -> str:
    """A large amount with one decimal and its scale: ``$18.9B``, ``€350.2M``, ``£12.3k``,
    ``$950`` (the market sentences' style); NaN and infinities read ``missing``.

    >>> money_one_decimal(18.9e9, "USD"), money_one_decimal(-2.5e6, "EUR")
    ('$18.9B', '-€2.5M')
    >>> money_one_decimal(950, "CHF"), money_one_decimal(float("nan"), "USD")
    ('CHF 950', 'n/a')
    """
    if value is None or not math.isfinite(float(value)):
        return missing
    v = float(value)
    sign = "-" if v < 0 else ""
    a = abs(v)
    prefix = currency_prefix(currency)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= size:
            return f"{sign}{prefix}{a / size:,.1f}{suffix}"
    return f"{sign}{prefix}{a:,.0f}"


def signed_count(delta: float) -> str:
    """A change of a count: ``+152``, ``-1,204``; no change reads ``±0``.

    >>> signed_count(152), signed_count(-1204), signed_count(0)
    ('+152', '-1,204', '±0')
    """
    n = round(delta)
    return "±0" if n == 0 else f"{n:+,}"


def signed_percent(relative: float | None) -> str:
    """A relative change (0.032 is 3.2 %) with its sign and one decimal; ``n/a`` without a base.

    >>> signed_percent(0.032), signed_percent(-0.0449), signed_percent(0.00004)
    ('+3.2 %', '-4.5 %', '±0.0 %')
    >>> signed_percent(None)
    'n/a'
    """
    if relative is None or not math.isfinite(relative):
        return "n/a"
    text = f"{relative * 100:+.1f}"
    return "±0.0 %" if float(text) == 0 else f"{text} %"


def signed_pp(delta: float) -> str:
    """A change of a rate in percentage points (rates as fractions: -0.004 is -0.4 pp).

    >>> signed_pp(-0.004), signed_pp(0.011), signed_pp(0.0004)
    ('-0.4 pp', '+1.1 pp', '±0.0 pp')
    """
    text = f"{delta * 100:+.1f}"
    return "±0.0 pp" if float(text) == 0 else f"{text} pp"


def signed_money(delta: float, currency: str | None) -> str:
    """A change of an amount, short: ``+$42.1k``, ``-€1.2M``; no change reads ``±0``.

    >>> signed_money(42_100, "USD"), signed_money(-1_200_000, "EUR"), signed_money(0.2, "USD")
    ('+$42.1k', '-€1.2M', '±0')
    """
    if round(delta) == 0:
        return "±0"
    text = money_text(delta, currency, short=True)
    return text if text.startswith("-") else f"+{text}"


def rate_text(rate: float) -> str:
    """A rate as a percentage: one decimal, two under 1 %.

    >>> rate_text(0.02644), rate_text(0.9075), rate_text(0.00247)
    ('2.6 %', '90.8 %', '0.25 %')
    """
    pct = rate * 100
    return f"{pct:.2f} %" if abs(pct) < 1 else f"{pct:.1f} %"
