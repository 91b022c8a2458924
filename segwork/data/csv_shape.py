"""The shape of a CSV file: its header line and delimiter, and its ragged lines.

:func:`header_row` reads a CSV's first line the way DuckDB's sniffer would split it (the loader
checks its column names and finds the contract's date columns there); :func:`refuse_ragged_rows`
names the lines with more or fewer fields than the header, once a read went wrong.
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Any

import duckdb

from segwork.data.contract import ContractBreach, DataContractError

__all__ = ["header_row", "refuse_ragged_rows"]

# DuckDB's delimiter candidates, in the order its sniffer tries them.
_CSV_DELIMITERS = (",", "|", ";", "\t")
# Ragged lines are counted up to this many rejects (a file ragged on every line stops there).
_RAGGED_LIMIT = 100_000


def header_row(path: Path) -> tuple[str, list[str]] | None:
    """(delimiter, fields) of a CSV's first line, read with Python's csv module.

    The delimiter is the candidate that splits the line into the most fields (quotes respected;
    ties go to the first candidate, as in DuckDB's sniffer).  Only the first line is read; None
    when the file cannot be read.
    """
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            first = f.readline(1 << 20)
    except OSError:
        return None
    line = first.decode("utf-8-sig", errors="replace").rstrip("\r\n")
    rows = [(next(csv.reader([line], delimiter=d), []), d) for d in _CSV_DELIMITERS]
    fields, delim = max(rows, key=lambda r: len(r[0]))
    return delim, fields


def refuse_ragged_rows(path: Path, name: str) -> None:
    """Raise ``ragged_row`` when lines of the CSV have more or fewer fields than its header.

    Called only when a read went wrong (so a valid file is read once): the file is scanned with
    the header's delimiter and DuckDB's rejects table collects every line with another number of
    fields.  Returns quietly when there is none (the caller's error stands).
    """
    header = header_row(path)
    if header is None or len(header[1]) < 2:
        return
    delim = header[0]
    scan = duckdb.connect()
    try:
        scan.execute(
            "SELECT count(*) FROM read_csv(?, delim = ?, header = true, all_varchar = true, "
            "store_rejects = true, rejects_table = 'ragged', rejects_scan = 'ragged_scans', "
            "rejects_limit = ?)",
            [str(path), delim, _RAGGED_LIMIT],
        ).fetchall()  # the scan runs when fetched
        found = scan.execute(
            r"""
            WITH e AS (
                SELECT line,
                    TRY_CAST(regexp_extract(error_message, 'Expected Number of Columns: (\d+)', 1)
                        AS BIGINT) AS expected,
                    TRY_CAST(regexp_extract(error_message, 'Found: (\d+)', 1) AS BIGINT) AS found,
                    csv_line
                FROM ragged WHERE error_type IN ('TOO MANY COLUMNS', 'MISSING COLUMNS')),
            r AS (SELECT line, max(expected) AS expected, max(found) AS found,
                    any_value(csv_line) AS row
                FROM e GROUP BY line)
            SELECT (SELECT count(*) FROM r) AS n, (SELECT count(*) FROM ragged) AS rejects,
                line, expected, found, row
            FROM r ORDER BY line LIMIT 5
            """
        ).df()
    except duckdb.Error:
        return
    finally:
        scan.close()
    if found.empty:
        return
    n = int(found["n"].iloc[0])
    expected = int(found["expected"].iloc[0])
    shown = ", ".join(str(x) for x in found["line"])
    lines = f"line {shown}" if n == 1 else f"lines {shown}" + (", ..." if n > len(found) else "")
    counts = "/".join(str(x) for x in sorted(set(found["found"])))
    capped = ""
    if int(found["rejects"].iloc[0]) >= _RAGGED_LIMIT:
        capped = f" (counting stopped at {_RAGGED_LIMIT:,} rejected lines)"
    raise DataContractError(
        [
            ContractBreach(
                name,
                None,
                "ragged_row",
                f"{path.name}: every line must have the header's {expected} fields; "
                f"{lines} {'has' if n == 1 else 'have'} {counts}{capped}. "
                "Quote values that hold the delimiter, or fix the extra/missing fields",
                n,
                found[["line", "expected", "found", "row"]],
            )
        ]
    )
