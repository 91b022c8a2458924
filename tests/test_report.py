"""`segwork report`: papermill runs written atomically, HTML offline, metrics.json, lock, secrets.

Runs a small fixture notebook (the product notebooks are covered by tests/notebooks) by pointing
the report at a temporary notebooks folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import nbformat
import pytest

import segwork.report as report
from segwork.report import ReportError, run_report

PARAMS = """data = None  # a path, or None for the sample
as_of = "2024-12-31"
api_token = ""
fail = False
by = ["plan"]
"""
BODY = """import plotly.graph_objects as go
import segwork
dataset = segwork.open_data(data)
assert not fail, "failing on purpose"
bridge = segwork.mrr_movements(dataset, as_of, by=by)
print("token is", api_token)
go.Figure(go.Bar(x=bridge.month, y=bridge.mrr_end))
"""


@pytest.fixture
def books(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Fixture"),
        nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(BODY),
    ]
    nbformat.write(nb, folder / "fixture.ipynb")
    monkeypatch.setattr(report, "NOTEBOOKS_DIR", folder)
    monkeypatch.setattr(report, "NOTEBOOKS", {"fixture": "fixture.ipynb"})
    return tmp_path


def test_report_writes_notebook_html_and_metrics(books):
    out = run_report(
        out=books / "reports",
        as_of="2024-06-30",
        params={"api_token": "s3cr3t-value-123", "by": '["region"]'},
    )
    assert out == books / "reports" / "2024-06-30"
    assert sorted(p.name for p in out.iterdir()) == [
        "fixture.html",
        "fixture.ipynb",
        "metrics.json",
        "summary.md",
    ]
    # the --out folder: the report, the shared plotly.js, the index and the latest digest
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "2024-06-30",
        "assets",
        "index.html",
        "summary.md",
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["as_of"] == "2024-06-30" and len(metrics["data"]["sha256"]) == 64
    assert metrics["data"]["currency"] == "USD"  # the sample names no currency
    assert metrics["notebooks"]["fixture"]["parameters"]["by"] == ["region"]
    # rows dated after as_of are set aside and reported (sample at 2024-06-30; see
    # tests/data/test_set_aside.py for the hand-worked counts)
    aside = {(r["table"], r["reason"]): r["rows"] for r in metrics["data"]["set_aside"]}
    assert sum(v for (t, _), v in aside.items() if t == "customers") == 442
    assert metrics["notebooks"]["fixture"]["parameters"]["api_token"] == "[redacted]"
    assert metrics["skipped"] == {} and metrics["data"]["kind"] == "subscription"
    assert metrics["kpis"]["kind"] == "subscription" and metrics["kpis"]["figures"]["mrr"] > 0
    for f in out.iterdir():
        assert "s3cr3t-value-123" not in f.read_text(), f.name  # secrets never written
    page = (out / "fixture.html").read_text()
    assert "Plotly.newPlot" in page or "plotly" in page.lower()
    assert page.count("/*! For license information please see plotly.min.js.LICENSE.txt */") <= 1
    assert "import segwork" not in page  # no code cells
    executed = nbformat.read(out / "fixture.ipynb", as_version=4)
    assert "widgets" not in executed.metadata
    assert not list((books / "reports").glob(".tmp-*")) and not list(
        (books / "reports").glob("*.lock")
    )


def test_failed_run_names_cell_and_keeps_previous_report(books):
    out = run_report(out=books / "reports", as_of="2024-06-30")
    before = (out / "metrics.json").read_text()
    with pytest.raises(
        ReportError,
        match=r"notebook fixture failed in cell \d+: AssertionError: failing on purpose",
    ):
        run_report(out=books / "reports", as_of="2024-06-30", params={"fail": "true"})
    assert (out / "metrics.json").read_text() == before
    assert sorted(p.name for p in (books / "reports").iterdir()) == [
        "2024-06-30",
        "assets",
        "index.html",
        "summary.md",
    ]


def test_unknown_and_badly_typed_parameters_are_refused(books):
    with pytest.raises(ReportError, match="no selected notebook has a parameter 'nope'"):
        run_report(out=books / "reports", params={"nope": "1"})
    with pytest.raises(ReportError, match="should be like"):
        run_report(out=books / "reports", params={"fail": '"yes"'})
    with pytest.raises(ReportError, match="unknown notebook"):
        run_report(out=books / "reports", notebooks=["other"])
    assert not (books / "reports" / "2024-12-31").exists()


def test_lock_refuses_a_second_run_and_stale_lock_is_taken_over(books):
    root = books / "reports"
    root.mkdir()
    lock = root / ".lock-2024-06-30"
    with report._lock(lock):  # a live run holds it (flock: even one in this process)
        assert lock.read_text() == str(os.getpid())
        with pytest.raises(
            ReportError, match=rf"already running \(pid {os.getpid()}, lock .*lock-2024-06-30\)"
        ):
            run_report(out=root, as_of="2024-06-30")
    assert not lock.exists()
    lock.write_text("999999999")  # left by a killed run: nobody holds its flock
    assert run_report(out=root, as_of="2024-06-30").exists()
    assert sorted(os.listdir(root)) == ["2024-06-30", "assets", "index.html", "summary.md"]


def test_leftovers_of_killed_runs_are_removed_and_a_moved_aside_report_put_back(tmp_path):
    root = tmp_path / "reports"
    # killed between moving the previous report aside and moving the new one in, and mid-run
    (root / ".old-2024-06-30-999999998").mkdir(parents=True)
    (root / ".old-2024-06-30-999999998" / "metrics.json").write_text('{"as_of": "2024-06-30"}')
    (root / ".tmp-2024-06-30-999999999").mkdir()
    (root / ".tmp-2024-06-30-999999999" / "fixture.ipynb").write_text("{partial")
    (root / ".tmp-2024-06-29-999999999").mkdir()  # another as_of's run: not ours to touch
    report._tidy(root, "2024-06-30")
    assert sorted(os.listdir(root)) == [".tmp-2024-06-29-999999999", "2024-06-30"]
    assert (root / "2024-06-30" / "metrics.json").read_text() == '{"as_of": "2024-06-30"}'
    (root / ".old-2024-06-30-999999997").mkdir()  # moved aside, but the new report got in
    report._tidy(root, "2024-06-30")
    assert sorted(os.listdir(root)) == [".tmp-2024-06-29-999999999", "2024-06-30"]
    assert (root / "2024-06-30" / "metrics.json").read_text() == '{"as_of": "2024-06-30"}'


def test_state_file_per_notebook(books):
    state = books / "state.json"
    state.write_text(json.dumps({"fixture": {"by": ["country"]}}))
    out = run_report(out=books / "reports", as_of="2024-06-30", state_file=state)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["notebooks"]["fixture"]["parameters"]["by"] == ["country"]


def test_metrics_record_the_base_currency_and_the_kernels_get_it(books):
    """docs/metrics.md "Currencies": amounts in EUR and USD with an fx table, base EUR.  The
    notebook's kernel opens the data with that base currency (without it the fx table is refused)
    and metrics.json records the currency of every amount as data.currency."""
    from tests.widgets.test_currency import fx_frames

    folder = books / "fx-data"
    folder.mkdir()
    for name, frame in fx_frames().items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    out = run_report(
        data=folder,
        base_currency="eur",
        out=books / "reports",
        as_of="2024-04-30",
        params={"by": "null"},
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["data"]["currency"] == "EUR"


def test_two_runs_keep_both_reports_index_them_and_digest_the_change(books):
    """A second as_of keeps the first report; summary.md compares with it (its KPIs computed on
    the sample by the report itself: see tests/test_report_digest.py for the digest's
    arithmetic)."""
    root = books / "reports"
    first = run_report(out=root, as_of="2024-05-31")
    assert "nothing to compare with yet" in (root / "summary.md").read_text()
    second = run_report(out=root, as_of="2024-06-30")
    assert sorted(p.name for p in root.iterdir()) == [
        "2024-05-31",
        "2024-06-30",
        "assets",
        "index.html",
        "summary.md",
    ]
    summary = (root / "summary.md").read_text()
    assert summary == (second / "summary.md").read_text()
    assert "nothing to compare" in (first / "summary.md").read_text()
    old = json.loads((first / "metrics.json").read_text())["kpis"]["figures"]
    new = json.loads((second / "metrics.json").read_text())["kpis"]["figures"]
    from segwork.formatting import signed_count, signed_percent

    assert "Compared with the report as of 2024-05-31 (generated " in summary
    change = signed_percent((new["mrr"] - old["mrr"]) / old["mrr"])
    assert "- **MRR** " in summary and f": {change} (" in summary
    delta = signed_count(new["active_customers"] - old["active_customers"])
    assert f"- **Paying customers** {round(new['active_customers']):,}: {delta}" in summary
    assert "Largest segment moves (current plan x billing interval):\n1. " in summary
    index = (root / "index.html").read_text()
    assert index.index("2024-06-30/fixture.html") < index.index("2024-05-31/fixture.html")
    page = (second / "fixture.html").read_text()
    assert '<script src="../assets/plotly-' in page or 'src="../assets/plotly-' in page


@pytest.mark.skipif(
    not (shutil.which("chromium") and shutil.which("pdftotext")),
    reason="needs Debian chromium and poppler-utils (apt-get install chromium poppler-utils)",
)
def test_pdf_and_self_contained_page(books):
    out = run_report(out=books / "reports", as_of="2024-06-30", pdf=True, self_contained=True)
    assert (out / "fixture.pdf").exists()
    text = subprocess.run(
        ["pdftotext", str(out / "fixture.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Fixture" in text and "papermill" not in text
    page = (out / "fixture.html").read_text()
    assert "../assets/" not in page and "* plotly.js v" in page  # opens alone
    assert not (books / "reports" / "assets").exists()
    assert "fixture.pdf" in (books / "reports" / "index.html").read_text()


TX_BODY = """import segwork
print("kind", segwork.open_data(data).kind)
"""


def test_transactions_only_data_runs_what_it_supports(books, monkeypatch, tmp_path):
    """A Shopify export: no market table, so market sizing is not run, and says why."""
    from tests.sources.shopify_export import write_shopify_export

    folder = books / "notebooks"
    nb = nbformat.read(folder / "fixture.ipynb", as_version=4)
    nb.cells[-1] = nbformat.v4.new_code_cell(TX_BODY)
    nbformat.write(nb, folder / "tx.ipynb")
    monkeypatch.setattr(
        report, "NOTEBOOKS", {"market_sizing": "tx.ipynb", "customer_segmentation": "tx.ipynb"}
    )
    shop = tmp_path / "shop"
    write_shopify_export(shop, 40)
    out = run_report(data=shop, out=books / "reports", params={"by": "null"})
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["notebooks"]) == ["customer_segmentation"]
    assert metrics["skipped"] == {"market_sizing": "the data has no market table"}
    assert metrics["data"]["kind"] == "transactions"
    assert metrics["kpis"]["kind"] == "transactions" and metrics["kpis"]["figures"]["orders"] > 0
    summary = (out / "summary.md").read_text()
    assert "Not run: market sizing (the data has no market table)." in summary
    assert "- **Revenue (12 months)** $" in summary
    assert sorted(p.name for p in out.iterdir()) == [
        "customer_segmentation.html",
        "customer_segmentation.ipynb",
        "metrics.json",
        "summary.md",
    ]
    with pytest.raises(ReportError, match="notebook market_sizing cannot run on this data: "
                       "the data has no market table"):  # fmt: skip
        run_report(data=shop, out=books / "reports", notebooks=["market_sizing"])
