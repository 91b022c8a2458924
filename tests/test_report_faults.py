"""`segwork report` under faults, with real runs: SIGKILL mid-run, a second run while one runs.

Each run is a real ``python -m segwork.cli report`` process (one notebook, market_sizing, the
fastest) in its own session, killed with ``os.killpg``.  Its papermill kernel is not in that group
(jupyter_client gives a kernel a session of its own) and must exit by itself once the run is gone.
Nothing here waits a fixed time: every wait polls a condition up to a generous deadline, and no
assertion is about how long something took.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest

from segwork.settings import AS_OF_ENV, DATA_ENV

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

NOTEBOOK = "market_sizing"
DAY, OTHER_DAY = "2024-12-31", "2024-11-30"
REPORT_FILES = [f"{NOTEBOOK}.html", f"{NOTEBOOK}.ipynb", "metrics.json", "summary.md"]
# what a run keeps in --out besides the reports: the shared plotly.js, the index, the digest
ROOT_FILES = ["assets", "index.html", "summary.md"]
DEADLINE = 300.0  # seconds; only a bound on waiting for a hung run, never an expectation


class Run:
    """One ``segwork report`` process (its own session) with its output in files."""

    def __init__(self, out: Path, day: str, logs: Path) -> None:
        self.out, self.day = out, day
        logs.mkdir(parents=True, exist_ok=True)
        n = len(list(logs.glob("*.out")))
        self.stdout_path, self.stderr_path = logs / f"{n}.out", logs / f"{n}.err"
        env = {k: v for k, v in os.environ.items() if k not in (AS_OF_ENV, DATA_ENV)}
        cmd = [
            sys.executable,
            "-m",
            "segwork.cli",
            "report",
            "--out",
            str(out),
            "--as-of",
            day,
            "--notebook",
            NOTEBOOK,
        ]
        with self.stdout_path.open("w") as so, self.stderr_path.open("w") as se:
            self.proc = subprocess.Popen(
                cmd,
                stdout=so,
                stderr=se,
                stdin=subprocess.DEVNULL,
                cwd=logs,
                env=env,
                start_new_session=True,
            )
        self.pid = self.proc.pid

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text()

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def wait(self) -> int:
        try:
            return self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"segwork report did not finish:\n{self.stderr[-2000:]}")

    def kernels(self) -> list[tuple[int, str]]:
        """Its live kernels: ``(pid, start time)`` of its ``ipykernel`` child processes.

        jupyter_client starts a kernel in a session of its own, so ``os.killpg`` of the run does
        not reach it: the kernel exits by itself when its parent is gone (ipykernel's parent
        poller).
        """
        return [
            (pid, start)
            for pid, ppid, start, cmd in _processes()
            if ppid == self.pid and "ipykernel" in cmd
        ]

    def cells_run(self) -> int:
        """How many cells of the notebook its kernel has run (papermill's progress bar)."""
        done = re.findall(r"\| *(\d+)/\d+ \[", self.stderr)
        return int(done[-1]) if done else 0

    def wait_mid_run(self) -> None:
        """Until it holds the lock, has its temporary folder and its kernel runs the notebook
        (a cell has run: the kernel answered, so a pause now cannot outlast the client's wait
        for a kernel that starts)."""
        tmp, lock = self.out / f".tmp-{self.day}-{self.pid}", self.out / f".lock-{self.day}"

        def mid_run() -> bool:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"the run ended (exit {self.proc.returncode}) before it was "
                    f"caught mid-run:\n{self.stderr[-2000:]}"
                )
            return (
                tmp.is_dir()
                and _read(lock) == str(self.pid)
                and bool(self.kernels())
                and f"[1/1] {NOTEBOOK}: running" in self.stdout
                and self.cells_run() >= 1
            )

        poll(mid_run, "the run to be mid-run")

    def signal_group(self, sig: signal.Signals) -> None:
        os.killpg(self.pid, sig)


def _processes() -> list[tuple[int, int, str, str]]:
    """Live processes: pid, parent pid, start time (to tell a reused pid), command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if fields[0] not in ("Z", "X"):  # state; fields[1] is the parent pid, [19] the start
            found.append((int(entry.name), int(fields[1]), fields[19], cmdline))
    return found


def _alive(process: tuple[int, str]) -> bool:
    return any((pid, start) == process for pid, _, start, _ in _processes())


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def poll(condition: Callable[[], object], what: str) -> None:
    """Wait until ``condition()`` is true (checked every 50 ms, up to :data:`DEADLINE`)."""
    end = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def check_complete(folder: Path, day: str) -> None:
    """A whole report: the three files, real headline figures, a parseable executed notebook."""
    assert sorted(p.name for p in folder.iterdir()) == REPORT_FILES
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["as_of"] == day
    book = metrics["notebooks"][NOTEBOOK]
    assert book["parameters"]["as_of"] == day and book["headline"]
    executed = nbformat.read(folder / f"{NOTEBOOK}.ipynb", as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)  # every cell ran
    assert not any(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    page = (folder / f"{NOTEBOOK}.html").read_text()
    assert page.rstrip().endswith("</html>")


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[Callable[[Path, str], Run]]:
    """Start runs; at the end any still running (or stopped) is killed with its kernel."""
    started: list[Run] = []

    def start(out: Path, day: str) -> Run:
        run = Run(out, day, tmp_path / "logs")
        started.append(run)
        return run

    yield start
    for run in started:
        if run.proc.poll() is None:
            kernels = run.kernels()
            run.signal_group(signal.SIGKILL)
            run.proc.wait()
            for pid, _ in filter(_alive, kernels):
                os.kill(pid, signal.SIGKILL)


def test_sigkill_mid_run_keeps_the_previous_report_and_the_next_run_recovers(tmp_path, runs):
    out = tmp_path / "reports"
    first = runs(out, DAY)
    assert first.wait() == 0, first.stderr
    final = out / DAY
    check_complete(final, DAY)
    before, inode = hashes(final), final.stat().st_ino
    assert sorted(os.listdir(out)) == [DAY, *ROOT_FILES]

    killed = runs(out, DAY)
    killed.wait_mid_run()
    kernels = killed.kernels()
    assert len(kernels) == 1
    killed.signal_group(signal.SIGKILL)
    assert killed.proc.wait() == -signal.SIGKILL
    poll(lambda: not any(map(_alive, kernels)), "the killed run's kernel to exit")

    # the previous report is untouched; what the killed run left is hidden, not a report
    assert hashes(final) == before and final.stat().st_ino == inode
    left = sorted(os.listdir(out))
    assert left == sorted([DAY, f".lock-{DAY}", f".tmp-{DAY}-{killed.pid}", *ROOT_FILES])
    assert [name for name in left if not name.startswith(".")] == [DAY, *ROOT_FILES]
    assert (out / f".lock-{DAY}").read_text() == str(killed.pid)  # stale: its holder is dead

    third = runs(out, DAY)
    assert third.wait() == 0, third.stderr
    assert third.stderr.count("Traceback") == 0
    assert third.stdout.strip().endswith(f"report written to {final}")
    check_complete(final, DAY)
    assert final.stat().st_ino != inode  # replaced by the new report as a whole
    # stale lock taken over and released, leftovers removed
    assert sorted(os.listdir(out)) == [DAY, *ROOT_FILES]
    assert "previous run for the same date" in (out / "summary.md").read_text()


def test_second_run_for_the_same_as_of_is_refused_another_as_of_runs(tmp_path, runs):
    out = tmp_path / "reports"
    first = runs(out, DAY)
    first.wait_mid_run()
    first.signal_group(signal.SIGSTOP)  # hold it mid-run (lock taken) for as long as we need
    try:
        second = runs(out, DAY)
        assert second.wait() == 1
        lock = out / f".lock-{DAY}"
        assert second.stderr.splitlines() == [
            f"segwork: error: a report for this as_of is already running "
            f"(pid {first.pid}, lock {lock})",
            "hint: wait for it to finish; a killed run's lock is taken over by the next run",
        ]
        assert second.stdout == ""
        # the refused run touched nothing of the running one
        assert lock.read_text() == str(first.pid)
        assert (out / f".tmp-{DAY}-{first.pid}").is_dir()

        other = runs(out, OTHER_DAY)  # another as_of has its own lock
        other.wait_mid_run()
    finally:
        first.signal_group(signal.SIGCONT)
    # both run at once now
    assert first.wait() == 0, first.stderr
    assert other.wait() == 0, other.stderr
    check_complete(out / DAY, DAY)
    check_complete(out / OTHER_DAY, OTHER_DAY)
    assert sorted(os.listdir(out)) == [OTHER_DAY, DAY, *ROOT_FILES]
    # both finished at once: the index lists both (it is rebuilt under a lock on --out)
    index = (out / "index.html").read_text()
    assert f"{DAY}/{NOTEBOOK}.html" in index and f"{OTHER_DAY}/{NOTEBOOK}.html" in index
