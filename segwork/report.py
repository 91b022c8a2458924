"""``segwork report``: the workbooks run headless with papermill, written atomically.

Per run, ``<out>/<as_of>/`` holds for each notebook the executed ``<name>.ipynb`` and
``<name>.html`` (a page for stakeholders, :mod:`segwork.report_render`: no code, no cell tagged
``analyst-only``, no parameters cell, the title once; plotly figures drawn offline; no widget
state), with ``--pdf`` ``<name>.pdf`` beside it (:mod:`segwork.report_pdf`), plus
``metrics.json`` (headline figures and KPIs, parameters, the notebooks not run and why, a hash of
the input data, the segwork version, run time) and ``summary.md``, the digest of what changed
since the previous report of ``<out>`` (:mod:`segwork.report_digest`).  ``<out>/`` itself holds
``index.html`` (every report, newest first; :mod:`segwork.report_index`), ``summary.md`` (the
digest of the latest run) and ``assets/`` (one plotly.js the pages share; ``self_contained``
inlines it instead).  Earlier reports (other as_of dates) are kept.

Notebooks run by what the data supports (:data:`SUPPORTED_KINDS`, ``Dataset.kind``): market
sizing needs a market table; on transactions-only data (a Shopify export, say) the others run.
Everything is written to a temporary directory first and renamed into place only when every
notebook succeeded; a lock refuses a second run for the same as_of.  A run killed at any point
leaves the previous report in place; the next run for that as_of takes its lock over and removes
what it left (hidden ``.tmp-*``/``.old-*`` folders).
Parameters whose names look secret (token, password, secret, key) never reach an output file.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from segwork.data.contract import DataContractError
from segwork.errors import SegworkError
from segwork.paths import NOTEBOOKS_DIR
from segwork.report_digest import compute_kpis, digest, previous_report
from segwork.report_index import root_lock, write_index, write_text_atomic
from segwork.report_pdf import pdf_unavailable, write_pdfs
from segwork.report_render import clean_notebook, render_html, write_assets
from segwork.settings import AS_OF_ENV, CURRENCY_ENV, DATA_ENV, FORMAT_ENV, IOPUB_TIMEOUT_SECONDS
from segwork.sources import open_data

__all__ = [
    "NOTEBOOKS",
    "SECRET_NAME",
    "SUPPORTED_KINDS",
    "TITLES",
    "ReportError",
    "notebook_parameters",
    "run_report",
]

#: Report names -> notebook files.
NOTEBOOKS: dict[str, str] = {
    "market_sizing": "01_market_sizing.ipynb",
    "customer_segmentation": "02_customer_segmentation.ipynb",
    "cohort_retention": "03_cohort_retention.ipynb",
}
#: Report names -> page titles.
TITLES: dict[str, str] = {
    "market_sizing": "Market sizing",
    "customer_segmentation": "Customer segmentation",
    "cohort_retention": "Cohort retention",
}
#: Report names -> the ``Dataset.kind`` values they run on (market sizing: any data with a
#: ``market`` table).
SUPPORTED_KINDS: dict[str, tuple[str, ...]] = {
    "market_sizing": ("subscription", "transactions", "market"),
    "customer_segmentation": ("subscription", "transactions"),
    "cohort_retention": ("subscription", "transactions"),
}
#: Parameter or environment variable names whose values are never written to an output.
SECRET_NAME = re.compile(r"token|password|passwd|secret|key", re.IGNORECASE)
REDACTED = "[redacted]"


class ReportError(SegworkError):
    """A report could not be made: ``cause`` (one line) and a ``hint``."""

    def __init__(self, cause: str, hint: str = "") -> None:
        super().__init__(cause)
        self.cause, self.hint = cause, hint


def notebook_parameters(name: str) -> dict[str, Any]:
    """The parameters a notebook declares (its tagged ``parameters`` cell): name -> default."""
    import papermill

    path = NOTEBOOKS_DIR / NOTEBOOKS[name]
    declared = papermill.inspect_notebook(str(path))
    out = {}
    for pname, info in declared.items():
        try:
            out[pname] = ast.literal_eval(info["default"])  # Python source of the default
        except (ValueError, SyntaxError):
            out[pname] = info["default"]
    return out


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _type_ok(default: Any, value: Any) -> bool:
    if default is None or value is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int | float):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list | dict):
        return isinstance(value, type(default))
    return True


def _check_params(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    declared = notebook_parameters(name)  # papermill reads the tagged cell (cached by the OS)
    out = {}
    for key, value in params.items():
        if key not in declared:
            raise ReportError(
                f"notebook {name} has no parameter {key!r}",
                "its parameters are: " + ", ".join(declared),
            )
        if not _type_ok(declared[key], value):
            raise ReportError(
                f"parameter {key}={value!r} of notebook {name} should be like "
                f"{declared[key]!r} ({type(declared[key]).__name__})",
                "pass lists and dicts as JSON, e.g. -p by '[\"plan\"]'",
            )
        out[key] = value
    return out


def _data_hash(source: str) -> str:
    """sha256 over the input files (a directory's table files in name order, or one file)."""
    path = Path(source)
    digest = hashlib.sha256()
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if f.name.lower() == "readme.md":
            continue
        digest.update(f.name.encode())
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def _environ(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set environment variables for the block, restored after it."""
    before = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is not None:
                os.environ[k] = v
        yield
    finally:
        for k, old in before.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``, which holds our pid for the message of a refused run.

    The operating system releases the lock when its holder dies, even by SIGKILL: the file a killed
    run leaves behind is taken over by the next run (no pid check, so no confusion with a reused
    pid).  The file is removed on release; a run that opened it just before is told by its inode
    and tries again.
    """
    import fcntl

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by the kernels
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            raise ReportError(
                f"a report for this as_of is already running (pid {holder or '?'}, lock {path})",
                "wait for it to finish; a killed run's lock is taken over by the next run",
            ) from None
        try:
            current = os.stat(path)
        except FileNotFoundError:
            current = None
        mine = os.fstat(fd)
        if current and (current.st_dev, current.st_ino) == (mine.st_dev, mine.st_ino):
            break
        os.close(fd)  # its holder removed it between our open and flock: try the new file
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def _tidy(root: Path, day: str) -> None:
    """Remove what runs killed mid-way left for ``day`` (we hold its lock: none of them is live).

    A run killed between moving the previous report aside and moving the new one in left only
    ``.old-<day>-<pid>``: that previous report is put back first.
    """
    olds = list(root.glob(f".old-{day}-*"))
    final = root / day
    if olds and not final.exists():  # at most one then: the run after such a kill puts it back
        os.rename(olds.pop(), final)
    for leftover in [*root.glob(f".tmp-{day}-*"), *olds]:
        shutil.rmtree(leftover, ignore_errors=True)


def _secrets(params: Mapping[str, Any]) -> list[str]:
    values = [str(v) for k, v in params.items() if SECRET_NAME.search(k) and v not in (None, "")]
    values += [v for k, v in os.environ.items() if SECRET_NAME.search(k) and len(v) >= 6]
    return sorted(set(values), key=len, reverse=True)


def _redact(text: str, secrets: Sequence[str]) -> str:
    for s in secrets:
        text = text.replace(s, REDACTED)
        dumped = json.dumps(s)[1:-1]
        if dumped != s:
            text = text.replace(dumped, REDACTED)
    return text


def _supported(name: str, dataset: Any) -> str | None:
    """Why notebook ``name`` cannot run on ``dataset`` (one line), or None when it can."""
    kinds = SUPPORTED_KINDS.get(name, ("subscription", "transactions", "market"))
    if name == "market_sizing":
        return None if dataset.has("market") else "the data has no market table"
    if dataset.kind not in kinds:
        return f"it needs {' or '.join(kinds)} data; this data is {dataset.kind}"
    return None


def run_report(
    *,
    data: str | Path | None = None,
    data_format: str | None = None,
    base_currency: str | None = None,
    as_of: str | None = None,
    out: str | Path = "reports",
    notebooks: Sequence[str] | None = None,
    params: Mapping[str, str] | None = None,
    state_file: str | Path | None = None,
    progress: bool = False,
    pdf: bool = False,
    self_contained: bool = False,
) -> Path:
    """Run the notebooks and write ``<out>/<as_of>/`` atomically; return that directory.

    Parameters
    ----------
    data : path, optional
        Data for every notebook (default: ``$SEGWORK_DATA``, else the bundled sample).
    data_format : str, optional
        The export format of ``data`` (``"stripe"``, ...; default: recognised from its files).
    base_currency : str, optional
        The currency of the metrics when ``data``'s amounts are in several (with its ``fx``
        table; docs/metrics.md "Currencies").  metrics.json records the currency the figures are
        in as ``data.currency``.
    as_of : str, optional
        YYYY-MM-DD (default: ``$SEGWORK_AS_OF``, else the last date in the data).
    out : path
        Root folder of the reports.
    notebooks : list of str, optional
        Report names (keys of :data:`NOTEBOOKS`); default all.
    params : mapping of str to str
        Extra parameters (``-p KEY VALUE``), values parsed as JSON when they parse, applied to every
        selected notebook that declares them (an unknown one is refused).
    state_file : path, optional
        JSON parameters: an explorer ``.state`` (applied to every notebook), or
        ``{report name: state}``.
    progress : bool
        Print which notebook and which cell runs.
    pdf : bool
        Also print each page to ``<name>.pdf`` (Debian's chromium through playwright).
    self_contained : bool
        Inline plotly.js in each page (about 4.8 MB each; a page then opens alone, as one file)
        instead of sharing ``<out>/assets/plotly-<version>.min.js``.

    Raises
    ------
    ReportError
        With a one-line cause (the notebook and cell for a failure) and a hint; earlier reports
        are untouched and nothing partial is left behind.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    started = time.monotonic()
    names = list(notebooks or NOTEBOOKS)
    unknown = [n for n in names if n not in NOTEBOOKS]
    if unknown:
        raise ReportError(
            f"unknown notebook {unknown[0]!r}", "choose from: " + ", ".join(NOTEBOOKS)
        )
    if pdf and pdf_unavailable():
        raise ReportError(
            f"cannot write PDFs: {pdf_unavailable()}",
            "install them (apt-get install chromium; pip install playwright), or run without --pdf",
        )
    try:
        dataset = open_data(
            str(data) if data else None, format=data_format, base_currency=base_currency
        )
    except DataContractError as err:
        raise ReportError(
            f"the data breaks the contract: {str(err).splitlines()[0]}",
            f"run `segwork validate {data or ''}` for the details",
        ) from err
    except (ValueError, TypeError) as err:
        raise ReportError(str(err).splitlines()[0], "give a directory of table files") from err
    day = as_of or os.environ.get(AS_OF_ENV) or dataset.data_end.isoformat()
    try:
        day = dt.date.fromisoformat(day).isoformat()
    except ValueError as err:
        raise ReportError(f"--as-of {day!r} is not a date", "use YYYY-MM-DD") from err
    skipped = {n: why for n in names if (why := _supported(n, dataset))}
    if skipped and notebooks:  # asked for by name: say so rather than leave it out
        name, why = next(iter(skipped.items()))
        raise ReportError(
            f"notebook {name} cannot run on this data: {why}",
            "leave out --notebook to run the notebooks the data supports",
        )
    names = [n for n in names if n not in skipped]
    if not names:
        raise ReportError(
            "no notebook can run on this data: "
            + "; ".join(f"{n}: {why}" for n, why in skipped.items()),
            "give subscriptions, orders (transactions) or a market table",
        )

    shared: dict[str, Any] = {}
    per_book: dict[str, dict[str, Any]] = {}
    if state_file:
        try:
            loaded = json.loads(Path(state_file).read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ReportError(
                f"cannot read --state {state_file}: {err}", "give a JSON file"
            ) from err
        if not isinstance(loaded, dict):
            raise ReportError("--state must hold a JSON object", "e.g. an explorer's .state")
        if loaded and all(k in NOTEBOOKS for k in loaded):
            per_book = {k: dict(v) for k, v in loaded.items()}
        else:
            shared.update(loaded)
    shared.update({k: _parse_value(v) for k, v in (params or {}).items()})
    source = str(Path(data).resolve()) if data else None

    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    final = root / day
    tmp = root / f".tmp-{day}-{os.getpid()}"
    declared = {name: notebook_parameters(name) for name in names}
    for key in shared:
        if not any(key in d for d in declared.values()):
            raise ReportError(
                f"no selected notebook has a parameter {key!r}",
                "see the parameters cell of each notebook",
            )
    run_params: dict[str, dict[str, Any]] = {}
    for name in names:
        # shared parameters apply to the notebooks that declare them; per-notebook state is strict
        common = {k: v for k, v in shared.items() if k in declared[name]}
        wanted = {"data": source, "as_of": day, **per_book.get(name, {}), **common}
        run_params[name] = _check_params(name, wanted)

    # an export format and a base currency reach the notebooks' kernels (they inherit the
    # environment) with the path they apply to: open_data(path) reads them for that path only
    formats = (
        {DATA_ENV: source, FORMAT_ENV: data_format, CURRENCY_ENV: base_currency}
        if (data_format or base_currency) and source
        else {}
    )
    pages = [(n, TITLES.get(n, n.replace("_", " ").capitalize())) for n in names]
    with _lock(root / f".lock-{day}"), _environ(formats):
        _tidy(root, day)
        if not self_contained:
            write_assets(root)
        tmp.mkdir()
        try:
            books: dict[str, Any] = {}
            for i, name in enumerate(names, 1):
                if progress:
                    print(f"[{i}/{len(names)}] {name}: running {NOTEBOOKS[name]}", flush=True)
                secrets = _secrets(run_params[name])
                try:
                    nb = papermill.execute_notebook(
                        str(NOTEBOOKS_DIR / NOTEBOOKS[name]),
                        None,
                        parameters=run_params[name],
                        kernel_name="python3",
                        progress_bar=progress,
                        cwd=str(tmp),
                        iopub_timeout=IOPUB_TIMEOUT_SECONDS,  # late outputs waited for
                    )
                except PapermillExecutionError as err:
                    raise ReportError(
                        f"notebook {name} failed in cell {err.exec_count}: {err.ename}: "
                        f"{_redact(str(err.evalue), secrets)}",
                        "run it in JupyterLab with the same parameters to see the traceback",
                    ) from None
                headlines = clean_notebook(nb)
                text = _redact(json.dumps(nb, ensure_ascii=False), secrets)
                (tmp / f"{name}.ipynb").write_text(text)
                import nbformat

                clean = nbformat.reads(text, as_version=4)
                page = render_html(
                    clean,
                    name=name,
                    title=dict(pages)[name],
                    as_of=day,
                    pages=pages,
                    self_contained=self_contained,
                )
                (tmp / f"{name}.html").write_text(_redact(page, secrets))
                books[name] = {
                    "notebook": NOTEBOOKS[name],
                    "title": dict(pages)[name],
                    "parameters": {
                        k: (REDACTED if SECRET_NAME.search(k) else v)
                        for k, v in run_params[name].items()
                    },
                    "headline": headlines,
                }
            if pdf:
                if progress:
                    print(f"printing {len(names)} PDF(s) with chromium", flush=True)
                try:
                    write_pdfs([tmp / f"{n}.html" for n in names])
                except RuntimeError as err:
                    raise ReportError(
                        f"could not print the PDF of {err}",
                        "the HTML pages are fine; run without --pdf, or check chromium",
                    ) from None
            from segwork.version import __version__

            try:
                kpis = compute_kpis(dataset, day)
            except Exception as err:  # the report stands without them; metrics.json says why
                kpis = {"kind": dataset.kind, "figures": {}, "segments": [], "error": str(err)}
            metrics = {
                "as_of": day,
                "segwork_version": __version__,
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "duration_seconds": round(time.monotonic() - started, 1),
                "data": {
                    "source": source or dataset.source,
                    "kind": dataset.kind,
                    "sha256": _data_hash(source) if source else _data_hash(_sample_path()),
                    "notes": list(dataset.notes),
                    "format": dataset.format,
                    # the currency of every amount in the headlines (docs/metrics.md
                    # "Currencies")
                    "currency": dataset.currency,
                    # rows of an export left out at import (never paid, refunded, ...), by reason
                    "left_out": dataset.left_out.to_dict("records"),
                    # rows set aside at as_of (dated after it), reported: docs/metrics.md
                    # "Rows set aside"
                    "set_aside": dataset.set_aside(day).to_dict("records"),
                },
                "python": sys.version.split()[0],
                "notebooks": books,
                # notebooks left out because the data does not support them, and why
                "skipped": skipped,
                "kpis": kpis,
            }
            metrics_text = _redact(json.dumps(metrics, indent=2, default=str), _secrets(shared))
            (tmp / "metrics.json").write_text(metrics_text)
            summary = digest(json.loads(metrics_text), previous_report(root, day))
            (tmp / "summary.md").write_text(summary, encoding="utf-8")
            old = root / f".old-{day}-{os.getpid()}"
            with root_lock(root):  # the index and the latest digest: one run at a time
                if final.exists():
                    os.rename(final, old)
                os.rename(tmp, final)
                write_text_atomic(root / "summary.md", summary)
                write_index(root)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _sample_path() -> str:
    from segwork.paths import SAMPLE_DIR

    return str(SAMPLE_DIR)
