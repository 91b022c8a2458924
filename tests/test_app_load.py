"""Load: ten stakeholders at once on one `segwork app`, each with their own criteria.

One Debian chromium (playwright) opens ten sessions concurrently, each a deep link with different
criteria (segmentation ``by``/``bins``/``where``/``min_customers``, cohort ``period``/``metric``/
``cohort``/``by``).  Every page is rendered by its own kernel and its widgets arrive over the
kernel websocket; each session must show exactly the table segwork computes in-process for its
criteria (so no session sees another's numbers), every session must have its own kernel, and the
server must still answer afterwards.  The kernels' memory is reported (``pytest -s``, and the
``kernel_rss_mib_per_session`` property in JUnit XML).  A second, short test runs Voila with the
app's command line at a tiny ``cull_idle_timeout`` (``segwork app --cull-idle-timeout``) and checks
that the kernel of a page nobody is connected to is shut down.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.parse
from typing import Any

import nbformat
import pandas as pd
import psutil  # a dependency of ipykernel
import pytest

import segwork
from segwork.app import app_command
from segwork.plots.cohorts import cohort_label
from segwork.sentences import lifetime_columns
from segwork.widgets.tables import format_frame
from tests.test_app import drain, get, start_app, wait_until

CHROMIUM = shutil.which("chromium")
PAGE_TIMEOUT = 180_000  # ms: ten cold kernels sharing two cores
#: Seconds the ten pages together may take to show their tables: a shared deadline, not a fixed
#: wait (a busy 2-core machine with other test workers took over 180 s for the first page).
ALL_PAGES_DEADLINE = 900
SEGMENTS = "02_customer_segmentation.ipynb"
COHORTS = "03_cohort_retention.ipynb"
#: (notebook, deep-link query): ten sessions, no two alike.
SESSIONS: list[tuple[str, dict[str, Any]]] = [
    (SEGMENTS, {"by": ["plan"]}),
    (SEGMENTS, {"by": ["billing_interval"], "min_customers": 50}),
    (SEGMENTS, {"by": ["region"]}),
    (SEGMENTS, {"by": ["lifecycle_stage"], "gross_margin": 0.8}),
    (SEGMENTS, {"by": ["company_size"], "bins": {"company_size": [10, 50, 250]}}),
    (SEGMENTS, {"by": ["industry"], "where": {"billing_interval": ["annual"]}}),
    (SEGMENTS, {"by": ["plan", "region"], "window_months": 6}),
    (COHORTS, {"period": "quarter", "by": "plan"}),
    (COHORTS, {"metric": "nrr", "cohort": "signup"}),
    (COHORTS, {"period": "year", "metric": "grr", "by": "billing_interval"}),
]
# rows of the main table the page shows before "Show all" (Explorer.long_table_rows)
MAX_ROWS = 25
#: The JupyterLab extension that draws plotly figures in the page.
PLOTLY_RENDERER = "**/labextensions/jupyterlab-plotly/**"
KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')
MIB = 2**20


def page_url(base: str, notebook: str, query: dict[str, Any]) -> str:
    """The deep link of a session: values as JSON (``Explorer.url_query`` reads them back)."""
    items = {k: v if isinstance(v, str) else json.dumps(v) for k, v in query.items()}
    return f"{base}/voila/render/{notebook}?{urllib.parse.urlencode(items)}"


def expected_table(data: Any, as_of: str, notebook: str, query: dict[str, Any]) -> pd.DataFrame:
    """The main table a session must show, computed in-process by segwork."""
    if notebook == SEGMENTS:
        q = dict(query)
        # with the implied lifetime beside LTV, as the page shows it
        table = lifetime_columns(segwork.segment_table(data, q.pop("by"), as_of, **q))
    else:
        table = segwork.cohort_retention(data, as_of, **query)
        # the page names cohorts as its heat map does ("2022-01", "2022-Q1")
        period = query.get("period", "month")
        table["cohort"] = [cohort_label(c, period) for c in table["cohort"]]
    return table.head(MAX_ROWS)


def cell_texts(df: pd.DataFrame) -> list[list[str]]:
    """The table's cells as the page prints them (formatted), row by row; the header row is
    left out (its words and units are the labels' business, checked with the tables)."""
    shown = format_frame(df)
    rows: list[list[str]] = []
    for values in shown.itertuples(index=False):
        rows.append(["—" if v is None or v is pd.NA or v != v else str(v) for v in values])
    return rows


#: The main table as drawn by its ipywidgets HTML widget (so it came from the kernel, over the
#: websocket: not a static rendering of the notebook), in the page's first tab.
WIDGET_TABLE = ".widget-html.segwork-result table.segwork-table"
PAGE_TABLE_JS = f"""() => Array.from(document.querySelector('{WIDGET_TABLE}').rows).slice(1)
    .map(r => Array.from(r.cells).map(c => c.innerText.trim()))"""


def kernel_processes(proc: subprocess.Popen[str]) -> dict[str, psutil.Process]:
    """The app's kernels by kernel id (from the connection file on their command line)."""
    out = {}
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.Error:
            continue
        m = re.search(r"kernel-([0-9a-f-]{36})\.json", cmd)
        if "ipykernel" in cmd and m:
            out[m.group(1)] = child
    return out


def stop(proc: subprocess.Popen[str]) -> None:
    """Stop the app (it forwards SIGTERM to Voila), then end any of its processes still alive."""
    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        family = []
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    _, alive = psutil.wait_procs(family, timeout=15)
    for p in alive:
        p.kill()


@pytest.mark.browser
def test_ten_concurrent_sessions_each_get_their_own_result(record_property, capsys):
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (tasks.sh test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    data = segwork.load_sample()
    as_of = data.data_end.isoformat()  # the app's as-of: the last date in the data
    expected = [cell_texts(expected_table(data, as_of, nb, q)) for nb, q in SESSIONS]
    assert len({json.dumps(e) for e in expected}) == len(SESSIONS)  # ten different answers

    proc, base = start_app()
    log = drain(proc)
    try:
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                ],
            )
            try:
                pages = []
                for notebook, query in SESSIONS:  # all ten requested before any is waited on
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    # The sessions' tables are what this test reads; the browser does not draw
                    # their charts (plotly's renderer, 4.7 MB of JS, would double chromium's
                    # CPU on the two cores the kernels need).  The kernels still compute and
                    # send every figure; tests/browser/test_app_pages.py checks they are drawn.
                    context.route(PLOTLY_RENDERER, lambda route: route.abort())
                    page = context.new_page()
                    page.goto(
                        page_url(base, notebook, query), wait_until="commit", timeout=PAGE_TIMEOUT
                    )
                    pages.append(page)
                shown, kernel_ids = [], []
                deadline = time.monotonic() + ALL_PAGES_DEADLINE
                for i, page in enumerate(pages):
                    left_ms = max(1.0, deadline - time.monotonic()) * 1000
                    try:
                        page.locator(WIDGET_TABLE).first.wait_for(timeout=left_ms)
                    except sync_api.TimeoutError:  # say which page and what it shows instead
                        text = page.locator("body").inner_text()[-1500:]
                        pytest.fail(
                            f"session {i} {SESSIONS[i]} showed no table within "
                            f"{ALL_PAGES_DEADLINE} s; the page reads:\n{text}\n"
                            "app log:\n" + "".join(log[-40:])
                        )
                    shown.append(page.evaluate(PAGE_TABLE_JS))
                    m = KERNEL_ID.search(page.content())
                    assert m, "no kernel id in the page"
                    kernel_ids.append(m.group(1))
                # measured while the ten pages are open (their kernels connected and alive)
                kernels = kernel_processes(proc)
                mine = [kernels[k] for k in kernel_ids if k in kernels]
                rss = [k.memory_info().rss for k in mine]
                uss = [k.memory_full_info().uss for k in mine]  # memory no other process shares
                cpu = [sum(k.cpu_times()[:2]) for k in mine]
                pool = [k.memory_info().rss for k in kernels.values() if k not in mine]
                server = [
                    c.memory_info().rss
                    for c in psutil.Process(proc.pid).children()
                    if c not in kernels.values()
                ]
                for page in pages:
                    page.context.close()
            finally:
                browser.close()

        for (notebook, query), page_rows, want in zip(SESSIONS, shown, expected, strict=True):
            assert page_rows == want, f"{notebook}?{query}: the page shows another table"
        assert len(set(kernel_ids)) == len(SESSIONS)  # one kernel per session ...
        assert len(mine) == len(SESSIONS)  # ... each a live process of the app
        # the server stayed up through the load
        assert proc.poll() is None, "segwork app died:\n" + "".join(log[-40:])
        assert get(f"{base}/voila/render/index.ipynb")[0] == 200
    finally:
        stop(proc)

    per_session = sum(rss) / len(rss)
    record_property("kernel_rss_mib_per_session", round(per_session / MIB, 1))
    with capsys.disabled():
        print(
            f"\nsegwork app, {len(SESSIONS)} concurrent sessions: kernel memory per session "
            f"RSS {per_session / MIB:.0f} MiB (min {min(rss) / MIB:.0f}, max "
            f"{max(rss) / MIB:.0f}), USS {sum(uss) / len(uss) / MIB:.0f} MiB; kernel CPU per "
            f"session {sum(cpu) / len(cpu):.1f} s; plus {len(pool)} preheated kernels "
            f"{sum(pool) / MIB:.0f} MiB and the Voila server {sum(server) / MIB:.0f} MiB (RSS)"
        )
    assert max(rss) < 1.5 * 2**30  # a sanity bound, not a budget


def test_idle_kernel_of_a_closed_page_is_culled(tmp_path):
    """The app's culling settings at a tiny ``cull_idle_timeout``: the kernel of a page nobody is
    connected to is shut down.  Voila runs with `segwork app`'s own command line (``app_command``)
    on a one-cell notebook, so the check costs seconds, not a second full app."""
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]),
        tmp_path / "idle.ipynb",
    )
    proc, base = start_app(
        command=lambda port: app_command(
            port=port, open_browser=False, notebooks=tmp_path, cull_idle_timeout=2
        ),
        page="idle.ipynb",
    )
    log = drain(proc)
    try:
        status, html = get(f"{base}/voila/render/idle.ipynb")  # a page opened, never connected
        assert status == 200
        m = KERNEL_ID.search(html)
        assert m, "no kernel id in the page"
        kernel = kernel_processes(proc).get(m.group(1))
        assert kernel is not None  # the page's kernel runs ...
        # ... and is culled for being idle, not stopped for another reason
        assert wait_until(lambda: not kernel.is_running()), (
            "the idle kernel was not culled:\n" + "".join(log[-40:])
        )
        assert wait_until(
            lambda: any("Culling 'idle' kernel" in line and m.group(1) in line for line in log)
        ), "".join(log[-40:])
        assert proc.poll() is None and get(f"{base}/voila/render/idle.ipynb")[0] == 200
    finally:
        stop(proc)
