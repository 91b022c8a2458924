"""The MIME type of a page's headline figures, shared by the pages and the report.

A page (:class:`segwork.widgets.explorer.Explorer`) attaches its headline figures to its display
output under :data:`HEADLINE_MIME`; the report (:mod:`segwork.report`) collects them into
``metrics.json``.  A module of its own so that a headless report does not import the widgets
(ipywidgets) for the constant.

It also holds the KPI cards a page opens with (:data:`KPI_CARDS`, :class:`Kpi`,
:func:`kpi_cards_html`): the key numbers at as_of with their signed change against the previous
period (:func:`previous_period`), written by :mod:`segwork.formatting`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from segwork.formatting import (
    money_text,
    rate_text,
    signed_count,
    signed_money,
    signed_percent,
    signed_pp,
)

__all__ = [
    "HEADLINE_KPIS",
    "HEADLINE_MIME",
    "KPI_CARDS",
    "Kpi",
    "finite_number",
    "kpi_cards_html",
    "kpis_of",
    "previous_period",
]

#: MIME type under which an explorer's headline figures are attached to its display output.
HEADLINE_MIME = "application/vnd.segwork.headline+json"


#: The headline KPIs per data kind, in the order they are shown: (key in the total row of
#: :func:`segwork.metrics.segment_table`, label, unit, shown); unit is "money" (change in % and
#: amount), "count" (signed number) or "rate" (change in percentage points); shown is "card" (on
#: a page's KPI cards, :data:`KPI_CARDS`), "digest" (in a report's digest,
#: :data:`segwork.report_digest.KPI_SPECS`) or "both".
HEADLINE_KPIS: dict[str, list[tuple[str, str, str, str]]] = {
    "subscription": [
        ("mrr", "MRR", "money", "both"),
        # "paying", as the digest says: the segment table's "Customers" counts every customer
        # signed up by as_of, the card those with MRR in as_of's month
        ("active_customers", "Paying customers", "count", "both"),
        ("arpa", "ARPA", "money", "digest"),
        ("churn_rate", "Logo churn (monthly)", "rate", "both"),
        ("nrr_12m", "NRR (12 months)", "rate", "both"),
    ],
    "transactions": [
        ("revenue", "Revenue (12 months)", "money", "both"),
        ("buyers", "Buyers (12 months)", "count", "both"),
        ("orders", "Orders (12 months)", "count", "digest"),
        ("aov", "Average order value", "money", "digest"),
        ("repeat_rate", "Repeat-purchase rate", "rate", "digest"),
        ("total_clv", "Predicted CLV (next 12 months)", "money", "card"),
    ],
}
#: The KPI cards a page opens with, per data kind: (key, label, unit) of :data:`HEADLINE_KPIS`.
KPI_CARDS: dict[str, list[tuple[str, str, str]]] = {
    kind: [(key, label, unit) for key, label, unit, shown in kpis if shown != "digest"]
    for kind, kpis in HEADLINE_KPIS.items()
}
#: A lower value is the better one for these KPIs (their change is coloured accordingly).
LOWER_IS_BETTER = frozenset({"churn_rate"})


@dataclass(frozen=True)
class Kpi:
    """One KPI card: the value at as_of and at the previous period (None when not known)."""

    key: str
    label: str
    unit: str
    value: float | None
    previous: float | None = None

    def value_text(self, currency: str | None) -> str:
        """The value as shown on the card (``$1.35M``, ``1,440``, ``2.6 %``; ``—`` unknown).

        >>> Kpi("mrr", "MRR", "money", 1_353_417).value_text("USD")
        '$1.35M'
        >>> Kpi("churn_rate", "Churn", "rate", 0.02644).value_text("USD")
        '2.6 %'
        """
        if self.value is None:
            return "—"
        if self.unit == "money":
            return money_text(self.value, currency, short=True)
        if self.unit == "rate":
            return rate_text(self.value)
        return f"{round(self.value):,}"

    def change_text(self, currency: str | None) -> str:
        """The signed change against the previous period ("" when either is unknown).

        >>> Kpi("mrr", "MRR", "money", 103.0, 100.0).change_text("EUR")
        '+3.0 % (+€3)'
        >>> Kpi("churn_rate", "Churn", "rate", 0.022, 0.026).change_text(None)
        '-0.4 pp'
        >>> Kpi("active_customers", "Paying customers", "count", 1440, 1288).change_text(None)
        '+152'
        """
        if self.value is None or self.previous is None:
            return ""
        delta = self.value - self.previous
        if self.unit == "money":
            relative = delta / abs(self.previous) if self.previous else None
            return f"{signed_percent(relative)} ({signed_money(delta, currency)})"
        if self.unit == "rate":
            return signed_pp(delta)
        return signed_count(delta)

    def tone(self) -> str:
        """``"up"`` (better), ``"down"`` (worse) or ``"flat"``: the colour of the change."""
        if self.value is None or self.previous is None or self.change_text(None).startswith("±"):
            return "flat"  # no change as shown (rounded) is no change
        better = (self.value < self.previous) == (self.key in LOWER_IS_BETTER)
        return "up" if better else "down"


def finite_number(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, not a number or not finite."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def previous_period(as_of: str) -> str:
    """The date KPI changes are measured against: one calendar month before ``as_of`` (a month
    end stays a month end).

    >>> previous_period("2024-12-31"), previous_period("2024-03-31"), previous_period("2024-03-15")
    ('2024-11-30', '2024-02-29', '2024-02-15')
    """
    day = pd.Timestamp(as_of)
    before = day - pd.DateOffset(months=1)
    if day.is_month_end:
        before = before + pd.offsets.MonthEnd(0)
    return before.date().isoformat()


def kpis_of(
    kind: str, now: Mapping[str, Any], before: Mapping[str, Any] | None
) -> list[Kpi]:
    """The KPI cards of data ``kind`` from the total rows at as_of (``now``) and at the previous
    period (``before``, None when not computed); an unknown kind has none.

    >>> [k.label for k in kpis_of("transactions", {"revenue": 10, "buyers": 2}, None)]
    ['Revenue (12 months)', 'Buyers (12 months)', 'Predicted CLV (next 12 months)']
    """
    cards = []
    for key, label, unit in KPI_CARDS.get(kind, []):
        old = None if before is None else finite_number(before.get(key))
        cards.append(Kpi(key, label, unit, finite_number(now.get(key)), old))
    return cards


#: The cards' style (a row of boxes that wraps; the change green when better, red when worse).
KPI_CSS = """<style>
.segwork-kpis{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0 10px}
.segwork-kpi{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:150px;
  background:#fafafa;font-family:system-ui,sans-serif}
.segwork-kpi-label{font-size:12px;color:#555}
.segwork-kpi-value{font-size:22px;font-weight:600;color:#222}
.segwork-kpi-change{font-size:12px;color:#555}
.segwork-kpi-change.up{color:#1a7f37}.segwork-kpi-change.down{color:#b42318}
</style>"""


def kpi_cards_html(kpis: Sequence[Kpi], currency: str | None, *, previous: str = "") -> str:
    """The KPI cards as HTML: label, value, and the signed change "vs ``previous``".

    >>> html_text = kpi_cards_html([Kpi("mrr", "MRR", "money", 110.0, 100.0)], "USD",
    ...                            previous="2024-11-30")
    >>> "+10.0 % (+$10) vs 2024-11-30" in html_text
    True
    """
    if not kpis:
        return ""
    cards = []
    for k in kpis:
        change = k.change_text(currency)
        since = f" vs {escape(previous)}" if change and previous else ""
        cards.append(
            f'<div class="segwork-kpi" data-kpi="{escape(k.key)}">'
            f'<div class="segwork-kpi-label">{escape(k.label)}</div>'
            f'<div class="segwork-kpi-value">{escape(k.value_text(currency))}</div>'
            f'<div class="segwork-kpi-change {k.tone()}">{escape(change)}{since}</div></div>'
        )
    return KPI_CSS + '<div class="segwork-kpis">' + "".join(cards) + "</div>"
