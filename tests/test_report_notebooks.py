"""`segwork report` end to end on the three product notebooks and the sample."""

from __future__ import annotations

import json
import re

import nbformat

from segwork.report import NOTEBOOKS, run_report


def test_report_on_the_product_notebooks(tmp_path):
    out = run_report(out=tmp_path, as_of="2024-12-31", params={"gross_margin": "0.8"})
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            *(f"{n}.html" for n in NOTEBOOKS),
            *(f"{n}.ipynb" for n in NOTEBOOKS),
            "metrics.json",
            "summary.md",
        ]
    )
    metrics = json.loads((out / "metrics.json").read_text())
    books = metrics["notebooks"]
    # -p applies to the notebooks that declare the parameter only
    assert books["customer_segmentation"]["parameters"]["gross_margin"] == 0.8
    assert "gross_margin" not in books["cohort_retention"]["parameters"]
    seg = books["customer_segmentation"]["headline"][0]["figures"]
    assert seg["customers"] == 2000 and seg["best_segment"]["customers"] >= 30
    market = books["market_sizing"]["headline"][0]["figures"]
    assert market["tam"] > market["som"] > 0 and market["icp"].startswith("Ideal customer profile")
    cohort = books["cohort_retention"]["headline"][0]["figures"]
    assert 0 < cohort["weighted_retention"]["12"] < 1
    assert metrics["data"]["currency"] == "USD"
    for name in NOTEBOOKS:
        # the headline figures and the page say what currency their amounts are in
        assert books[name]["headline"][0]["currency"] == "USD"
        page = (out / f"{name}.html").read_text()
        assert "Amounts in USD." in page
        assert "segwork.open_data" not in page  # no code cells
        assert "js-plotly-plot" in page or "Plotly.newPlot" in page
        assert "* plotly.js v" not in page and 'src="../assets/plotly-' in page  # shared
        assert len(page.encode()) < 1_000_000  # not 5 MB
        # a page for stakeholders: no notebook-operating text, no parameters cell, title once
        text = re.sub(r"<(script|style)\b.*?</\1>|<[^>]+>", " ", page, flags=re.S)
        assert not re.search(r"papermill|For analysts|Change the parameters", text), name
        assert "injected" not in text.lower()
        title = books[name]["title"]
        heads = re.findall(r"<h[12][^>]*>\s*([^<]+)", page)
        assert heads.count(title) == 1, (name, heads)
        nb = nbformat.read(out / f"{name}.ipynb", as_version=4)
        assert "widgets" not in nb.metadata
        assert not any(
            o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", [])
        )
