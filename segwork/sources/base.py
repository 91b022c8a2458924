"""What every vendor-format reader shares: its result, its CSV reading and its refusals.

A reader (``segwork.sources.stripe``, ``shopify``, ``online_retail``) turns a folder of exports
into the canonical segwork tables as pandas DataFrames, an :class:`Imported`.  Nothing is dropped
without a count: every row left out on purpose is a :class:`LeftOut` line (file, table, reason,
rows), shown in ``Dataset.notes``, ``Dataset.left_out`` and ``segwork validate`` / ``import``.
A missing or renamed vendor column, or a value the format does not allow, is a
:class:`~segwork.data.contract.DataContractError` naming the file, the column, the rule and the
first rows (:func:`export_breach`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from segwork.data.contract import N_EXAMPLES, ContractBreach, DataContractError
from segwork.data.dataset import LEFT_OUT_COLUMNS
from segwork.data.encoding import detect_encoding, normalize_encoding, not_decodable

__all__ = [
    "LEFT_OUT_COLUMNS",
    "Imported",
    "LeftOut",
    "export_breach",
    "export_name",
    "header_of",
    "read_export_csv",
    "require_columns",
]



#: How a note about rows left out at import starts (``Imported.summary_notes``).
LEFT_OUT_NOTE = "left out at import: "


def export_name(format: str) -> str:
    """``"a stripe export"``, ``"an online_retail export"``: the format in a sentence."""
    return f"{'an' if format[:1] in 'aeiou' else 'a'} {format} export"


@dataclass(frozen=True)
class LeftOut:
    """Rows of an export left out on purpose: which file, which canonical table they would have
    gone to, why, and how many."""

    file: str
    table: str
    reason: str
    rows: int


@dataclass
class Imported:
    """A vendor export read into canonical tables.

    Attributes
    ----------
    format : str
        The format read (``"stripe"``, ``"shopify"``, ``"online_retail"``).
    tables : dict of str to pandas.DataFrame
        Canonical segwork tables (``customers``, ``subscriptions``, ``transactions``, ...), with
        canonical column names and ISO dates, ready for :func:`segwork.load`.
    left_out : list of LeftOut
        Every row left out on purpose, by file and reason (a reason with 0 rows is not listed).
    notes : list of str
        What a reader should know of the import (rules applied, columns not used).
    encodings : dict of str to str
        File name -> the encoding it was read with (``utf_8``, ``cp1252``, ...).
    """

    format: str
    tables: dict[str, pd.DataFrame]
    left_out: list[LeftOut] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    encodings: dict[str, str] = field(default_factory=dict)

    def leave_out(self, file: str, table: str, reason: str, rows: int) -> None:
        """Count ``rows`` left out of ``table`` from ``file`` for ``reason`` (0 is not listed)."""
        if rows:
            self.left_out.append(LeftOut(file, table, reason, int(rows)))

    def left_out_frame(self) -> pd.DataFrame:
        """``file, table, reason, rows``: one line per file and reason."""
        return pd.DataFrame(
            [(x.file, x.table, x.reason, x.rows) for x in self.left_out], columns=LEFT_OUT_COLUMNS
        )

    def summary_notes(self) -> list[str]:
        """Notes for ``Dataset.notes``: the format, the encodings that were not UTF-8, every
        left-out count, then the reader's own notes."""
        out = [f"read as {export_name(self.format)} ({', '.join(sorted(self.encodings))})"]
        odd = {f: e for f, e in self.encodings.items() if e not in ("utf_8", "utf_8_sig")}
        out += [f"{f} read as {e} text (not UTF-8)" for f, e in sorted(odd.items())]
        out += [f"{LEFT_OUT_NOTE}{x.file}: {x.rows:,} for {x.table} ({x.reason})"
                for x in self.left_out]
        return out + list(self.notes)


def header_of(path: Path, *, encoding: str | None = None) -> list[str]:
    """The header fields of a CSV (first line; quotes respected, BOM removed); [] when unreadable.

    Cheap: reads one line, for format detection.
    """
    enc = normalize_encoding(encoding) if encoding else None
    try:
        raw = path.open("rb").readline(1 << 20)
    except OSError:
        return []
    if enc is None:
        for bom, name in ((b"\xff\xfe", "utf_16"), (b"\xfe\xff", "utf_16")):
            if raw.startswith(bom):
                enc = name
                raw = raw + path.open("rb").read(1 << 16)
                break
    text = raw.decode(enc or "utf_8_sig", errors="replace").splitlines()
    if not text:
        return []
    return [h.strip() for h in next(csv.reader([text[0]]), [])]


def read_export_csv(
    path: Path, imported: Imported, *, encoding: str | None = None
) -> pd.DataFrame:
    """A vendor CSV as a DataFrame of text: every value a ``str`` ("" where empty).

    The encoding is ``encoding`` when given, else detected (:func:`detect_encoding`, on the
    whole file: an export's first non-ASCII character may come late); it is recorded in
    ``imported.encodings``.  Values are not typed here: each reader parses the
    columns it uses and refuses what it cannot parse (:func:`export_breach`), so nothing is
    guessed by a CSV sniffer.
    """
    if encoding:
        enc = normalize_encoding(encoding)
    else:
        enc = detect_encoding(path, full_check=True).encoding
    imported.encodings[path.name] = enc
    read_enc = "utf_8_sig" if enc == "utf_8" else enc
    try:
        return pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            encoding=read_enc,
            skipinitialspace=False,
        )
    except UnicodeDecodeError as err:
        raise not_decodable(path, f"it is not valid {enc}: {err.reason}") from err
    except pd.errors.ParserError as err:
        raise export_breach(
            path.name, None, "ragged_row", f"the file cannot be read as CSV: {err}"
        ) from err


def require_columns(
    frame: pd.DataFrame, file: str, columns: Sequence[str | tuple[str, ...]], fmt: str
) -> dict[str, str]:
    """Check the vendor columns a reader needs; the name present for each.

    Each entry is a column name or a tuple of alternatives (older and newer export headers, e.g.
    ``("Start Date (UTC)", "Start (UTC)")``); the first present is used.  Every missing one is
    refused together, rule ``missing_column``, naming the file and the columns it has.
    """
    found: dict[str, str] = {}
    breaches: list[ContractBreach] = []
    for want in columns:
        options = (want,) if isinstance(want, str) else tuple(want)
        name = next((o for o in options if o in frame.columns), None)
        if name is None:
            shown = " or ".join(repr(o) for o in options)
            breaches.append(
                ContractBreach(
                    file,
                    options[0],
                    "missing_column",
                    f"a {fmt} export's {file} needs the column {shown}, as the export writes it "
                    f"(columns present: {', '.join(frame.columns)})",
                    0,
                    pd.DataFrame(),
                )
            )
        else:
            found[options[0]] = name
    if breaches:
        raise DataContractError(breaches)
    return found


def export_breach(
    file: str,
    column: str | None,
    rule: str,
    description: str,
    offending: pd.DataFrame | None = None,
) -> DataContractError:
    """A refusal of an export's rows: file, column, rule, how many rows and the first five.

    ``offending`` holds the offending rows as read (their line in the file is the index + 2:
    the header is line 1); ``n_rows`` is its length.
    """
    rows = pd.DataFrame() if offending is None else offending
    examples = rows.head(N_EXAMPLES).copy()
    if len(examples):
        examples.insert(0, "line", examples.index + 2)
        examples = examples.reset_index(drop=True)
    return DataContractError(
        [ContractBreach(file, column, rule, description, len(rows), examples)]
    )
