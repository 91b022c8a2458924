"""Money and percent text of the market sentences (sizing, penetration, ICP)."""

from __future__ import annotations

import math

from segwork.formatting import money_one_decimal

__all__ = ["money", "pct"]


def money(value: float, currency: str | None = None) -> str:
    """Compact money text: ``$18.9B``, ``$350.2M``, ``$12.3k``, ``$950``; NaN is ``n/a``.

    ``currency`` (default USD) gives the symbol or code written in front
    (:func:`segwork.formatting.money_one_decimal`): ``money(2.5e6, "EUR")`` is ``€2.5M``.

    >>> money(18.9e9), money(-2.5e6, "EUR"), money(950, "CHF")
    ('$18.9B', '-€2.5M', 'CHF 950')
    """
    return money_one_decimal(value, currency)


def pct(value: float, digits: int = 1) -> str:
    """``0.0512`` -> ``"5.1%"``; NaN is ``n/a``."""
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    return f"{float(value) * 100:.{digits}f}%"
