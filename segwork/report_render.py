"""A report page: an executed notebook as HTML for stakeholders (``segwork report``).

What a page leaves out of the notebook:

- the cells tagged :data:`HIDDEN_TAGS`: ``analyst-only`` (text that tells an analyst how to change
  parameters or run the notebook), the ``parameters`` cell and the ``injected-parameters`` cell
  papermill adds, and every code cell's source (code cells without outputs leave nothing);
- a heading an output repeats: a page's explorer draws its own title, the notebook's markdown
  title comes first, so the title is shown once;
- anything fetched from the network: no require.js, MathJax or mermaid from a CDN.

plotly.js (about 4.8 MB) is either one shared file per ``--out`` folder,
``<out>/assets/plotly-<version>.min.js`` (:func:`write_assets`; the pages link it as
``../assets/...``, so a page opens offline from its report folder next to ``assets/``), or, with
``self_contained``, inlined in the page, which then opens alone as a single file.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "ASSETS_DIR",
    "HIDDEN_TAGS",
    "PLOTLY_MIME",
    "WIDGET_MIME",
    "clean_notebook",
    "plotly_asset_name",
    "render_html",
    "write_assets",
]

#: Cells with one of these tags are not part of a report page.
HIDDEN_TAGS = frozenset({"analyst-only", "parameters", "injected-parameters"})
#: Folder of ``--out`` holding the files the pages share.
ASSETS_DIR = "assets"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"

# a report page's template: the lab template without any script from a CDN, with the page's
# navigation and print rules
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{{ resources.segwork_head | safe }}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}<style type="text/css">{{ resources.segwork_css | safe }}</style>
{%- endblock extra_css -%}
{%- block body_header -%}{{ super() }}{{ resources.segwork_nav | safe }}{%- endblock body_header -%}
"""

_CSS = """
.segwork-nav{font:13px/1.4 system-ui,sans-serif;color:#555;padding:8px 16px;
  border-bottom:1px solid #e5e5e5;margin-bottom:8px}
.segwork-nav a{color:#1a5fb4;text-decoration:none;margin-right:12px}
.segwork-nav .segwork-here{font-weight:600;color:#222;margin-right:12px}
@media print{
  .segwork-nav{display:none}
  .jp-OutputArea-output{overflow:visible !important}
  table.segwork-table{font-size:9px}
  .jp-Cell{break-inside:auto}
  .plotly-graph-div{break-inside:avoid}
}
"""

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def plotly_asset_name() -> str:
    """The shared plotly.js file's name, with plotly.js's version (an upgrade adds a file and
    leaves older reports with theirs).

    >>> plotly_asset_name().startswith("plotly-") and plotly_asset_name().endswith(".min.js")
    True
    """
    from plotly.offline import get_plotlyjs_version

    return f"plotly-{get_plotlyjs_version()}.min.js"


def write_assets(root: Path) -> Path:
    """Write ``<root>/assets/plotly-<version>.min.js`` unless it is there; return its path.

    Written to a temporary name and renamed, so a page never meets half a file, and concurrent
    runs (of other as_of dates) write the same bytes.
    """
    from plotly.offline import get_plotlyjs

    folder = root / ASSETS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / plotly_asset_name()
    text = get_plotlyjs()
    if path.exists() and path.stat().st_size == len(text.encode()):
        return path
    tmp = folder / f".{path.name}.{os.getpid()}"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", text))).strip().casefold()


def _drop_repeated_headings(markup: str, seen: set[str]) -> str:
    """``markup`` without its ``<h1>``/``<h2>`` elements whose text is in ``seen``."""

    def repl(m: re.Match[str]) -> str:
        return "" if _norm(m.group(2)) in seen else m.group(0)

    return re.sub(r"<h([12])\b[^>]*>(.*?)</h\1>", repl, markup, flags=re.S | re.I)


def clean_notebook(nb: Any) -> list[dict[str, Any]]:
    """Strip widget state and widget views (keeping the static HTML) in place; return the
    headline figures the pages attached (:data:`segwork.headline.HEADLINE_MIME`)."""
    from segwork.headline import HEADLINE_MIME

    nb.metadata.pop("widgets", None)
    headlines = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            if HEADLINE_MIME in data:
                headlines.append(data[HEADLINE_MIME])
            if WIDGET_MIME in data and len(data) > 1:
                data.pop(WIDGET_MIME)
            if PLOTLY_MIME in data and "text/html" not in data:
                import plotly.io as pio

                fig = pio.from_json(json.dumps(data[PLOTLY_MIME]))
                data["text/html"] = fig.to_html(full_html=False, include_plotlyjs=False)
    return headlines


def stakeholder_cells(nb: Any) -> Any:
    """A copy of ``nb`` with only what a report page shows (see the module docstring)."""
    import copy

    page = copy.deepcopy(nb)
    kept = []
    seen: set[str] = set()
    for cell in page.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & HIDDEN_TAGS:
            continue
        if cell.cell_type == "markdown":
            seen.update(_norm(h) for h in _HEADING.findall(_text(cell.source)))
        elif cell.cell_type == "code":
            if not cell.get("outputs"):
                continue
            for output in cell.outputs:
                data = output.get("data") or {}
                if "text/html" in data and seen:
                    data["text/html"] = _drop_repeated_headings(_text(data["text/html"]), seen)
        elif cell.cell_type == "raw":
            continue
        kept.append(cell)
    page.cells = kept
    return page


def _nav(as_of: str, pages: Sequence[tuple[str, str]], current: str) -> str:
    links = ['<a href="../index.html">All reports</a>']
    for name, label in pages:
        if name == current:
            links.append(f'<span class="segwork-here">{html.escape(label)}</span>')
        else:
            links.append(f'<a href="{html.escape(name)}.html">{html.escape(label)}</a>')
    return (
        f'<nav class="segwork-nav" aria-label="reports">{" ".join(links)}'
        f"<span>as of {html.escape(as_of)}</span></nav>"
    )


def render_html(
    nb: Any,
    *,
    name: str,
    title: str,
    as_of: str,
    pages: Sequence[tuple[str, str]] = (),
    self_contained: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """The report page of the executed notebook ``nb`` (cleaned by :func:`clean_notebook`).

    ``pages`` are the report's ``(name, title)`` pairs for the navigation; ``self_contained``
    inlines plotly.js, else the page links ``../assets/plotly-<version>.min.js``.
    """
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from plotly.offline import get_plotlyjs

    exporter = HTMLExporter(
        template_name="lab", extra_loaders=[DictLoader({"segwork_report.j2": _TEMPLATE})]
    )
    exporter.template_file = "segwork_report.j2"
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    if self_contained:
        head = f'<script type="text/javascript">{get_plotlyjs()}</script>'
    else:
        src = f"../{ASSETS_DIR}/{plotly_asset_name()}"
        head = f'<script type="text/javascript" src="{html.escape(src)}"></script>'
    resources = {
        "metadata": {"name": f"{title} · {as_of}"},
        "segwork_head": head,
        "segwork_css": _CSS,
        "segwork_nav": _nav(as_of, pages, name),
        **(extra or {}),
    }
    body, _ = exporter.from_notebook_node(stakeholder_cells(nb), resources=resources)
    return body
