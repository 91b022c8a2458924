"""`segwork app`: safe defaults, a live server on a free port, clean shutdown on Ctrl-C."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from segwork.app import PAGES, app_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


def test_command_defaults_are_safe():
    cmd = " ".join(app_command(port=9999, open_browser=False))
    assert "--Voila.ip=127.0.0.1" in cmd and "--port=9999" in cmd
    assert "--VoilaConfiguration.strip_sources=True" in cmd  # no code shown
    assert "--VoilaConfiguration.show_tracebacks=False" in cmd
    assert "--VoilaConfiguration.file_allowlist=[]" in cmd  # no file downloads
    assert "--preheat_kernel=True" in cmd and "cull_idle_timeout" in cmd and "--no-browser" in cmd


def start_app(timeout: float = 120) -> tuple[subprocess.Popen[str], str]:
    """Start `segwork app` on a free port; wait until the landing page answers; (proc, base URL)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "segwork.cli", "app", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(f"{base}/voila/render/index.ipynb")[0] == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    pytest.fail("segwork app did not start: " + (proc.stdout.read() if proc.stdout else ""))


@pytest.fixture(scope="module")
def server():
    proc, base = start_app()
    yield base, proc
    if proc.poll() is None:
        proc.kill()


def test_landing_page_links_every_workbook(server):
    base, _ = server
    status, page = get(f"{base}/voila/render/index.ipynb")
    assert status == 200
    for name, (title, question) in PAGES.items():
        assert title in page and question in page and name in page


def test_files_and_paths_outside_the_notebooks_are_not_served(server):
    base, _ = server
    assert get(f"{base}/voila/files/index.ipynb")[0] == 403
    for path in ("/voila/render/..%2Fpyproject.toml", "/voila/files/..%2F..%2Fpyproject.toml",
                 "/voila/render/%2Fetc%2Fpasswd", "/voila/tree/..%2F"):
        status, body = get(base + path)
        assert status in (403, 404) or "segwork" not in body or "[build-system]" not in body
        assert "[build-system]" not in body and "root:" not in body


def test_ctrl_c_stops_cleanly(server):
    _, proc = server
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "segwork app: stopped" in out


def test_sigterm_stops_voila_too():
    """A service manager's stop (SIGTERM) must not leave Voila or its kernels running."""
    proc, root = start_app()
    base = f"{root}/voila/render/index.ipynb"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    time.sleep(1)
    with pytest.raises(OSError):
        get(base)  # nothing listens any more: Voila went down with segwork app
