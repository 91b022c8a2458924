"""``segwork app``: the three workbooks served by Voila for stakeholders (no code shown).

Voila serves only ``notebooks/`` (the landing page ``index.ipynb`` and the three pages).  The data
and the as-of date reach the notebooks through environment variables (``SEGWORK_DATA``,
``SEGWORK_AS_OF``) so notebooks are never edited to change them.  Kernels are preheated so a page
is interactive quickly, and idle kernels are culled.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from segwork.paths import NOTEBOOKS_DIR
from segwork.sources import DATA_ENV, FORMAT_ENV
from segwork.widgets.base import AS_OF_ENV

__all__ = ["LANDING_PAGE", "PAGES", "app_command", "run_app"]

#: The pages served, in menu order: notebook file -> (title, the question it answers).
PAGES: dict[str, tuple[str, str]] = {
    "01_market_sizing.ipynb": ("Market sizing", "Who should we sell to, and how big is it?"),
    "02_customer_segmentation.ipynb": (
        "Customer segmentation",
        "How should we treat the customers we have?",
    ),
    "03_cohort_retention.ipynb": (
        "Cohort retention",
        "Are we keeping customers better over time, and which ones?",
    ),
}
LANDING_PAGE = "index.ipynb"
#: Idle kernels are shut down after this many seconds (a stakeholder who left the page).
CULL_IDLE_SECONDS = 1800
#: How often (seconds) idle kernels are looked for, at most.
CULL_INTERVAL_SECONDS = 300


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def app_command(
    *,
    port: int = 8866,
    host: str = "127.0.0.1",
    open_browser: bool = True,
    notebooks: Path = NOTEBOOKS_DIR,
    pool_size: int = 1,
    cull_idle_timeout: int = CULL_IDLE_SECONDS,
) -> list[str]:
    """The ``voila`` command line that serves the segwork notebooks.

    Parameters
    ----------
    port, host : int, str
        Where Voila listens.
    open_browser : bool
        Open a browser on the landing page.
    notebooks : Path
        The folder served.
    pool_size : int
        Preheated kernels per notebook.
    cull_idle_timeout : int
        Seconds after which a kernel without a connected page and without activity is shut down
        (looked for every ``cull_idle_timeout / 6`` seconds, between 1 and 300).

    Returns
    -------
    list of str
        The command line.
    """
    if cull_idle_timeout < 1:
        raise ValueError(f"cull_idle_timeout must be at least 1 second, got {cull_idle_timeout}")
    cull_interval = min(CULL_INTERVAL_SECONDS, max(1, cull_idle_timeout // 6))
    voila = shutil.which("voila", path=str(Path(sys.executable).parent)) or "voila"
    cmd = [
        voila,
        str(notebooks),
        f"--Voila.ip={host}",
        f"--port={port}",
        "--Voila.port_retries=0",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--preheat_kernel=True",
        f"--pool_size={pool_size}",
        # serve notebooks only: no other file of the folder is downloadable
        "--VoilaConfiguration.file_allowlist=[]",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_timeout}",
        f"--MappingKernelManager.cull_interval={cull_interval}",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def run_app(
    *,
    data: str | None = None,
    data_format: str | None = None,
    as_of: str | None = None,
    port: int = 8866,
    host: str = "127.0.0.1",
    open_browser: bool = True,
    cull_idle_timeout: int = CULL_IDLE_SECONDS,
) -> int:
    """Serve the app until Ctrl-C; returns the exit code of Voila.

    ``cull_idle_timeout`` (seconds) shuts down the kernel of a page left idle and disconnected
    (default 30 minutes); see :func:`app_command`.  ``data_format`` names the export format
    of ``data`` (default: recognised from its files).
    """
    env = dict(os.environ)
    if data:
        path = Path(data).expanduser().resolve()
        if not path.exists():
            raise FileNotFoundError(f"--data {data}: no such file or directory")
        from segwork.sources import load

        load(path, format=data_format)  # validate before serving: an error is said here, once
        env[DATA_ENV] = str(path)
        if data_format:
            env[FORMAT_ENV] = data_format
    if as_of:
        try:
            env[AS_OF_ENV] = dt.date.fromisoformat(as_of).isoformat()
        except ValueError as err:
            raise ValueError(f"--as-of {as_of!r} is not a date (use YYYY-MM-DD)") from err
    if not _is_loopback(host):
        print(
            f"segwork: WARNING: serving on {host}: anyone who can reach this machine on port "
            f"{port} can see the data. Use --host 127.0.0.1 unless you mean it.",
            file=sys.stderr,
        )
    cmd = app_command(
        port=port, host=host, open_browser=open_browser, cull_idle_timeout=cull_idle_timeout
    )
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    print(f"segwork app: {url}/voila/render/{LANDING_PAGE}  (Ctrl-C to stop)", flush=True)
    proc = subprocess.Popen(cmd, env=env)

    def on_term(signum: int, frame: object) -> None:  # a service manager's stop: like Ctrl-C
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=10)
        print("segwork app: stopped", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:  # never leave Voila (and its kernels) running behind us
            proc.kill()
            proc.wait(timeout=10)


def landing_cells() -> Sequence[str]:
    """Markdown of the landing page (kept here so the notebook and the tests agree)."""
    links = "\n".join(
        f"- **[{title}]({name})** — {question}" for name, (title, question) in PAGES.items()
    )
    return (
        "# segwork\n\nGrowth and revenue analysis for subscription and e-commerce businesses.\n\n"
        + links,
    )
