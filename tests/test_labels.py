"""Column and axis words (segwork/labels.py; issue 24: "Table headers and axis titles are in
words, with units and the currency", "Each metric's definition ... shows on hover")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import segwork
from segwork.labels import LABELS, column_help, column_title, humanize, label
from segwork.widgets import CohortExplorer, MarketExplorer, SegmentExplorer
from segwork.widgets.tables import header_html, table_html

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"
UNITS = {"", "%", "% per month", "% a year", "pp", "months", "years", "money", "money a year"}


def sections() -> set[str]:
    return {
        m.group(1).strip()
        for m in re.finditer(r"^#{2,3} (.+)$", REFERENCE.read_text(), flags=re.M)
    }


def test_every_label_names_a_section_of_the_reference_and_a_known_unit() -> None:
    known = sections()
    for name, lab in LABELS.items():
        assert name == name.lower() and "_" not in lab.text, name
        assert lab.unit in UNITS, (name, lab.unit)
        assert not lab.section or lab.section in known, (name, lab.section)
        assert not lab.help or lab.help.endswith("."), name


def test_titles_by_hand() -> None:
    assert column_title("churned_customer_months") == "Churned customer-months"
    assert column_title("mrr", "usd") == "MRR (USD)" and column_title("mrr") == "MRR (USD)"
    assert column_title("tam", "EUR") == "TAM (EUR a year)"
    assert column_title("churn_rate") == "Logo churn (% per month)"
    assert column_title("mix_effect") == "Mix effect (pp)"
    assert column_title("billing_interval") == "Billing interval"
    assert humanize("nrr_12m") == "NRR 12 months" and humanize("customer id") == "Customer ID"
    assert label("MRR") == LABELS["mrr"]  # a name's case does not matter
    assert column_help("churn_rate").endswith('(docs/metrics.md, "Logo churn")')


def test_header_cells_escape_and_carry_the_definition() -> None:
    assert header_html("<b>") == '<th data-column="&lt;b&gt;">&lt;b&gt;</th>'
    cell = header_html("nrr_12m")
    assert cell.startswith('<th data-column="nrr_12m" title="Net revenue retention')
    assert cell.endswith(">NRR, 12 months (%)</th>")


@pytest.fixture(scope="module")
def pages() -> list[object]:
    data = segwork.load_sample()
    sample = segwork.load_sample()
    shop = segwork.load({n: sample.to_pandas(n) for n in ("customers", "transactions")})
    return [SegmentExplorer(data), CohortExplorer(data), MarketExplorer(data),
            SegmentExplorer(shop)]


def test_no_page_table_is_headed_by_a_column_name(pages: list[object]) -> None:
    """Every table of every page (sections included, the shop page too) is headed in words:
    no header keeps a column name's underscore, and each money header names the currency."""
    for ex in pages:
        tables = {"result": ex.result, **ex.tables}  # type: ignore[attr-defined]
        for title, table in tables.items():
            html = table_html(table, max_rows=1, currency="EUR")
            heads = re.findall(r"<th [^>]*>([^<]*)</th>", html)
            assert heads and not [h for h in heads if "_" in h], (title, heads)
            for col in table.columns:
                if LABELS.get(str(col).lower(), label("x")).unit.startswith("money"):
                    assert f">{column_title(str(col), 'EUR')}</th>" in html
                    assert "(EUR" in column_title(str(col), "EUR")
