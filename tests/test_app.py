"""`segwork app`: safe defaults, a live server on a free port, clean shutdown on Ctrl-C."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from segwork.app import PAGES, app_command, default_max_sessions
from segwork.cli import main


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


@pytest.fixture
def started(monkeypatch) -> list[list[str]]:
    """The command lines `segwork app` starts (a stand-in process that exits at once)."""
    lines: list[list[str]] = []

    class Voila:
        def __init__(self, cmd: list[str], env: dict[str, str]) -> None:
            lines.append(cmd)

        def wait(self, timeout: float | None = None) -> int:
            return 0

        def poll(self) -> int:
            return 0

    monkeypatch.setattr("segwork.app.subprocess.Popen", Voila)
    return lines


def test_command_defaults_are_safe():
    cmd = " ".join(app_command(port=9999, open_browser=False))
    assert "--Voila.ip=127.0.0.1" in cmd and "--port=9999" in cmd
    assert "--VoilaConfiguration.strip_sources=True" in cmd  # no code shown
    assert "--VoilaConfiguration.show_tracebacks=False" in cmd
    assert "--VoilaConfiguration.file_allowlist=[]" in cmd  # no file downloads
    assert "--preheat_kernel=True" in cmd and "--no-browser" in cmd
    assert "-m segwork.server" in cmd  # Voila behind the guard (Host, sessions, 404s)
    # a kernel no page is connected to is shut down after 300 idle seconds, looked for every
    # 10; pages open in a browser are kept
    assert "--MappingKernelManager.cull_idle_timeout=300" in cmd
    assert "--MappingKernelManager.cull_interval=10" in cmd
    assert "--MappingKernelManager.cull_connected=False" in cmd
    assert f"--SegworkVoila.max_sessions={default_max_sessions()}" in cmd
    # a busy machine's late outputs are waited for, not dropped with the page's widget
    assert "--VoilaExecutor.iopub_timeout=60" in cmd


def test_cull_idle_timeout_option(capsys, started):
    cmd = app_command(port=9999, open_browser=False, cull_idle_timeout=3)
    assert "--MappingKernelManager.cull_idle_timeout=3" in cmd
    assert "--MappingKernelManager.cull_interval=1" in cmd  # looked for often enough to matter
    with pytest.raises(ValueError, match="at least 1 second"):
        app_command(cull_idle_timeout=0)
    assert main(["app", "--no-browser", "--cull-idle-timeout", "0"]) == 2  # refused, not started
    assert "--cull-idle-timeout must be at least 1 second" in capsys.readouterr().err

    assert main(["app", "--no-browser", "--port", "9999", "--cull-idle-timeout", "5"]) == 0
    assert "--MappingKernelManager.cull_idle_timeout=5" in started[0]
    assert "--MappingKernelManager.cull_interval=1" in started[0]


def test_max_sessions_and_allow_host_options(capsys, started):
    assert main(["app", "--no-browser", "--max-sessions", "0"]) == 2  # refused, not started
    assert "--max-sessions must be at least 1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least 1"):
        app_command(max_sessions=0)
    argv = ["app", "--no-browser", "--max-sessions", "7", "--host", "0.0.0.0",
            "--allow-host", "reports.example.com", "--allow-host", "10.0.0.5"]
    assert main(argv) == 0
    assert "--SegworkVoila.max_sessions=7" in started[0]
    assert "--SegworkVoila.allow_hosts=reports.example.com" in started[0]
    assert "--SegworkVoila.allow_hosts=10.0.0.5" in started[0]
    out, err = capsys.readouterr()
    assert "at most 7 sessions of about 450 MiB each" in out
    assert "WARNING: serving on 0.0.0.0" in err
    assert main(["app", "--no-browser", "--host", "0.0.0.0"]) == 0
    assert "name the others with --allow-host NAME" in capsys.readouterr().err


def test_default_sessions_follow_the_machine_memory():
    assert default_max_sessions(memory_mib=24 * 1024) == 36  # 75% of 24 GiB / 450 MiB, less 4
    assert default_max_sessions(memory_mib=8 * 1024) == 9
    assert default_max_sessions(memory_mib=1024) == 2  # a floor: the app still serves
    assert default_max_sessions() >= 2


def start_app(
    timeout: float = 120,
    command: Callable[[int], Sequence[str]] | None = None,
    page: str = "index.ipynb",
) -> tuple[subprocess.Popen[str], str]:
    """Start `segwork app` (or ``command(port)``) on a free port; wait until ``page`` answers;
    (proc, base URL)."""
    port = free_port()
    cmd = (
        # an explicit bound: the default follows the machine's memory, the load test needs ten
        [sys.executable, "-m", "segwork.cli", "app", "--no-browser", "--port", str(port),
         "--max-sessions", "24"]
        if command is None
        else list(command(port))
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(f"{base}/voila/render/{page}")[0] == 200:
                return proc, base
        except OSError:
            pass
        time.sleep(0.5)
    proc.kill()
    pytest.fail("segwork app did not start: " + (proc.stdout.read() if proc.stdout else ""))


def drain(proc: subprocess.Popen[str]) -> list[str]:
    """Read the app's log in the background (a full pipe would block Voila); the lines so far."""
    lines: list[str] = []

    def read() -> None:
        for line in proc.stdout or ():
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def wait_until(condition: Callable[[], bool], seconds: float = 90) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass (bounds a failing run only)."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.5)
    return condition()



@pytest.fixture(scope="module")
def server():
    proc, base = start_app()
    proc.log = drain(proc)  # type: ignore[attr-defined]  # read as it comes: a full pipe blocks
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
    assert proc.wait(timeout=30) == 0
    # the reader thread reaches the pipe's end
    assert wait_until(
        lambda: any("segwork app: stopped" in line for line in proc.log), 30
    ), "".join(proc.log[-30:])


def test_sigterm_stops_voila_too():
    """A service manager's stop (SIGTERM) must not leave Voila or its kernels running."""
    proc, root = start_app()
    base = f"{root}/voila/render/index.ipynb"
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    time.sleep(1)
    with pytest.raises(OSError):
        get(base)  # nothing listens any more: Voila went down with segwork app


def test_the_navigation_bar_lists_the_pages():
    """The pages' navigation bar (segwork's Voila template) names the pages of PAGES, in order,
    with their titles; the browser tab titles are the notebooks' ``title`` metadata."""
    import nbformat

    from segwork.paths import NOTEBOOKS_DIR
    from segwork.server import template_root

    template = Path(template_root(), "voila", "templates", "segwork", "index.html.j2").read_text()
    listed = re.findall(r"\('(\w+)', '([^']+)'\)", template)
    assert listed == [(name.removesuffix(".ipynb"), title) for name, (title, _) in PAGES.items()]
    for name, (title, _) in PAGES.items():
        assert nbformat.read(NOTEBOOKS_DIR / name, as_version=4).metadata["title"].startswith(title)
