"""What a column or axis is called on a page: words, its unit and currency, and its definition.

One vocabulary for every table header, axis title and hover help of the pages and reports:
``mrr`` reads "MRR (USD)", ``churned_customer_months`` reads "Churned customer-months", and
each metric carries a one-line definition from the metric reference (``docs/metrics.md``,
section named by :attr:`Label.section`) that the page shows on hover.

The tables themselves (:attr:`segwork.SegmentExplorer.result`, downloads, ``metrics.json``)
keep their column names; only what a reader sees is relabelled.

Examples
--------
>>> column_title("mrr", "EUR"), column_title("churned_customer_months")
('MRR (EUR)', 'Churned customer-months')
>>> column_title("churn_rate"), column_title("plan_tier")
('Logo churn (% per month)', 'Plan tier')
>>> column_help("nrr_12m").startswith("Net revenue retention")
True
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from segwork.formatting import currency_code

__all__ = ["LABELS", "LABELS_FILE", "Label", "column_help", "column_title", "humanize", "label"]


@dataclass(frozen=True)
class Label:
    """A column's name in words, its unit and its definition.

    Attributes
    ----------
    text : str
        The name in words ("Churned customer-months").
    unit : str
        ``"money"`` (the currency code is added: "MRR (USD)"), another unit written in brackets
        ("% per month", "months", "years", "pp"), or ``""`` for a count or a name.
    help : str
        A one-line definition, from the metric reference; ``""`` for plain attributes.
    section : str
        The section of ``docs/metrics.md`` that defines it; ``""`` when none does.
    """

    text: str
    unit: str = ""
    help: str = ""
    section: str = ""


def _read_labels() -> dict[str, Label]:
    """The vocabulary of ``segwork/share/labels.toml``, by column name."""
    with LABELS_FILE.open("rb") as f:
        table = tomllib.load(f)
    return {name: Label(**fields) for name, fields in table.items()}


#: Where the vocabulary lives: one TOML table per column (text, unit, help, section).
LABELS_FILE = Path(__file__).resolve().parent / "share" / "labels.toml"

#: The columns the pages show, by name (lower case), read from :data:`LABELS_FILE`.  Names not
#: listed read as :func:`humanize`.
LABELS: dict[str, Label] = _read_labels()


#: Words written in capitals (or their own spelling) wherever they appear in a name.
_WORDS = {
    "mrr": "MRR", "arr": "ARR", "arpa": "ARPA", "ltv": "LTV", "clv": "CLV", "nrr": "NRR",
    "grr": "GRR", "tam": "TAM", "sam": "SAM", "som": "SOM", "acv": "ACV", "rfm": "RFM",
    "icp": "ICP", "ci": "CI", "fx": "FX", "id": "ID", "pp": "pp", "p50": "P50", "p10": "P10",
    "p90": "P90", "usd": "USD", "eur": "EUR", "gbp": "GBP",
}


def humanize(name: str) -> str:
    """A snake_case name in words: first word capitalised, acronyms in capitals, ``12m`` as
    "12 months".

    >>> humanize("plan_tier"), humanize("mrr_12m_ago"), humanize("p_alive")
    ('Plan tier', 'MRR 12 months ago', 'P alive')
    """
    words = []
    for w in re.split(r"[_\s]+", str(name).strip()):
        if not w:
            continue
        m = re.fullmatch(r"(\d+)m", w)
        words.append(f"{m.group(1)} months" if m else _WORDS.get(w.lower(), w.lower()))
    if not words:
        return str(name)
    first = words[0]
    words[0] = first if first.isupper() or first[0].isdigit() else first[0].upper() + first[1:]
    return " ".join(words)


def label(name: str) -> Label:
    """The :class:`Label` of a column: listed in :data:`LABELS`, else its name in words.

    >>> label("arpa").text, label("region").text
    ('ARPA', 'Region')
    """
    return LABELS.get(str(name).lower()) or Label(humanize(str(name)))


def column_title(name: str, currency: str | None = None) -> str:
    """A column's header or axis title: its name in words and its unit, money with the currency
    code ("MRR (USD)").

    >>> column_title("ltv", "GBP"), column_title("implied_lifetime_years")
    ('LTV (GBP)', 'Implied lifetime (years)')
    """
    lab = label(name)
    if lab.unit.startswith("money"):
        return f"{lab.text} ({currency_code(currency)}{lab.unit.removeprefix('money')})"
    return f"{lab.text} ({lab.unit})" if lab.unit else lab.text


def column_help(name: str) -> str:
    """A column's definition for a hover or help line ("" when it has none), naming its section
    of the metric reference.

    >>> column_help("region")
    ''
    >>> column_help("arpa")
    'Average MRR per active customer (MRR / active customers). (docs/metrics.md, "ARPA")'
    """
    lab = label(name)
    if not lab.help:
        return ""
    return f'{lab.help} (docs/metrics.md, "{lab.section}")' if lab.section else lab.help
