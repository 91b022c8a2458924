"""The server behind `segwork app` (segwork.server): foreign hosts refused, kernels bounded and
released, no 500s, read-only contents.

The live tests run `segwork app`'s own command line (``app_command``) on a folder of two tiny
notebooks, with a short idle cull and a small session bound, so each check costs seconds rather
than a full app.  Waits are on events (a kernel process gone, a log line), with generous
time-outs, so a busy two-core machine only makes them slower.
"""

from __future__ import annotations

import asyncio
import http.client
import re
import shutil
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest
import tornado.httpclient
import tornado.websocket

from segwork.app import PAGES, app_command
from segwork.server import BUSY_RETRY_SECONDS, Guard
from tests.test_app import drain, start_app, wait_until
from tests.test_app_load import KERNEL_ID, kernel_processes, stop

CHROMIUM = shutil.which("chromium")
MAX_SESSIONS = 3
CULL_SECONDS = 6  # the idle window of the live tests (the app's default is 300 s)
BROWSER_CULL_SECONDS = 15  # the browser test's: the beacon must come first on a busy machine
WAIT = 120  # s: bounds a failing run only


def request(method: str, base: str, path: str, headers: dict[str, str] | None = None,
            body: str | None = None) -> tuple[int, dict[str, str], str]:
    """One raw HTTP request (any ``Host`` header); (status, headers, body)."""
    netloc = urllib.parse.urlsplit(base).netloc
    conn = http.client.HTTPConnection(netloc, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        joined: dict[str, str] = {}
        for key, value in resp.getheaders():  # several Set-Cookie headers are kept, joined
            joined[key.lower()] = f"{joined[key.lower()]}, {value}" if key.lower() in joined else value
        return resp.status, joined, resp.read().decode()
    finally:
        conn.close()


def fake_request(path: str, host: str = "127.0.0.1:8866", **headers: str) -> SimpleNamespace:
    return SimpleNamespace(path=path, host=host, headers=headers)


# -- the rules, without a server ------------------------------------------------------------


def test_host_must_name_the_address_served():
    guard = Guard(port=8866)
    for host in ("127.0.0.1:8866", "localhost:8866", "LOCALHOST:8866", "[::1]:8866"):
        assert guard.host_allowed(host), host
    for host in ("evil.example:8866", "evil.example", "127.0.0.1:8867", "127.0.0.1",
                 "localhost.evil.example:8866", "", "0.0.0.0:8866"):
        assert not guard.host_allowed(host), host
    named = Guard(port=8866, allow_hosts=["reports.example.com", " "])
    assert named.host_allowed("reports.example.com") and named.host_allowed(
        "Reports.Example.com:443"
    )
    assert not named.host_allowed("example.com")


def test_refusals():
    guard = Guard(port=8866, max_sessions=2)
    page = "/voila/render/02_customer_segmentation.ipynb"
    assert guard.refusal(fake_request(page), sessions=1) is None
    assert guard.refusal(fake_request(page, host="evil.example:8866"), 0)["status"] == 403
    # past the bound: a friendly busy page that reloads itself, not a kernel
    busy = guard.refusal(fake_request(page), sessions=2)
    assert busy["status"] == 503 and busy["retry_after"] == BUSY_RETRY_SECONDS
    assert "busy" in busy["title"] and "Try again in a minute" in busy["message"]
    guard.rendering = 1  # a page admitted whose kernel is not counted yet counts too
    assert guard.refusal(fake_request(page), sessions=1)["status"] == 503
    guard.rendering = 0
    # other requests are never "busy": a page already open keeps working
    assert guard.refusal(fake_request("/api/kernels/x/channels"), sessions=9) is None
    # another site's <img>/script/fetch of a page starts no kernel; a link to it still opens
    img = fake_request(page, **{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"})
    assert guard.refusal(img, 0)["status"] == 403
    link = fake_request(page, **{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert guard.refusal(link, 0) is None
    for path in ("/logout", "/login", "/voila/tree", "/voila/tree/x", page + "%00.csv"):
        assert guard.refusal(fake_request(path), 0)["status"] == 404, path


# -- a live server -------------------------------------------------------------------------


def tiny_notebooks(folder: Path) -> Path:
    """A landing page and a page with a widget (so the widget manager and its unload beacon run)."""
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# landing")]),
        folder / "index.ipynb",
    )
    code = "import ipywidgets as w\nw.HTML('<p id=\"alive\">alive</p>')"
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), folder / "page.ipynb"
    )
    return folder


def serve(folder: Path, cull_seconds: int) -> SimpleNamespace:
    proc, base = start_app(
        command=lambda port: app_command(
            port=port,
            open_browser=False,
            notebooks=folder,
            cull_idle_timeout=cull_seconds,
            max_sessions=MAX_SESSIONS,
        ),
        page="index.ipynb",
    )
    log = drain(proc)
    return SimpleNamespace(proc=proc, base=base, log=log, port=int(base.rsplit(":", 1)[1]))


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[SimpleNamespace]:
    served = serve(tiny_notebooks(tmp_path_factory.mktemp("notebooks")), CULL_SECONDS)
    yield served
    stop(served.proc)


POOL = 2  # one preheated kernel per notebook (index, page)


def page_kernels(app: SimpleNamespace) -> set[str]:
    """The ids of the app's live kernels (the pool's included)."""
    return set(kernel_processes(app.proc))


def settle(app: SimpleNamespace) -> None:
    """Wait until only the pool is left (earlier tests' kernels culled)."""
    assert wait_until(lambda: len(page_kernels(app)) <= POOL, WAIT), "".join(app.log[-30:])


def open_page(app: SimpleNamespace, path: str) -> tuple[int, dict[str, str], str]:
    """GET a page, once the app has room for it.

    A culled kernel's process ends a moment before the server stops counting it (its shutdown
    is still being cleaned up), so right after :func:`settle` the bound may still refuse a page
    with "busy". A refusal starts no kernel, so asking again until it is served changes nothing
    the tests check; the tests of the bound itself use :func:`request`.
    """
    deadline = time.monotonic() + WAIT
    answer = request("GET", app.base, path)
    while answer[0] == 503 and time.monotonic() < deadline:
        time.sleep(0.5)
        answer = request("GET", app.base, path)
    assert answer[0] != 503, "".join(app.log[-30:])
    return answer


def test_foreign_host_is_refused_over_http(app):
    settle(app)
    for path in ("/", "/voila/render/index.ipynb", "/voila/api/contents", "/voila/static/x.js"):
        status, _, body = request("GET", app.base, path, {"Host": f"evil.example:{app.port}"})
        assert status == 403, path
        assert "only to the address it is served on" in body
    assert request("GET", app.base, "/voila/render/index.ipynb",
                   {"Host": f"localhost:{app.port}"})[0] == 200


def test_foreign_host_is_refused_over_websocket(app):
    settle(app)
    status, _, page = open_page(app, "/voila/render/page.ipynb")
    assert status == 200
    kernel = KERNEL_ID.search(page)
    assert kernel
    url = app.base.replace("http", "ws") + f"/api/kernels/{kernel.group(1)}/channels"

    async def connect(host: str) -> int:
        req = tornado.httpclient.HTTPRequest(
            url, headers={"Host": host, "Origin": f"http://{host}"}, request_timeout=60
        )
        try:
            ws = await tornado.websocket.websocket_connect(req)
        except tornado.httpclient.HTTPClientError as err:
            return err.code
        ws.close()
        return 101

    assert asyncio.run(connect(f"evil.example:{app.port}")) == 403
    assert asyncio.run(connect(f"127.0.0.1:{app.port}")) == 101  # the same socket, our host


def test_no_500s_and_nothing_listed_or_writable(app):
    base = app.base
    assert request("GET", base, "/")[0] == 302  # the landing page, not a folder listing
    assert request("GET", base, "/")[1]["location"].endswith("/voila/render/index.ipynb")
    for path in ("/logout", "/login", "/voila/tree", "/voila/render/index.ipynb%00.csv",
                 "/api/kernels", "/api/sessions"):
        assert request("GET", base, path)[0] == 404, path
    status, _, body = request("GET", base, "/voila/api/contents")
    assert status == 200 and '"writable": true' not in body and '"writable": false' in body
    assert not any("Traceback" in line or "AssertionError" in line for line in app.log)


EXTERNAL = re.compile(r"""(?:href|src)\s*=\s*["']?(?:https?:)?//|import\(\s*["']https?://""", re.I)


def test_pages_fetch_nothing_from_the_network_and_carry_the_navigation(app):
    """segwork's Voila template: no CDN link (Font Awesome, mermaid), the pages' navigation bar
    with the current page marked."""
    status, _, page = request("GET", app.base, "/voila/render/index.ipynb")
    assert status == 200
    found = EXTERNAL.search(page)
    assert found is None, page[max(0, found.start() - 200): found.end() + 200]
    nav = page[page.index('<nav class="segwork-nav"'):]
    nav = nav[: nav.index("</nav>")]
    assert 'href="index.ipynb" title="All pages" aria-current="page"' in nav
    assert all(f'href="{name}"' in nav for name in PAGES)


def test_a_shutdown_without_the_page_cookie_is_refused(app):
    """Kernel ids appear only in the visitor's own page (no listing: /api/kernels is 404), and a
    shutdown needs the page's _xsrf cookie, which another site's page cannot read."""
    settle(app)
    status, headers, page = open_page(app, "/voila/render/page.ipynb")
    assert status == 200 and "_xsrf=" in headers.get("set-cookie", "")  # for the unload beacon
    kernel = KERNEL_ID.search(page).group(1)
    assert request("POST", app.base, f"/voila/api/shutdown/{kernel}", body="")[0] == 403
    assert kernel in page_kernels(app)


def test_plain_gets_cannot_grow_the_kernels_past_the_bound(app):
    settle(app)
    statuses: list[int] = []
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], len(page_kernels(app)))
            done.wait(0.2)

    def fetch() -> None:  # what an <img src=...> does: a GET, no websocket ever
        statuses.append(request("GET", app.base, "/voila/render/page.ipynb")[0])

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=fetch) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT)
    done.set()
    watcher.join()
    assert sorted(set(statuses)) == [200, 503] and len(statuses) == 20
    assert statuses.count(200) <= MAX_SESSIONS + 1  # +1: a kernel culled during the burst
    # the pages' kernels, the preheated ones and one refill under way at most
    assert peak[0] <= MAX_SESSIONS + POOL + 1, peak[0]
    status, headers, body = request("GET", app.base, "/voila/render/page.ipynb")
    if status == 503:
        assert headers["retry-after"] == str(BUSY_RETRY_SECONDS) and "busy" in body
    # nobody connected: the kernels are culled and the app serves again
    settle(app)
    assert open_page(app, "/voila/render/page.ipynb")[0] == 200
    assert app.proc.poll() is None


@pytest.mark.browser
def test_closing_a_page_frees_its_kernel(tmp_path):
    """A page closed normally shuts its kernel down at once (its unload beacon); a page whose
    browser went away without it (a crash, a killed tab) is culled within the idle window.  Its
    own app, with a window long enough that the beacon, not the cull, frees the first kernel."""
    if CHROMIUM is None:
        pytest.skip("Debian chromium is not installed (tasks.sh test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    app = serve(tiny_notebooks(tmp_path), BROWSER_CULL_SECONDS)
    try:
        closing_pages(app, sync_api)
    finally:
        stop(app.proc)


def closing_pages(app: SimpleNamespace, sync_api: Any) -> None:
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking"],
        )
        try:
            kernels = []
            pages = []
            for _ in range(2):
                page = browser.new_context().new_page()
                page.goto(f"{app.base}/voila/render/page.ipynb", timeout=WAIT * 1000)
                page.locator("#alive").wait_for(timeout=WAIT * 1000)  # the widget came over
                kernels.append(KERNEL_ID.search(page.content()).group(1))
                pages.append(page)
            procs = kernel_processes(app.proc)
            closed, crashed = (procs[k] for k in kernels)
            # closed while its kernel was recently active, so the idle cull cannot come first
            pages[0].close(run_before_unload=True)  # a tab closed: the beacon fires
            assert wait_until(lambda: not closed.is_running(), WAIT), "".join(app.log[-30:])
            # shut down by the beacon (it carries the _xsrf cookie now; a refusal logs 403)
            assert not any("Culling 'idle' kernel" in line and kernels[0] in line
                           for line in app.log), "".join(app.log[-30:])
            assert not any("403 POST /voila/api/shutdown" in line for line in app.log)
            # a page being read is kept: an idle window passes, its kernel stays
            later = time.monotonic() + BROWSER_CULL_SECONDS + 3
            wait_until(lambda: time.monotonic() > later, 2 * BROWSER_CULL_SECONDS)
            assert crashed.is_running()
            pages[1].context.close()  # no beforeunload: only the websocket goes
            assert wait_until(lambda: not crashed.is_running(), WAIT), "".join(app.log[-30:])
            assert wait_until(
                lambda: any("Culling 'idle'" in line and kernels[1] in line for line in app.log)
            )
        finally:
            browser.close()
    assert app.proc.poll() is None
