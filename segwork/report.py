"""``segwork report``: the workbooks run headless with papermill, written atomically.

Per run, ``<out>/<as_of>/`` holds for each notebook the executed ``<name>.ipynb`` and
``<name>.html`` (no code cells; plotly figures drawn offline with plotly.js embedded once; no
widget state), plus ``metrics.json`` (headline figures, parameters, a hash of the input data, the
segwork version, run time).  Everything is written to a temporary directory first and renamed into
place only when every notebook succeeded; a lock refuses a second run for the same as_of.  A run
killed at any point leaves the previous report in place; the next run for that as_of takes its lock
over and removes what it left (hidden ``.tmp-*``/``.old-*`` folders).
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
from segwork.headline import HEADLINE_MIME
from segwork.paths import NOTEBOOKS_DIR
from segwork.settings import AS_OF_ENV, CURRENCY_ENV, DATA_ENV, FORMAT_ENV
from segwork.sources import open_data

__all__ = ["NOTEBOOKS", "SECRET_NAME", "ReportError", "notebook_parameters", "run_report"]

#: Report names -> notebook files.
NOTEBOOKS: dict[str, str] = {
    "market_sizing": "01_market_sizing.ipynb",
    "customer_segmentation": "02_customer_segmentation.ipynb",
    "cohort_retention": "03_cohort_retention.ipynb",
}
#: Parameter or environment variable names whose values are never written to an output.
SECRET_NAME = re.compile(r"token|password|passwd|secret|key", re.IGNORECASE)
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
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


def _clean_notebook(nb: Any) -> list[dict[str, Any]]:
    """Strip widget state and widget views (keeping the static HTML); return the headlines."""
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


def _to_html(nb: Any, title: str) -> str:
    from nbconvert import HTMLExporter
    from plotly.offline import get_plotlyjs

    exporter = HTMLExporter(template_name="lab")
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    # plotly.js once, first in <head>: before any AMD loader, so it defines window.Plotly
    script = f'<script type="text/javascript">{get_plotlyjs()}</script>'
    return body.replace("<head>", "<head>\n" + script, 1)


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
    with _lock(root / f".lock-{day}"), _environ(formats):
        _tidy(root, day)
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
                    )
                except PapermillExecutionError as err:
                    raise ReportError(
                        f"notebook {name} failed in cell {err.exec_count}: {err.ename}: "
                        f"{_redact(str(err.evalue), secrets)}",
                        "run it in JupyterLab with the same parameters to see the traceback",
                    ) from None
                headlines = _clean_notebook(nb)
                text = _redact(json.dumps(nb, ensure_ascii=False), secrets)
                (tmp / f"{name}.ipynb").write_text(text)
                import nbformat

                clean = nbformat.reads(text, as_version=4)
                html_text = _redact(_to_html(clean, name.replace("_", " ").title()), secrets)
                (tmp / f"{name}.html").write_text(html_text)
                books[name] = {
                    "notebook": NOTEBOOKS[name],
                    "parameters": {
                        k: (REDACTED if SECRET_NAME.search(k) else v)
                        for k, v in run_params[name].items()
                    },
                    "headline": headlines,
                }
            from segwork.version import __version__

            metrics = {
                "as_of": day,
                "segwork_version": __version__,
                "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "duration_seconds": round(time.monotonic() - started, 1),
                "data": {
                    "source": source or dataset.source,
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
            }
            (tmp / "metrics.json").write_text(
                _redact(json.dumps(metrics, indent=2, default=str), _secrets(shared))
            )
            old = root / f".old-{day}-{os.getpid()}"
            if final.exists():
                os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final


def _sample_path() -> str:
    from segwork.paths import SAMPLE_DIR

    return str(SAMPLE_DIR)
