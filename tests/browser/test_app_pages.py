"""Real-browser tests of `segwork app`: Debian's chromium driven by playwright (no downloads).

Starts the app on a free port, opens the landing page and every workbook, waits for the widgets,
checks no error text is visible, opens a deep link and changes a criterion there, opens a section,
prints a PDF, and saves screenshots under the test's tmp dir.  Each workbook is opened once for
the checks that only read it (its kernel renders it once), all of them at the same time; a test
that clicks opens its own page.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.parse
import urllib.request

import pytest

from segwork.app import PAGES
from tests.test_app import drain, start_app

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("Debian chromium is not installed (tasks.sh test installs it)", allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")

ERROR_TEXT = re.compile(r"Traceback|Could not update the page|Error:|Exception", re.I)
PAGE_TIMEOUT = 120_000  # ms: a cold kernel on a 2-core machine


@pytest.fixture(scope="module")
def app_url():
    proc, base = start_app()
    # the app's log (Voila's and its kernels' output) read as it comes: a full pipe would block
    # them, and a page that does not show says what the app logged
    APP_LOG[:] = []
    APP_LOG.append(drain(proc))
    yield f"{base}/voila/render"
    proc.terminate()  # segwork app forwards SIGTERM to Voila
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
        yield b
        b.close()


def open_page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="domcontentloaded", timeout=PAGE_TIMEOUT)
    return page, errors


#: the lines the running app has logged (set by the ``app_url`` fixture)
APP_LOG: list[list[str]] = []


def wait_for_explorer(page, title: str) -> None:
    try:
        page.get_by_role("heading", name=title).first.wait_for(timeout=PAGE_TIMEOUT)
        page.locator("table.segwork-table").first.wait_for(timeout=PAGE_TIMEOUT)
    except playwright.Error as err:  # what the page shows and what the app logged
        shown = page.locator("body").inner_text(timeout=10_000)[:2000]
        logged = "".join(APP_LOG[0][-60:]) if APP_LOG else ""
        raise AssertionError(
            f"{title}: {err}\n--- the page shows:\n{shown}\n--- the app logged:\n{logged}"
        ) from err


def visible_text(page) -> str:
    return page.locator("body").inner_text()


def assert_no_error_text(text: str) -> None:
    m = ERROR_TEXT.search(text)
    assert m is None, "error text on the page: ..." + text[max(0, m.start() - 300): m.end() + 300]


@pytest.fixture(scope="module")
def pages(browser, app_url):
    """Every workbook opened once, all requested before any is waited on (their kernels start
    together), for the checks that only read a page; each page is closed at the end."""
    opened = {nb: open_page(browser, f"{app_url}/{nb}") for nb in PAGES}
    for nb, (page, _) in opened.items():
        wait_for_explorer(page, PAGES[nb][0])
        page.locator(".js-plotly-plot").first.wait_for(timeout=PAGE_TIMEOUT)
    yield opened
    for page, _ in opened.values():
        page.close()


def test_the_app_address_opens_the_landing_page(browser, app_url, tmp_path):
    """The app's address itself (``/``) lands on the landing page with its links (never a file
    list), titled in words, with the navigation bar to every page."""
    base = app_url.removesuffix("/voila/render")
    page, errors = open_page(browser, f"{base}/")
    for title, _ in PAGES.values():
        page.get_by_role("link", name=title).first.wait_for(timeout=PAGE_TIMEOUT)
    assert page.url.endswith("/voila/render/index.ipynb")
    text = visible_text(page)
    assert "Select items" not in text
    assert_no_error_text(text)
    nav = page.locator("nav.segwork-nav")
    assert nav.locator("a").all_inner_texts() == ["segwork", *(t for t, _ in PAGES.values())]
    assert page.title().startswith("segwork")
    page.screenshot(path=str(tmp_path / "root.png"), full_page=True)
    assert not errors
    page.close()


@pytest.mark.parametrize("notebook", list(PAGES))
def test_each_page_renders_without_errors(pages, tmp_path, notebook):
    title = PAGES[notebook][0]
    page, errors = pages[notebook]
    page.screenshot(path=str(tmp_path / f"{notebook}.png"), full_page=True)
    text = visible_text(page)
    assert_no_error_text(text)
    assert "import segwork" not in text  # no code shown
    assert page.locator(".js-plotly-plot").count() >= 1
    # the tables are headed in words ("Churned customer-months", "MRR (USD)"), never by a
    # column's name, and the metrics carry their definition on hover
    headers = page.locator("table.segwork-table th").all_inner_texts()
    assert headers and not [h for h in headers if "_" in h or h != h.strip()]
    assert page.locator("table.segwork-table th[title*='docs/metrics.md']").count() >= 1
    assert page.title() == f"{title} · segwork"
    assert not [e for e in errors if "ResizeObserver" not in e]


def test_deep_link_restores_the_state_and_a_criterion_changes_the_table(
    browser, app_url, tmp_path
):
    query = urllib.parse.urlencode({"by": json.dumps(["billing_interval"]), "min_customers": "50"})
    page, _ = open_page(browser, f"{app_url}/02_customer_segmentation.ipynb?{query}")
    wait_for_explorer(page, PAGES["02_customer_segmentation.ipynb"][0])
    table = page.locator("table.segwork-table").first
    header = table.locator("th").all_inner_texts()
    assert "Billing interval" in header and "Region" not in header
    assert_no_error_text(visible_text(page))
    page.screenshot(path=str(tmp_path / "deep_link.png"), full_page=True)
    before = table.inner_text()
    select = page.locator("select[multiple]").first
    select.select_option(label=["Region"])
    page.wait_for_function(
        "(before) => { const t = document.querySelector('table.segwork-table');"
        " return t && t.innerText !== before; }", arg=before, timeout=PAGE_TIMEOUT)
    after = page.locator("table.segwork-table").first.inner_text()
    assert after != before and "region" in after.lower()
    page.screenshot(path=str(tmp_path / "criterion_changed.png"), full_page=True)
    page.close()


def test_a_section_opens_on_click(browser, app_url, tmp_path):
    """The personas are a section computed when opened: closed at first (a note says so), a click
    on its tab computes it in the page's kernel and shows the personas table."""
    page, errors = open_page(browser, f"{app_url}/02_customer_segmentation.ipynb")
    wait_for_explorer(page, PAGES["02_customer_segmentation.ipynb"][0])
    header = page.locator(".lm-TabBar-tab", has_text="Personas").first  # the section's tab
    header.wait_for(timeout=PAGE_TIMEOUT)
    assert page.get_by_role("heading", name="Silhouette by k").count() == 0
    header.click()
    page.get_by_role("heading", name="Silhouette by k").first.wait_for(timeout=PAGE_TIMEOUT)
    personas_table = page.locator("table.segwork-table", has_text="Most common plan").first
    personas_table.wait_for(timeout=PAGE_TIMEOUT)
    assert "Logo churn (% per month)" in personas_table.inner_text()
    assert_no_error_text(visible_text(page))
    page.screenshot(path=str(tmp_path / "personas_open.png"), full_page=True)
    assert not [e for e in errors if "ResizeObserver" not in e]
    page.close()


@pytest.mark.parametrize("notebook", list(PAGES))
def test_title_once_kpis_first_and_no_analyst_text(pages, tmp_path, notebook):
    """The page's title shows once (the notebook's own title cell), the analyst-only cells are
    left out, the parts are tabs, and the KPI cards come before them (pages with KPIs)."""
    title = PAGES[notebook][0]
    page, _ = pages[notebook]
    assert page.get_by_role("heading", name=title, exact=True).count() == 1
    text = visible_text(page)
    assert "For analysts" not in text and "papermill" not in text
    tabs = page.locator(".lm-TabBar-tab")
    assert tabs.first.inner_text().strip() == "Overview"
    if notebook != "01_market_sizing.ipynb":  # the market page's key numbers are its sentences
        cards = page.locator(".segwork-kpi")
        assert cards.count() >= 4 and "MRR" in cards.first.inner_text()
        kpi_top = page.locator(".segwork-kpis").first.bounding_box()
        tabs_top = tabs.first.bounding_box()
        assert kpi_top and tabs_top and kpi_top["y"] < tabs_top["y"]
    page.screenshot(path=str(tmp_path / f"title_{notebook}.png"), full_page=True)


def test_download_pdf_control_gives_a_pdf(pages, tmp_path):
    """The "Download PDF" control prints the page as shown (chromium in the kernel) and offers
    the file; the link downloads a PDF (a click that leaves the page's numbers as they are, so
    it runs on the shared page)."""
    page, errors = pages["03_cohort_retention.ipynb"]
    page.get_by_role("button", name="Download PDF").click()
    link = page.locator("a[download$='.pdf']").first
    link.wait_for(timeout=PAGE_TIMEOUT)
    with page.expect_download(timeout=PAGE_TIMEOUT) as info:
        link.click()
    target = tmp_path / "cohort_retention.pdf"
    info.value.save_as(str(target))
    assert target.read_bytes().startswith(b"%PDF") and target.stat().st_size > 10_000
    page.screenshot(path=str(tmp_path / "pdf_ready.png"), full_page=True)
    assert not [e for e in errors if "ResizeObserver" not in e]
