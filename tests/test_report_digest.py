"""The digest (summary.md) of segwork/report_digest.py against hand-made previous metrics.json files.

Every expected change below is worked by hand from the planted figures:
MRR 100,000 -> 103,200 is +3,200 = +3.2 %; paying customers 1,000 -> 1,152 is +152; ARPA 100 -> 89.6
is -10.4 (-$10); logo churn 3.0 % -> 2.6 % is -0.4 pp; NRR 95.0 % -> 96.1 % is +1.1 pp.  Segment MRR
moves: D 0 -> 3,700 (new, +157 customers), B 30,000 -> 27,000 (-3,000 = -10.0 %, -20), A 50,000 ->
52,000 (+2,000 = +4.0 %, +10), C 20,000 -> 20,500 (+500: fourth, not shown).
"""

from __future__ import annotations

import json

import pytest

import segwork
from segwork.formatting import signed_count, signed_money, signed_percent, signed_pp
from segwork.report_digest import compute_kpis, digest, list_reports, previous_report

BY = ["current_plan", "billing_interval"]


def sub_metrics(as_of, generated, figures, segments):
    return {
        "as_of": as_of,
        "generated_at": generated,
        "data": {"currency": "USD"},
        "notebooks": {"customer_segmentation": {}, "cohort_retention": {}},
        "skipped": {"market_sizing": "the data has no market table"},
        "kpis": {
            "kind": "subscription",
            "window_months": 12,
            "figures": figures,
            "segments_by": BY,
            "segments": [{"segment": s, "mrr": m, "active_customers": n} for s, m, n in segments],
        },
    }


PREVIOUS = sub_metrics(
    "2024-11-30",
    "2024-12-01T06:00:00+00:00",
    {"mrr": 100_000.0, "active_customers": 1000.0, "customers": 1500.0, "arpa": 100.0,
     "logo_churn": 0.030, "nrr_12m": 0.950},
    [("A", 50_000.0, 500.0), ("B", 30_000.0, 300.0), ("C", 20_000.0, 200.0)],
)  # fmt: skip
CURRENT = sub_metrics(
    "2024-12-31",
    "2025-01-01T06:00:00+00:00",
    {"mrr": 103_200.0, "active_customers": 1152.0, "customers": 1650.0, "arpa": 89.6,
     "logo_churn": 0.026, "nrr_12m": 0.961},
    [("A", 52_000.0, 510.0), ("B", 27_000.0, 280.0), ("C", 20_500.0, 205.0),
     ("D", 3_700.0, 157.0)],
)  # fmt: skip


def test_signed_formatters():
    assert signed_percent(0.032) == "+3.2 %" and signed_percent(-0.104) == "-10.4 %"
    assert signed_pp(0.026 - 0.030) == "-0.4 pp" and signed_pp(0.961 - 0.950) == "+1.1 pp"
    assert signed_count(152) == "+152" and signed_count(-1204) == "-1,204"
    assert signed_money(3200, "USD") == "+$3.2k" and signed_money(-3000, "EUR") == "-€3k"


def test_digest_against_a_hand_made_previous_report():
    text = digest(CURRENT, PREVIOUS)
    assert text.splitlines() == [
        "# segwork report, as of 2024-12-31",
        "",
        "Compared with the report as of 2024-11-30 (generated 2024-12-01 06:00 UTC).",
        "Amounts in USD.",
        "",
        "- **MRR** $103k: +3.2 % (+$3.2k)",
        "- **Paying customers** 1,152: +152",
        "- **ARPA** $90: -10.4 % (-$10)",
        "- **Logo churn (monthly)** 2.6 %: -0.4 pp",
        "- **NRR (12 months)** 96.1 %: +1.1 pp",
        "",
        "Largest segment moves (current plan x billing interval):",
        "1. D: MRR +$3.7k (new), paying customers +157",
        "2. B: MRR -$3k (-10.0 %), paying customers -20",
        "3. A: MRR +$2k (+4.0 %), paying customers +10",
        "",
        "Pages: customer segmentation, cohort retention.",
        "Not run: market sizing (the data has no market table).",
    ]
    assert len(text) < 1000  # pastes into a chat message


def test_first_run_says_there_is_nothing_to_compare():
    text = digest(CURRENT, None)
    assert "First report in this folder: nothing to compare with yet." in text
    assert "- **MRR** $103k\n" in text and "pp" not in text and "segment moves" not in text


def test_previous_report_is_the_newest_earlier_as_of(tmp_path):
    for day, metrics in [("2024-10-31", {**PREVIOUS, "as_of": "2024-10-31"}),
                         ("2024-11-30", PREVIOUS),
                         ("2025-01-31", {**CURRENT, "as_of": "2025-01-31"})]:  # fmt: skip
        (tmp_path / day).mkdir()
        (tmp_path / day / "metrics.json").write_text(json.dumps(metrics))
    (tmp_path / "assets").mkdir()  # not a report
    (tmp_path / ".tmp-2024-12-31-1").mkdir()  # a run under way
    (tmp_path / "2024-09-30").mkdir()  # a folder without metrics.json: passed over
    assert [m["folder"] for m in list_reports(tmp_path)] == [
        "2025-01-31",
        "2024-11-30",
        "2024-10-31",
    ]
    assert previous_report(tmp_path, "2024-12-31")["as_of"] == "2024-11-30"
    assert previous_report(tmp_path, "2024-10-01") is None  # nothing earlier: a first run
    # a run for a date already reported, with nothing earlier: the report it replaces
    same = previous_report(tmp_path, "2024-10-31")
    assert same["same_as_of"] and same["as_of"] == "2024-10-31"
    assert "previous run for the same date (generated 2024-12-01 06:00 UTC)" in digest(
        CURRENT, same
    )


def test_a_previous_report_without_kpis_compares_its_headline():
    """Reports written before the KPIs were kept: MRR and customers from the segmentation
    page's headline figures."""
    old = {
        "as_of": "2024-11-30",
        "generated_at": "2024-12-01T06:00:00+00:00",
        "notebooks": {
            "customer_segmentation": {
                "headline": [{"figures": {"mrr": 100_000.0, "active_customers": 1000}}]
            }
        },
    }
    text = digest(CURRENT, old)
    assert "- **MRR** $103k: +3.2 % (+$3.2k)" in text
    assert "- **Paying customers** 1,152: +152" in text
    assert "- **Logo churn (monthly)** 2.6 %\n" in text  # nothing to compare with


def test_transactions_digest():
    def tx(as_of, revenue, buyers, repeat, segments):
        return {
            "as_of": as_of,
            "generated_at": f"{as_of}T23:00:00+00:00",
            "data": {"currency": "EUR"},
            "kpis": {
                "kind": "transactions",
                "figures": {"revenue": revenue, "buyers": buyers, "orders": 2 * buyers,
                            "aov": revenue / (2 * buyers), "repeat_rate": repeat},
                "segments_by": ["rfm_segment"],
                "segments": [{"segment": s, "revenue": r, "buyers": b} for s, r, b in segments],
            },
        }  # fmt: skip

    old = tx("2024-11-30", 200_000.0, 400, 0.50, [("Champions", 80_000.0, 100)])
    new = tx("2024-12-31", 190_000.0, 380, 0.52, [("Champions", 70_000.0, 90)])
    text = digest(new, old)
    assert "- **Revenue (12 months)** €190k: -5.0 % (-€10k)" in text
    assert "- **Buyers (12 months)** 380: -20" in text
    assert "- **Orders (12 months)** 760: -40" in text
    assert "- **Average order value** €250: ±0.0 % (±0)" in text
    assert "- **Repeat-purchase rate** 52.0 %: +2.0 pp" in text
    assert "1. Champions: revenue -€10k (-12.5 %), buyers -10" in text


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    from tests.sources.shopify_export import write_shopify_export

    folder = tmp_path_factory.mktemp("shop")
    write_shopify_export(folder, 60)
    return segwork.load(folder)


def test_compute_kpis_on_the_sample_agrees_with_the_segment_table():
    data = segwork.open_data(None)
    kpis = compute_kpis(data, "2024-12-31")
    total = segwork.segment_table(data, None, "2024-12-31").iloc[0]
    assert kpis["kind"] == "subscription" and kpis["segments_by"] == BY
    assert kpis["figures"]["mrr"] == pytest.approx(total["mrr"])
    assert kpis["figures"]["logo_churn"] == pytest.approx(total["churn_rate"])
    assert kpis["figures"]["active_customers"] == total["active_customers"]
    seg_mrr = sum(s["mrr"] for s in kpis["segments"])
    assert seg_mrr == pytest.approx(kpis["figures"]["mrr"])
    assert {s["segment"] for s in kpis["segments"]} >= {"Enterprise · annual", "Starter · monthly"}
    json.dumps(kpis, allow_nan=False)  # plain JSON


def test_compute_kpis_on_transactions_only_data(shop):
    kpis = compute_kpis(shop, shop.data_end.isoformat())
    assert kpis["kind"] == "transactions" and kpis["segments_by"] == ["rfm_segment"]
    total = segwork.segment_table(shop, None, shop.data_end).iloc[0]
    assert kpis["figures"]["orders"] == total["orders"] > 0
    assert kpis["figures"]["revenue"] == pytest.approx(total["revenue"])
    assert sum(s["revenue"] for s in kpis["segments"]) == pytest.approx(total["revenue"])
    json.dumps(kpis, allow_nan=False)
