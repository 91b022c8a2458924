"""Report pages (segwork/report_render.py): what a stakeholder does not see, plotly.js shared or
inlined, nothing fetched from a CDN.  Built from a hand-made executed notebook (no kernel)."""

from __future__ import annotations

import re

import nbformat
import plotly.graph_objects as go
import pytest

from segwork.report_render import (
    ASSETS_DIR,
    clean_notebook,
    plotly_asset_name,
    render_html,
    write_assets,
)

PLOTLY_BANNER = "* plotly.js v"  # the first line of plotly.min.js


def executed_notebook() -> nbformat.NotebookNode:
    """What papermill leaves: the title cell, an analyst-only cell, the parameters and injected
    parameters, a code cell without output and one whose output repeats the title."""
    v4 = nbformat.v4
    fig = go.Figure(go.Bar(x=["Alpha", "Beta"], y=[3, 5]))
    page = v4.new_code_cell(
        "explorer",
        outputs=[
            v4.new_output(
                "execute_result",
                data={
                    "text/html": "<h2>Market sizing</h2><p>Stakeholder text.</p>"
                    "<h3>Market segments</h3>",
                    "text/plain": "explorer",
                },
                execution_count=4,
            ),
            v4.new_output("display_data", data={"application/vnd.plotly.v1+json": fig.to_dict()}),
        ],
    )
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# Market sizing\n\nWhat the page is about."),
            v4.new_markdown_cell(
                "Change the parameters below; run headless with papermill.",
                metadata={"tags": ["analyst-only"]},
            ),
            v4.new_code_cell("share = 0.05", metadata={"tags": ["parameters"]}),
            v4.new_code_cell(
                "share = 0.08",
                metadata={"tags": ["injected-parameters"]},
                outputs=[v4.new_output("stream", name="stdout", text="injected share 0.08")],
            ),
            v4.new_code_cell("import segwork"),
            page,
        ]
    )
    nb.metadata["widgets"] = {"state": {}}
    return nb


def visible_text(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.fixture(scope="module")
def pages():
    nb = executed_notebook()
    assert clean_notebook(nb) == [] and "widgets" not in nb.metadata
    kw = dict(name="market_sizing", title="Market sizing", as_of="2024-12-31",
              pages=[("market_sizing", "Market sizing"), ("cohort_retention", "Cohort retention")])  # fmt: skip
    return render_html(nb, **kw), render_html(nb, self_contained=True, **kw)


def test_no_analyst_text_parameters_or_code(pages):
    shared, _ = pages
    text = visible_text(shared)
    assert "What the page is about." in text and "Stakeholder text." in text
    assert "papermill" not in text and "Change the parameters" not in text
    assert "share = 0.0" not in text and "injected share" not in text
    assert "import segwork" not in shared


def test_the_title_shows_once(pages):
    shared, _ = pages
    headings = re.findall(r"<h[12][^>]*>(.*?)</h[12]>", shared, flags=re.S)
    assert [re.sub(r"<[^>]+>|¶", "", h).strip() for h in headings] == ["Market sizing"]
    assert "<h3>Market segments</h3>" in shared  # other headings stay
    assert "<title>Market sizing · 2024-12-31</title>" in shared


def test_plotly_is_shared_or_inlined_and_nothing_comes_from_a_cdn(pages, tmp_path):
    shared, alone = pages
    src = f"../{ASSETS_DIR}/{plotly_asset_name()}"
    assert f'src="{src}"' in shared and PLOTLY_BANNER not in shared
    assert len(shared) < 500_000
    assert alone.count(PLOTLY_BANNER) >= 1 and src not in alone and len(alone) > 4_000_000
    for page in pages:
        assert not re.search(r"<script[^>]+src=\"https?://", page)  # no require.js, MathJax
        assert "Plotly.newPlot" in page and "Alpha" in page
        assert 'href="../index.html"' in page and 'href="cohort_retention.html"' in page
    path = write_assets(tmp_path)
    assert path == tmp_path / ASSETS_DIR / plotly_asset_name()
    first = path.stat().st_mtime_ns
    assert write_assets(tmp_path) == path and path.stat().st_mtime_ns == first  # kept
    assert PLOTLY_BANNER in path.read_text()
    assert sorted(p.name for p in (tmp_path / ASSETS_DIR).iterdir()) == [path.name]
