"""``segwork app``: the three workbooks served by Voila for stakeholders (no code shown).

Voila serves only ``notebooks/`` (the landing page ``index.ipynb`` and the three pages).  The data
and the as-of date reach the notebooks through environment variables (``SEGWORK_DATA``,
``SEGWORK_AS_OF``) so notebooks are never edited to change them.  Kernels are preheated so a page
is interactive quickly.  The server is Voila behind :mod:`segwork.server`'s guard: a foreign
``Host`` is refused, page kernels are bounded by ``max_sessions`` (a "busy" page past it), the
kernel of a closed page is shut down when the page goes (its unload beacon) or, at the latest, by
the idle cull ``cull_idle_timeout`` seconds after its last activity.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from segwork.paths import NOTEBOOKS_DIR
from segwork.settings import AS_OF_ENV, CURRENCY_ENV, DATA_ENV, FORMAT_ENV, IOPUB_TIMEOUT_SECONDS

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
#: A kernel no page is connected to is shut down after this many idle seconds (a page closed
#: without its unload beacon, a plain GET that never connected).  Pages open in a browser stay
#: connected and are never culled (``cull_connected=False``).  Long enough for a page that has
#: been rendered to connect on a busy machine: at 60 s, one of ten pages opened at once on two
#: busy cores lost its kernel before its browser connected and showed "Loading widget..."
#: for good.
CULL_IDLE_SECONDS = 300
#: How often (seconds) idle kernels are looked for, at most.
CULL_INTERVAL_SECONDS = 10
#: Memory one page session's kernel holds, MiB (RSS on the sample measured by
#: tests/test_app_load.py: 340-430 MiB; rounded up).
SESSION_MIB = 450
#: Share of the machine's memory the app's kernels may take (the rest: the server, the system).
MEMORY_SHARE = 0.75


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def machine_memory_mib() -> int | None:
    """The machine's physical memory in MiB (None where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (AttributeError, OSError, ValueError):
        return None


def default_max_sessions(memory_mib: int | None = None, pool: int = len(PAGES) + 1) -> int:
    """Page sessions the machine holds: ``MEMORY_SHARE`` of its memory over ``SESSION_MIB``, less
    the ``pool`` preheated kernels; at least 2 (8 where the memory is unknown).

    Examples
    --------
    >>> default_max_sessions(memory_mib=24 * 1024)  # a 24 GiB machine
    36
    >>> default_max_sessions(memory_mib=4 * 1024)
    2
    """
    memory = machine_memory_mib() if memory_mib is None else memory_mib
    if memory is None:
        return 8
    return max(2, int(memory * MEMORY_SHARE // SESSION_MIB) - pool)


def app_command(
    *,
    port: int = 8866,
    host: str = "127.0.0.1",
    open_browser: bool = True,
    notebooks: Path = NOTEBOOKS_DIR,
    pool_size: int = 1,
    cull_idle_timeout: int = CULL_IDLE_SECONDS,
    max_sessions: int | None = None,
    allow_hosts: Sequence[str] = (),
) -> list[str]:
    """The command line of the server (Voila behind :mod:`segwork.server`'s guard).

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
        (looked for every ``cull_idle_timeout / 6`` seconds, between 1 and 10).
    max_sessions : int, optional
        Page kernels in use at most; past it a page view gets a "busy" page.  Default:
        :func:`default_max_sessions` of this machine.
    allow_hosts : sequence of str
        Host names the app answers to besides the loopback address and port served.

    Returns
    -------
    list of str
        The command line.
    """
    if cull_idle_timeout < 1:
        raise ValueError(f"cull_idle_timeout must be at least 1 second, got {cull_idle_timeout}")
    sessions = default_max_sessions() if max_sessions is None else max_sessions
    if sessions < 1:
        raise ValueError(f"max_sessions must be at least 1, got {sessions}")
    cull_interval = min(CULL_INTERVAL_SECONDS, max(1, cull_idle_timeout // 6))
    cmd = [
        sys.executable,
        "-m",
        "segwork.server",
        str(notebooks),
        f"--Voila.ip={host}",
        f"--port={port}",
        "--Voila.port_retries=0",
        # segwork's template: the lab template, nothing from a CDN, a navigation bar
        "--VoilaConfiguration.template=segwork",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        # a busy machine may send a cell's last output (the page's widget) seconds after its
        # reply: wait for it (nbclient's 4 s default dropped whole pages under load)
        f"--VoilaExecutor.iopub_timeout={IOPUB_TIMEOUT_SECONDS}",
        "--preheat_kernel=True",
        f"--pool_size={pool_size}",
        # serve notebooks only: no other file of the folder is downloadable
        "--VoilaConfiguration.file_allowlist=[]",
        # cells of analyst instructions are left out of the pages (as out of the reports)
        "--TagRemovePreprocessor.enabled=True",
        "--TagRemovePreprocessor.remove_cell_tags=analyst-only",
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_timeout}",
        f"--MappingKernelManager.cull_interval={cull_interval}",
        "--MappingKernelManager.cull_connected=False",
        f"--SegworkVoila.max_sessions={sessions}",
    ]
    cmd += [f"--SegworkVoila.allow_hosts={name}" for name in allow_hosts]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def run_app(
    *,
    data: str | None = None,
    data_format: str | None = None,
    base_currency: str | None = None,
    as_of: str | None = None,
    port: int = 8866,
    host: str = "127.0.0.1",
    open_browser: bool = True,
    cull_idle_timeout: int = CULL_IDLE_SECONDS,
    max_sessions: int | None = None,
    allow_hosts: Sequence[str] = (),
) -> int:
    """Serve the app until Ctrl-C; returns the exit code of Voila.

    ``cull_idle_timeout`` (seconds) shuts down the kernel no page is connected to after that
    long idle; ``max_sessions`` bounds the page kernels (default from the machine's memory);
    ``allow_hosts`` names the host names answered besides the loopback address; see
    :func:`app_command`.  ``data_format`` names the export format of ``data`` (default:
    recognised from its files); ``base_currency`` the currency of the metrics when ``data``
    holds several (with an fx table, docs/metrics.md "Currencies").
    """
    env = dict(os.environ)
    if data:
        path = Path(data).expanduser().resolve()
        if not path.exists():
            raise FileNotFoundError(f"--data {data}: no such file or directory")
        from segwork.sources import load

        # validate before serving: an error is said here, once
        load(path, format=data_format, base_currency=base_currency)
        env[DATA_ENV] = str(path)
        if data_format:
            env[FORMAT_ENV] = data_format
        if base_currency:
            env[CURRENCY_ENV] = base_currency
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
        if host in ("0.0.0.0", "::") and not allow_hosts:
            print(
                f"segwork: requests are answered only when addressed to 127.0.0.1:{port} or "
                f"localhost:{port}; name the others with --allow-host NAME",
                file=sys.stderr,
            )
    sessions = default_max_sessions() if max_sessions is None else max_sessions
    cmd = app_command(
        port=port,
        host=host,
        open_browser=open_browser,
        cull_idle_timeout=cull_idle_timeout,
        max_sessions=sessions,
        allow_hosts=allow_hosts,
    )
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    print(
        f"segwork app: {url}/voila/render/{LANDING_PAGE}  (at most {sessions} sessions of about "
        f"{SESSION_MIB} MiB each; Ctrl-C to stop)",
        flush=True,
    )
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
