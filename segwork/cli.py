"""The ``segwork`` command.

Every subcommand fails with a one-line cause and a hint (exit 1 for bad data, 2 for bad usage);
``--debug`` shows the Python traceback instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["main"]


class CLIError(Exception):
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


def _cmd_validate(args: argparse.Namespace) -> int:
    from segwork.data.contract import DataContractError
    from segwork.data.load import load
    from segwork.metrics._common import to_date

    try:
        as_of = to_date(args.as_of, "--as-of") if args.as_of else None
    except ValueError as err:
        raise CLIError(str(err), "give --as-of as YYYY-MM-DD", code=2) from err
    try:
        data = load(args.path)
        summary = data.summary()
    except DataContractError as err:
        print(f"{args.path}: the data breaks the segwork contract (METRICS.md, Input tables)")
        print(str(err))
        return 1
    print(f"{args.path}: valid segwork data ({data.kind})")
    print(summary.to_string(index=False))
    for note in data.notes:
        print(f"note: {note}")
    if as_of is not None:
        aside = data.set_aside(as_of)
        print(f"rows set aside at as_of {as_of} (left out by the metrics, METRICS.md):")
        print(aside.to_string(index=False) if len(aside) else "none (no dated table)")
    return 0


def _cmd_app(args: argparse.Namespace) -> int:
    from segwork.app import CULL_IDLE_SECONDS, run_app

    cull = CULL_IDLE_SECONDS if args.cull_idle_timeout is None else args.cull_idle_timeout
    if cull < 1:
        raise CLIError(f"--cull-idle-timeout must be at least 1 second, got {cull}", code=2)
    try:
        return run_app(
            data=args.data,
            as_of=args.as_of,
            port=args.port,
            host=args.host,
            open_browser=not args.no_browser,
            cull_idle_timeout=cull,
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
            data=args.data,
            as_of=args.as_of,
            out=args.out,
            notebooks=args.notebook,
            params=params,
            state_file=args.state,
            progress=True,
        )
    except ReportError as err:
        raise CLIError(err.cause, err.hint) from err
    print(f"report written to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    from segwork import __version__

    parser = argparse.ArgumentParser(
        prog="segwork",
        description="segwork: market sizing, customer segmentation and cohort retention workbooks.",
    )
    parser.add_argument("--version", action="version", version=f"segwork {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "sample",
        help="generate synthetic SaaS sample data",
        description="Generate the synthetic SaaS sample (make_saas_data) as files.",
    )
    p.add_argument("--customers", type=int, default=2000, help="number of customers (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="random_state (default 0)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv", help="file format")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser(
        "validate",
        help="check data against the segwork contract",
        description="Load PATH (a directory of table files or a DuckDB file), check "
        "every METRICS.md rule and print a per-table summary, or the breaches "
        "(exit 1).",
    )
    p.add_argument("path", type=Path, help="directory of CSV/Parquet files or a DuckDB database")
    p.add_argument(
        "--as-of",
        help="also count the rows the metrics set aside at this date (YYYY-MM-DD): dated after "
        "it, or of customers who signed up after it",
    )
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "app",
        help="serve the workbooks as a Voila app",
        description="Serve the landing page and the three workbooks with Voila "
        "(no code shown). Binds 127.0.0.1 unless --host says otherwise.",
    )
    p.add_argument("--data", help="data to open (directory or DuckDB file); default: the sample")
    p.add_argument("--as-of", help="as-of date YYYY-MM-DD; default: the last date in the data")
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
        help="shut down the kernel of a page closed or left idle this long (default 30 minutes)",
    )
    p.set_defaults(func=_cmd_app)

    p = sub.add_parser(
        "report",
        help="run the workbooks as a scheduled report",
        description="Run the notebooks with papermill and write reports/<as_of>/: "
        "executed notebooks, HTML (no code, figures offline) and metrics.json. "
        "Atomic: nothing is written unless every notebook succeeds.",
    )
    p.add_argument("--data", help="data (directory or DuckDB file); default: the sample")
    p.add_argument("--as-of", help="as-of date YYYY-MM-DD; default: the last date in the data")
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
    p.set_defaults(func=_cmd_report)
    return parser


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
