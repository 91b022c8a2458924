"""The ``segwork`` command.

Every subcommand fails with a one-line cause and a hint (exit 1 for bad data, 2 for bad usage);
``--debug`` shows the Python traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from segwork.errors import SegworkError
from segwork.sources.base import LEFT_OUT_NOTE, export_name

__all__ = ["main"]


class CLIError(SegworkError):
    """A failure with a cause and a hint, printed without a traceback."""

    def __init__(self, cause: str, hint: str = "", code: int = 1) -> None:
        super().__init__(cause)
        self.cause, self.hint, self.code = cause, hint, code


def _cmd_sample(args: argparse.Namespace) -> int:
    from segwork.data.generate import make_saas_data

    if args.customers < 1:
        raise CLIError(f"--customers must be >= 1, got {args.customers}", code=2)
    data = make_saas_data(args.customers, random_state=args.seed)
    paths = data.write(args.out, format=args.format)
    total = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} tables ({total / 1e6:.1f} MB) to {args.out}:")
    print(data.summary().to_string(index=False))
    return 0


def _load(path: Path | str, args: argparse.Namespace) -> Any:
    """``segwork.load`` of a command's data with its ``--format`` / ``--encoding``."""
    from segwork.sources import load

    return load(
        path,
        format=args.format,
        encoding=args.encoding,
        base_currency=args.base_currency,
        dates=args.dates,
        decimal=args.decimal,
    )


def _print_left_out(data: Any) -> None:
    if data.format == "segwork":
        return
    left = data.left_out
    if len(left):
        print(
            f"rows left out at import ({int(left['rows'].sum()):,}; docs/metrics.md, "
            '"Imported data"):'
        )
        print(left.to_string(index=False))
    else:
        print("rows left out at import: none")


def _print_notes(data: Any) -> None:
    """The Dataset's notes, but those repeating the table of rows left out just printed."""
    for note in data.notes:
        if not note.startswith(LEFT_OUT_NOTE):
            print(f"note: {note}")


def _cmd_validate(args: argparse.Namespace) -> int:
    from segwork.data.contract import DataContractError
    from segwork.data.dates import to_date

    try:
        as_of = to_date(args.as_of, "--as-of") if args.as_of else None
    except ValueError as err:
        raise CLIError(str(err), "give --as-of as YYYY-MM-DD", code=2) from err
    try:
        data = _load(args.path, args)
        summary = data.summary()
    except DataContractError as err:
        print(f"{args.path}: the data breaks the segwork contract (docs/metrics.md, Input tables)")
        print(str(err))
        return 1
    kind = data.kind
    if data.format != "segwork":
        kind += f", read as {export_name(data.format)}"
    print(f"{args.path}: valid segwork data ({kind})")
    print(summary.to_string(index=False))
    _print_left_out(data)
    _print_notes(data)
    if as_of is not None:
        aside = data.set_aside(as_of)
        print(f"rows set aside at as_of {as_of} (left out by the metrics, docs/metrics.md):")
        print(aside.to_string(index=False) if len(aside) else "none (no dated table)")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from segwork.data.contract import DataContractError
    from segwork.data.dataset import TABLE_NAMES

    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file", "give a folder to write the tables to", code=2)
    if out.exists() and any(out.iterdir()):
        if not args.force:
            raise CLIError(
                f"--out {out} is not empty",
                "give a new folder, or --force to replace the segwork tables in it",
                code=2,
            )
    try:
        data = _load(args.source, args)
    except DataContractError as err:
        print(f"{args.source}: the export cannot be read (docs/metrics.md, Imported data)")
        print(str(err))
        return 1
    if out.exists() and args.force:
        for p in out.iterdir():
            table = p.name.lower().split(".")[0]
            if p.is_file() and (table in TABLE_NAMES or p.name.lower() == "readme.md"):
                p.unlink()
    written = data.write(out, format="parquet", derived=False)
    summary = data.summary()
    summary = summary[~summary["derived"]].drop(columns="derived")
    read_as = "segwork tables" if data.format == "segwork" else export_name(data.format)
    print(f"read {args.source} as {read_as}; wrote {len(written)} tables to {out}:")
    print(summary.to_string(index=False))
    _print_left_out(data)
    _print_notes(data)
    (out / "README.md").write_text(_import_readme(args.source, data, summary), encoding="utf-8")
    print(
        f"segwork.load({str(out)!r}) gives the same numbers; {out / 'README.md'} says what "
        "was read and left out"
    )
    return 0


def _import_readme(source: Path, data: Any, summary: Any) -> str:
    """The provenance written beside imported tables (README files are not read as data)."""
    from segwork.version import __version__

    lines = [
        f"# segwork tables imported from {source}",
        "",
        f"Read as: {data.format}. Written by segwork {__version__} (`segwork import`).",
        'Rules: docs/metrics.md of segwork, "Imported data".',
        "",
        "## Tables",
        "",
        "```",
        summary.to_string(index=False),
        "```",
        "",
        "## Rows left out at import",
        "",
        "```",
        data.left_out.to_string(index=False) if len(data.left_out) else "none",
        "```",
        "",
        "## Notes",
        "",
        *[f"- {n}" for n in data.notes],
        "",
    ]
    return "\n".join(lines)


def _cmd_app(args: argparse.Namespace) -> int:
    from segwork.app import CULL_IDLE_SECONDS, run_app

    cull = CULL_IDLE_SECONDS if args.cull_idle_timeout is None else args.cull_idle_timeout
    if cull < 1:
        raise CLIError(f"--cull-idle-timeout must be at least 1 second, got {cull}", code=2)
    if args.max_sessions is not None and args.max_sessions < 1:
        raise CLIError(f"--max-sessions must be at least 1, got {args.max_sessions}", code=2)
    try:
        return run_app(
            **_workbook_data(args),
            port=args.port,
            host=args.host,
            open_browser=not args.no_browser,
            cull_idle_timeout=cull,
            max_sessions=args.max_sessions,
            allow_hosts=args.allow_host or (),
        )
    except FileNotFoundError as err:
        raise CLIError(str(err), "give a directory of table files or a DuckDB file") from err


def _cmd_report(args: argparse.Namespace) -> int:
    from segwork.report import ReportError, run_report

    params: dict[str, str] = {}
    for key, value in args.param or []:
        params[key] = value
    try:
        out = run_report(
            **_workbook_data(args),
            out=args.out,
            notebooks=args.notebook,
            params=params,
            state_file=args.state,
            progress=True,
            pdf=args.pdf,
            self_contained=args.self_contained,
        )
    except ReportError as err:
        raise CLIError(err.cause, err.hint) from err
    print(f"digest: {out.parent / 'summary.md'}; all reports: {out.parent / 'index.html'}")
    print(f"report written to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    from segwork.version import __version__

    parser = argparse.ArgumentParser(
        prog="segwork",
        description="segwork: market sizing, customer segmentation and cohort retention workbooks.",
    )
    parser.add_argument("--version", action="version", version=f"segwork {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _command(
        sub,
        "sample",
        _cmd_sample,
        help="generate synthetic SaaS sample data",
        description="Generate the synthetic SaaS sample (make_saas_data) as files.",
    )
    p.add_argument("--customers", type=int, default=2000, help="number of customers (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv", help="file format")

    p = _command(
        sub,
        "validate",
        _cmd_validate,
        help="check data against the segwork contract",
        description="Load PATH (a directory of table files, a folder of Stripe / Shopify / "
        "Online Retail exports, or a DuckDB file), check every rule of docs/metrics.md and "
        "print a per-table summary and the rows left out at import, or the breaches (exit 1).",
    )
    p.add_argument(
        "path", type=Path, help="directory of CSV/Parquet files or exports, or a DuckDB database"
    )
    _data_options(p)
    p.add_argument(
        "--as-of",
        help="also count the rows the metrics set aside at this date (YYYY-MM-DD): dated after "
        "it, or of customers who signed up after it",
    )

    p = _command(
        sub,
        "app",
        _cmd_app,
        help="serve the workbooks as a Voila app",
        description="Serve the landing page and the three workbooks with Voila "
        "(no code shown). Binds 127.0.0.1 unless --host says otherwise.",
    )
    _workbook_data_options(p, "data to open")
    p.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to bind (default 127.0.0.1; anything else is reachable by others)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument(
        "--cull-idle-timeout",
        type=int,
        metavar="SECONDS",
        help="shut down a kernel no page is connected to after SECONDS idle seconds (default 300)",
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        metavar="N",
        help="page sessions (kernels) at most; past it a page view gets 'busy, try again' "
        "(default: from the machine's memory, about 450 MiB each)",
    )
    p.add_argument(
        "--allow-host",
        action="append",
        metavar="NAME",
        help="a host name the app answers to besides 127.0.0.1/localhost (repeatable; "
        "with --host another interface or behind a proxy)",
    )

    p = _command(
        sub,
        "report",
        _cmd_report,
        help="run the workbooks as a scheduled report",
        description="Run the notebooks with papermill and write reports/<as_of>/: "
        "executed notebooks, HTML pages (no code, figures offline), PDFs with --pdf, "
        "metrics.json and summary.md (what changed since the previous report). reports/ "
        "keeps every report, an index.html of them and one plotly.js the pages share. "
        "Notebooks the data does not support are left out (metrics.json says why). "
        "Atomic: nothing is written unless every notebook succeeds.",
    )
    _workbook_data_options(p, "data")
    p.add_argument(
        "--out", type=Path, default=Path("reports"), help="output root (default reports/)"
    )
    p.add_argument(
        "--notebook",
        action="append",
        metavar="NAME",
        help="only this notebook (market_sizing, customer_segmentation, "
        "cohort_retention); repeatable",
    )
    p.add_argument(
        "-p",
        "--param",
        nargs=2,
        action="append",
        metavar=("KEY", "VALUE"),
        help="a notebook parameter (VALUE as JSON or text); repeatable",
    )
    p.add_argument(
        "--state",
        type=Path,
        metavar="FILE.json",
        help="parameters from a JSON file (an explorer's .state, or {notebook: state})",
    )
    p.add_argument(
        "--pdf",
        action="store_true",
        help="also print each page to a PDF beside its HTML (needs Debian's chromium and "
        "the playwright package)",
    )
    p.add_argument(
        "--self-contained",
        action="store_true",
        help="inline plotly.js in each page (about 5 MB each) so that a page opens alone, "
        "offline; default: one shared copy in <out>/assets/",
    )

    p = _command(
        sub,
        "import",
        _cmd_import,
        help="read a vendor export into segwork tables (Parquet)",
        description="Read SOURCE (a folder of Stripe, Shopify or Online Retail exports, or "
        "segwork tables) by the rules of docs/metrics.md (Imported data), write the canonical "
        "tables as Parquet to --out, and print what was read, what was left out and why.",
    )
    p.add_argument("source", type=Path, help="the export folder")
    p.add_argument("--out", type=Path, required=True, help="folder to write the tables to")
    p.add_argument(
        "--force", action="store_true", help="replace the segwork tables of a non-empty --out"
    )
    _data_options(p)
    return parser


def _command(
    sub: Any, name: str, func: Callable[[argparse.Namespace], int], **kwargs: str
) -> argparse.ArgumentParser:
    """Add the subcommand ``name`` (``help``, ``description`` in kwargs) that runs ``func``."""
    p: argparse.ArgumentParser = sub.add_parser(name, **kwargs)
    p.set_defaults(func=func)
    return p


def _workbook_data_options(p: argparse.ArgumentParser, what: str) -> None:
    """``--data`` (help starting with ``what``), the data options and ``--as-of`` of the
    commands that run the workbooks (app, report)."""
    p.add_argument(
        "--data", help=f"{what} (directory, export folder or DuckDB file); default: the sample"
    )
    _data_options(p, encoding=False)
    p.add_argument("--as-of", help="as-of date YYYY-MM-DD; default: the last date in the data")


def _workbook_data(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of ``run_app`` / ``run_report`` from :func:`_workbook_data_options`."""
    return {
        "data": args.data,
        "data_format": args.format,
        "base_currency": args.base_currency,
        "as_of": args.as_of,
    }


def _data_options(p: argparse.ArgumentParser, *, encoding: bool = True) -> None:
    from segwork.sources import FORMATS

    p.add_argument(
        "--format",
        choices=["segwork", *FORMATS],
        help="what the folder holds (default: recognised from its files and headers)",
    )
    p.add_argument(
        "--base-currency",
        metavar="CODE",
        help="currency of the metrics when amounts are in several (needs an fx table: fx.csv "
        "with currency, month, rate)",
    )
    if encoding:
        p.add_argument(
            "--encoding",
            help="text encoding of the CSV files, e.g. cp1252 (default: detected)",
        )
        p.add_argument(
            "--dates",
            metavar="ORDER",
            help="how the CSV files write dates when not year-first: day-first (31/01/2024), "
            "month-first (01/31/2024) or a strptime format such as %%d.%%m.%%y",
        )
        p.add_argument(
            "--decimal",
            choices=[".", ","],
            default=".",
            help="the decimal mark of the CSV files' numbers (',' reads 1.234,50 as 1234.5)",
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``segwork`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except CLIError as err:
        if args.debug:
            raise
        _fail(err.cause, err.hint)
        return err.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if args.debug:
            raise
        _fail(
            f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}",
            "run again with --debug for the traceback",
        )
        return 1


def _fail(cause: str, hint: str) -> None:
    print(f"segwork: error: {cause}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
