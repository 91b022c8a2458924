"""Dates and numbers of CSV files written the way a spreadsheet of a locale writes them.

By default segwork reads dates year-first and numbers with a decimal point, and refuses anything
else rather than guess (docs/metrics.md "Input tables"). A user whose files are day-first
(``31/01/2024``) or use a decimal comma (``1.234,50``) says so: ``segwork.load(folder,
dates="day-first", decimal=",")``. :class:`Spreadsheet` holds that choice and rewrites those
columns of a parsed CSV to the spelling the contract reads, as text, before any rule runs. A
value that does not fit the choice is left as written, so the contract still refuses it and
names the row; nothing is guessed and nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["DATE_ORDERS", "Spreadsheet"]

_TIMES = ("", " %H:%M", " %H:%M:%S")
#: The date orders ``dates=`` names, with the formats each reads (4-digit years; separators
#: "/", "." and "-"; an optional time of day).
DATE_ORDERS: dict[str, tuple[str, ...]] = {
    "day-first": tuple(f"%d{s}%m{s}%Y{t}" for s in "/.-" for t in _TIMES),
    "month-first": tuple(f"%m{s}%d{s}%Y{t}" for s in "/.-" for t in _TIMES),
}
# a number with a decimal comma: "." groups thousands, "," separates the decimals
_COMMA_NUMBER = r"-?\d{1,3}(\.\d{3})+(,\d+)?|-?\d+(,\d+)?"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Spreadsheet:
    """How the CSV files of one load write dates and numbers.

    Parameters
    ----------
    dates : str or sequence of str, optional
        ``"day-first"`` (31/01/2024, 31.01.2024, 31-01-2024, with or without a time), ``"month-
        first"`` (01/31/2024, ...), or strptime formats (``"%d/%m/%y"``) tried in order.  None:
        year-first only.
    decimal : {".", ","}
        The decimal mark of the numbers; with ``","`` a "." groups thousands (``1.234,50``).

    Examples
    --------
    >>> sheet = Spreadsheet.of("day-first", ",")
    >>> sheet.formats[:2]
    ('%d/%m/%Y', '%d/%m/%Y %H:%M')
    >>> print(sheet.note())  # doctest: +NORMALIZE_WHITESPACE
    CSV dates read day-first (dates='day-first'), numbers with a decimal comma
    (decimal=',')
    >>> Spreadsheet.of(None, ".") is None
    True
    """

    dates: str | tuple[str, ...] | None
    decimal: str
    formats: tuple[str, ...]

    @classmethod
    def of(cls, dates: str | Sequence[str] | None, decimal: str) -> Spreadsheet | None:
        """The choice, checked; None when it is segwork's default (nothing to rewrite)."""
        if decimal not in (".", ","):
            raise ValueError(f"decimal must be '.' or ',', got {decimal!r}")
        if dates is None:
            if decimal == ".":
                return None
            return cls(None, decimal, ())
        if isinstance(dates, str):
            formats = DATE_ORDERS.get(dates, (dates,))
        else:
            dates = tuple(dates)
            formats = dates
        if not formats or not all(isinstance(f, str) and "%" in f for f in formats):
            raise ValueError(
                f"dates must be 'day-first', 'month-first' or strptime formats such as "
                f"'%d/%m/%Y', got {dates!r}"
            )
        return cls(dates, decimal, tuple(formats))

    def note(self) -> str:
        """What the load did, for ``Dataset.notes``."""
        parts = []
        if self.dates is not None:
            how = self.dates if self.dates in DATE_ORDERS else "as " + ", ".join(self.formats)
            parts.append(f"CSV dates read {how} (dates={self.dates!r})")
        if self.decimal == ",":
            parts.append("numbers with a decimal comma (decimal=',')")
        return ", ".join(parts)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The contract kinds of the columns this choice rewrites (read as text first)."""
        dated = ("date", "timestamp") if self.formats else ()
        return dated + (("number", "integer") if self.decimal == "," else ())

    def rewrite(self, con: Any, table: str, kinds: Mapping[str, str]) -> None:
        """Rewrite the text columns of the DuckDB table ``table`` that ``kinds`` names (file
        column: contract kind, ``date`` / ``timestamp`` / ``number`` / ``integer``) in the
        spelling the contract reads: ISO dates, numbers with a decimal point and no separator.
        A value that does not fit is kept as written (the contract refuses it by its row)."""
        t = con.table(table)
        text = {c.lower(): c for c, dtype in t.schema().items() if dtype.is_string()}
        out, numbers = [], []
        for name, kind in kinds.items():
            col = text.get(name.lower())
            if col is None or kind not in self.kinds:
                continue
            value, ident = f"trim({_ident(col)})", _ident(col)
            if kind in ("date", "timestamp"):
                spelled = "%Y-%m-%d" if kind == "date" else "%Y-%m-%d %H:%M:%S"
                fmts = ", ".join(map(_literal, self.formats))
                parsed = f"strftime(try_strptime({value}, [{fmts}]), '{spelled}')"
                out.append(f"coalesce({parsed}, {ident}) AS {ident}")
            else:
                fixed = f"replace(replace({value}, '.', ''), ',', '.')"
                fits = f"regexp_full_match({value}, {_literal(_COMMA_NUMBER)})"
                out.append(f"CASE WHEN {fits} THEN {fixed} ELSE {ident} END AS {ident}")
                numbers.append(col)
        if out:
            _replace(con, table, out)
        if numbers:
            _type_numbers(con, table, numbers)


def _replace(con: Any, table: str, columns: list[str]) -> None:
    con.con.execute(
        f"CREATE OR REPLACE TABLE {_ident(table)} AS "
        f"SELECT * REPLACE ({', '.join(columns)}) FROM {_ident(table)}"
    )


def _type_numbers(con: Any, table: str, columns: list[str]) -> None:
    """Type the rewritten number columns as the CSV sniffer types a column (BIGINT when every
    value is a whole number, else DOUBLE), so that a file read with ``decimal=","`` gives the
    tables its year-first, decimal-point twin gives; a column with a value that is no number
    stays text, for the contract to refuse by its row."""
    # a whole number is written without a decimal part ("50.00" is a DOUBLE, as to the sniffer)
    whole = "regexp_full_match(trim({c}), '-?\\d+') AND TRY_CAST({c} AS BIGINT) IS NOT NULL"
    number = "TRY_CAST({c} AS DOUBLE) IS NOT NULL"
    checks = [
        f"count(*) FILTER (WHERE {_ident(c)} IS NOT NULL AND NOT ({test.format(c=_ident(c))}))"
        for c in columns
        for test in (whole, number)
    ]
    bad = con.con.execute(f"SELECT {', '.join(checks)} FROM {_ident(table)}").fetchone()
    casts = []
    for i, c in enumerate(columns):
        not_int, not_num = bad[2 * i], bad[2 * i + 1]
        if not_num == 0:
            casts.append(
                f"CAST({_ident(c)} AS {'BIGINT' if not_int == 0 else 'DOUBLE'}) AS {_ident(c)}"
            )
    if casts:
        _replace(con, table, casts)
