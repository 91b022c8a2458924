"""``segwork.load``: files, DuckDB databases, pandas DataFrames or Ibis tables -> a Dataset."""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.contract import (
    TABLE_SPECS,
    ContractBreach,
    DataContractError,
    canonical,
    validate,
)
from segwork.data.csv_shape import header_row, refuse_ragged_rows
from segwork.data.dataset import TABLE_NAMES, Dataset
from segwork.data.encoding import detect_encoding, normalize_encoding, utf8_copy
from segwork.data.fx import convert_dated_amounts, settle_currencies
from segwork.data.gen_frames import generate_frames
from segwork.data.monthly import native_monthly, require_monthly_rates
from segwork.data.spreadsheet import Spreadsheet
from segwork.paths import SAMPLE_DIR

__all__ = ["load", "load_sample"]

ColumnMap = Mapping[str, Mapping[str, str]] | Mapping[str, str]

_FILE_SUFFIXES = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_DB_SUFFIXES = (".duckdb", ".ddb", ".db")
# CSV columns are typed by DuckDB's sniffer, but never as dates: dates are parsed by the contract
# (ISO only), so an ambiguous "03/04/2024" is refused instead of guessed.  The contract's date
# and timestamp columns are parsed while reading with the engine's own cast, the one the
# contract's rules use (an ambiguous date is no date to it either): a file where one value does
# not parse is read again as text, so the rules name the rows (_parse_csv).
_CSV_TYPES = ["BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR"]
# A file whose name is this close (difflib ratio) to a missing table's name is taken for a typo.
_CLOSE_NAME = 0.8


class _Opened(NamedTuple):
    """What a source opens to: the engine, raw tables by canonical name, a label, the names to
    materialize in the engine, and notes for the Dataset (e.g. files that were not read)."""

    con: Any
    raw: dict[str, ir.Table]
    label: str
    materialize: set[str]
    notes: tuple[str, ...] = ()


class _Reading:
    """How CSV files of one load are read: the encoding asked for (None: detect), the files
    that DuckDB found not to be UTF-8 past the first MiB (detected again on the whole file), a
    scratch folder for UTF-8 copies (removed once the tables are in the engine), and the
    encodings used."""

    def __init__(
        self,
        encoding: str | None,
        scratch: str,
        columns: ColumnMap | None = None,
        sheet: Spreadsheet | None = None,
    ) -> None:
        self.encoding = normalize_encoding(encoding) if encoding else None
        self.columns = columns
        self.sheet = sheet
        self.recheck: set[Path] = set()
        self.scratch = scratch
        self.used: dict[str, str] = {}
        self.copies: dict[Path, Path] = {}

    def utf8_path(self, path: Path) -> Path:
        """``path`` itself when it is UTF-8, else a UTF-8 copy of it (the encoding recorded)."""
        if self.encoding is not None:
            enc, how = self.encoding, "given"
        else:
            guess = detect_encoding(path, full_check=path.resolve() in self.recheck)
            enc, how = guess.encoding, guess.how
        if enc in ("utf_8", "utf_8_sig"):
            return path
        folder = Path(self.scratch) / str(len(self.copies))
        folder.mkdir()
        copy = utf8_copy(path, enc, folder)
        self.copies[copy.resolve()] = path.resolve()
        self.used[path.name] = f"{enc} ({how})"
        return copy

    def dated(self, table: str, fields: list[str]) -> dict[str, str]:
        """The file's columns that are the contract's dates and timestamps of ``table`` (named
        as in the file, through ``columns=``), with the engine type each is read as."""
        return {f: k.upper() for f, k in self.kinds(table, fields, ("date", "timestamp")).items()}

    def kinds(self, table: str, fields: list[str], wanted: tuple[str, ...]) -> dict[str, str]:
        """The file's columns whose contract kind of ``table`` is one of ``wanted`` (named as
        in the file, through ``columns=``), with that kind."""
        spec = TABLE_SPECS.get(table)
        if spec is None:
            return {}
        kinds = {c.name: c.kind for c in spec.columns if c.kind in wanted}
        mapping: Mapping[str, Any] = self.columns or {}
        if mapping and not all(isinstance(v, str) for v in mapping.values()):
            mapping = mapping.get(table, {})  # per table
        out: dict[str, str] = {}
        for f in fields:
            kind = kinds.get(str(mapping.get(f, f)))
            if kind is not None:
                out[f] = kind
        return out

    def notes(self) -> tuple[str, ...]:
        sheet = (self.sheet.note(),) if self.sheet is not None else ()
        return sheet + tuple(
            f"{f} read as {e} text, not UTF-8" for f, e in sorted(self.used.items())
        )


class _NotUtf8(Exception):
    """DuckDB met a byte that is not UTF-8 in ``path`` (past the part the detector looked at)."""

    def __init__(self, path: Path, breach: DataContractError) -> None:
        super().__init__(str(path))
        self.path = path
        self.breach = breach


def load(
    source: Any,
    *,
    encoding: str | None = None,
    columns: ColumnMap | None = None,
    base_currency: str | None = None,
    dates: str | Sequence[str] | None = None,
    decimal: str = ".",
) -> Dataset:
    """Load and validate segwork input tables (vendor exports: :func:`segwork.load`).

    Parameters
    ----------
    source : path, mapping, Ibis backend or Dataset
        - a directory holding files named after the tables (``customers.csv``, ``mrr.parquet``,
          ...; CSV, gzipped CSV or Parquet; names compared case-insensitively).  A file named
          close to a table that has none (``customer.csv``) is refused as a typo; other files are
          not read and are listed in ``Dataset.notes``;
        - a DuckDB database file (``.duckdb``/``.ddb``/``.db``) holding tables of those names;
        - a dict ``{table name: pandas DataFrame | Ibis table | file path}``;
        - an Ibis backend connection (DuckDB, PySpark, a warehouse) holding tables of those names.
        File and pandas inputs go into an in-process DuckDB; an Ibis connection's tables stay in
        that engine.  Nothing large is pulled into pandas.
    encoding : str, optional
        The text encoding of the CSV files (``"cp1252"``, ``"utf-16"``, ...).  By default a file
        that is not UTF-8 is detected (charset-normalizer) and read right; the encoding used is
        said in ``Dataset.notes``.  A file that cannot be decoded with confidence is refused
        (``not_utf8``).
    columns : mapping, optional
        Your column names -> the canonical ones, per table:
        ``{"customers": {"id": "customer_id"}}``.
        A flat mapping ``{"id": "customer_id"}`` applies to every table that has the column.
    base_currency : str, optional
        The currency of the metrics when the data holds several: an ``fx`` table (``currency,
        month, rate``) converts every amount at its month's rate (docs/metrics.md
        "Currencies").  Without an ``fx`` table the data must hold one currency, which is the
        base (``base_currency``, if given, must name it).
    dates : str or sequence of str, optional
        How the CSV files write dates when not year-first: ``"day-first"`` (31/01/2024,
        31.01.2024, 31-01-2024, a time of day allowed), ``"month-first"`` (01/31/2024, ...) or
        strptime formats (``"%d/%m/%y"``).  Year-first values are still read; a value that
        fits neither is refused by its row (:mod:`segwork.data.spreadsheet`).
    decimal : {".", ","}
        The decimal mark of the CSV files' numbers; ``","`` reads ``1.234,50`` as 1234.5.

    Returns
    -------
    Dataset
        With ``mrr`` derived from ``subscriptions`` (docs/metrics.md "MRR") when no ``mrr`` is
        given and, when no ``customers`` table is given, customers derived from the other tables
        (signup date = first activity); both are said in ``Dataset.notes``.

    Raises
    ------
    DataContractError
        A table breaks the contract: the message names table, column, rule, the number of
        offending rows and the first five of them.  A CSV whose encoding cannot be told
        (``not_utf8``) or that has lines with more or fewer fields than its header
        (``ragged_row``: file, lines, field counts) is refused the same way.
    ValueError
        The source is not something segwork can read, or holds no segwork table.

    Examples
    --------
    Order lines (two rows of order ``a``) and no customers table:

    >>> import pandas as pd
    >>> lines = pd.DataFrame({"customer_id": [1, 1, 2], "order_id": ["a", "a", "b"],
    ...     "date": ["2024-01-05", "2024-01-05", "2024-02-10"], "amount": [5.0, 7.5, 20.0]})
    >>> data = load({"transactions": lines})
    >>> data.kind, data.notes[0][:48]
    ('transactions', 'no customers table: customers derived from trans')
    """
    sheet = Spreadsheet.of(dates, decimal)
    if isinstance(source, Dataset):
        if columns or encoding or base_currency or sheet:
            raise ValueError(
                "columns=, encoding=, base_currency=, dates= or decimal= cannot apply to an "
                "already loaded Dataset"
            )
        return source
    with tempfile.TemporaryDirectory(prefix="segwork-") as scratch:
        reading = _Reading(encoding, scratch, columns, sheet)
        while True:
            try:
                return _load_tables(source, columns, reading, base_currency)
            except _NotUtf8 as err:
                if reading.encoding is not None or err.path in reading.recheck:
                    raise err.breach from None
                reading.recheck.add(err.path)  # detect again, on the whole file


def _load_tables(
    source: Any, columns: ColumnMap | None, reading: _Reading, base_currency: str | None
) -> Dataset:
    tables: dict[str, ir.Table] = {}
    with _csv_errors(reading):
        con, opened, label, materialize, opened_notes = _open(source, reading)
        raw = _rename(opened, columns)
        # A CSV was parsed once, into an engine table (_read_file); Parquet files and engine
        # tables are scanned in place, never copied.
        validate(raw)
        for name, t in raw.items():
            expr = canonical(name, t)
            if name not in materialize:
                tables[name] = expr
            elif expr is opened[name] and getattr(con, "name", None) == "duckdb":
                # parsed with every type the contract wants: the parsed table is the table
                con.drop_table(name, force=True)
                con.con.execute(f'ALTER TABLE "_csv_{name}" RENAME TO "{name}"')
                tables[name] = con.table(name)
            else:  # the typed copy holds the data now (one copy at a time)
                tables[name] = con.create_table(name, expr, overwrite=True)
                con.drop_table(f"_csv_{name}", force=True)
    currencies = settle_currencies(tables, base_currency)
    notes: list[str] = []
    if currencies.converts:
        converted = convert_dated_amounts(tables, currencies.base)
        tables.update(converted)
        others = ", ".join(c for c in currencies.found if c != currencies.base)
        notes.append(
            f"amounts in {others} converted to {currencies.base} at each month's rate (fx table; "
            'docs/metrics.md "Currencies")'
        )
    if "customers" not in tables and set(tables) - {"market", "fx"}:
        tables["customers"] = _derive_customers(tables)
        notes.append(
            "no customers table: customers derived from "
            + ", ".join(n for n in tables if n not in ("customers", "market", "fx"))
            + " (signup_date = first activity)"
        )
    derived = "mrr" not in tables and "subscriptions" in tables
    if derived:
        notes.append(
            "mrr derived from subscriptions"
            ' (docs/metrics.md "MRR": monthly normalisation, active rule)'
        )
    notes.extend(opened_notes)
    notes.extend(reading.notes())
    data = Dataset(tables, backend=con, source=label, notes=tuple(notes), mrr_derived=derived)
    data.currencies = currencies
    if currencies.converts and data.has("mrr"):  # a missing rate is named now, not on a page
        end = data.data_end
        native = native_monthly(tables, end, derived=derived)
        require_monthly_rates(native, tables["fx"], currencies.base, end)
    return data


def load_sample() -> Dataset:
    """The bundled sample: 2,000 synthetic SaaS customers (``data/sample/``).

    Read from the repository's ``data/sample`` directory; where that is not available (an installed
    wheel) the identical data is regenerated with ``make_saas_data(2000, random_state=0)``.

    Examples
    --------
    >>> import segwork
    >>> segwork.load_sample().kind
    'subscription'
    """
    if (SAMPLE_DIR / "customers.csv").exists():
        data = load(SAMPLE_DIR)
        data.source = "sample"
        return data
    return load(generate_frames(2000, random_state=0))


# -- sources -------------------------------------------------------------------------------------
def _open(source: Any, reading: _Reading) -> _Opened:
    """The backend, raw tables by canonical name, a label, names to materialize, notes."""
    if isinstance(source, str | Path):
        path = Path(source).expanduser()
        if path.is_dir():
            return _open_directory(path, reading)
        if path.is_file() and path.suffix.lower() in _DB_SUFFIXES:
            return _open_duckdb_file(path)
        if not path.exists():
            raise ValueError(f"no such file or directory: {path}")
        raise ValueError(
            f"cannot load {path}: give a directory of table files (customers.csv, mrr.parquet, "
            "...), "
            f"a DuckDB database file ({', '.join(_DB_SUFFIXES)}), a dict of DataFrames or an Ibis "
            "connection"
        )
    if isinstance(source, Mapping):
        return _open_mapping(source, reading)
    if isinstance(source, ibis.BaseBackend):
        names = [n for n in TABLE_NAMES if n in set(source.list_tables())]
        if not names:
            raise ValueError(
                f"the {source.name} connection has no segwork table (looked for: "
                f"{', '.join(TABLE_NAMES)})"
            )
        return _Opened(
            source, {n: source.table(n) for n in names}, f"{source.name} connection", set()
        )
    if type(source).__name__ == "SparkSession":
        con = ibis.pyspark.connect(source)
        return _open(con, reading)
    raise TypeError(
        f"cannot load a {type(source).__name__}: give a path, a dict of DataFrames or Ibis tables, "
        "or an Ibis connection"
    )


def _open_directory(path: Path, reading: _Reading) -> _Opened:
    """Read the table files of a directory; no other file is ignored without a word.

    A file is a table file when its name, compared case-insensitively, is a table name with a
    known suffix (``customers.csv``, ``Customers.CSV``, ``mrr.parquet``, ...).  A file whose name
    is close to a table that has no file (``customer.csv``, ``subscription.parquet``,
    ``customers.xlsx``) is refused as a probable typo.  Other files and folders are not read and
    are listed in the Dataset's notes; hidden ones (``.DS_Store``, ``._customers.csv``) and
    README files are skipped without a note.
    """
    con = _duckdb_engine()
    entries = sorted(
        p
        for p in path.iterdir()
        if not p.name.startswith(".") and not p.name.lower().startswith("readme")
    )
    files: dict[str, list[Path]] = {}
    others: list[Path] = []
    for p in entries:
        name = _table_name(p) if p.is_file() else None
        if name in TABLE_NAMES:
            files.setdefault(name, []).append(p)
        else:
            others.append(p)
    for p in others:
        _refuse_misnamed(p, set(files))
    raw: dict[str, ir.Table] = {}
    materialize: set[str] = set()
    for name in TABLE_NAMES:
        found = files.get(name, [])
        if len(found) > 1:
            raise ValueError(
                f"{path} has several files for table '{name}': {', '.join(p.name for p in found)}"
            )
        if found:
            raw[name], is_csv = _read_file(con, found[0], name, reading)
            if is_csv:
                materialize.add(name)
    listed = ", ".join(p.name + ("/" if p.is_dir() else "") for p in others)
    if not raw:
        raise ValueError(
            f"{path} holds no segwork table file: expected files named after the tables "
            f"({', '.join(n + '.csv' for n in TABLE_NAMES)}) or .parquet"
            + (f"; it has: {listed}" if listed else "")
        )
    notes = (f"not segwork table files, not read: {listed}",) if others else ()
    return _Opened(con, raw, str(path), materialize, notes)


def _refuse_misnamed(path: Path, present: set[str]) -> None:
    """Refuse a file whose name is close to a table that has no file: a typo, not another file."""
    if not path.is_file():
        return
    stem = _table_name(path) or path.name.lower().split(".")[0]
    close = difflib.get_close_matches(stem, TABLE_NAMES, n=1, cutoff=_CLOSE_NAME)
    if not close or close[0] in present:
        return
    table = close[0]
    suffix = next((s for s in _FILE_SUFFIXES if path.name.lower().endswith(s)), None)
    if suffix is None:
        raise ValueError(
            f"{path.name} is not a file segwork reads (CSV, TSV, gzipped CSV or Parquet); "
            f"save table '{table}' as {table}.csv or {table}.parquet"
        )
    raise ValueError(
        f"{path.name} is not a segwork table; did you mean {table}{suffix}? "
        f"(segwork tables: {', '.join(TABLE_NAMES)})"
    )


def _table_name(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in _FILE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def _read_file(con: Any, path: Path, name: str, reading: _Reading) -> tuple[ir.Table, bool]:
    """The file as a raw table, and whether it is a CSV.

    A Parquet file is scanned in place.  A CSV is parsed once, into the engine table
    ``_csv_<name>`` that validation and the typed copy then scan in memory (each scan of the file
    itself would parse it again); on DuckDB that is one statement, so the dialect sniffer runs
    once per file.
    """
    lower = path.name.lower()
    kind = next(k for s, k in _FILE_SUFFIXES.items() if lower.endswith(s))
    if kind == "parquet":
        return con.read_parquet(path, table_name=f"_raw_{name}"), False
    path = reading.utf8_path(path)
    header = header_row(path)
    if header is not None:  # DuckDB would silently rename a second "amount" to "amount_1"
        _check_column_names(name, [f for f in header[1] if f])
    dated = reading.dated(name, header[1]) if header is not None else {}
    written = {}  # dates / numbers as a spreadsheet writes them: read as text, then rewritten
    if reading.sheet is not None and header is not None:
        written = reading.kinds(name, header[1], reading.sheet.kinds)
        dated = dict.fromkeys(written, "VARCHAR")
    try:
        t = _parse_csv(con, path, f"_csv_{name}", dated)
        if written and reading.sheet is not None:
            reading.sheet.rewrite(con, f"_csv_{name}", written)
            t = con.table(f"_csv_{name}")
    except duckdb.Error as err:
        if "CSV Error" not in str(err):  # ragged rows can make the dialect sniffer give up
            refuse_ragged_rows(path, name)
        raise
    if header is not None and len(header[1]) > 1 and len(t.columns) != len(header[1]):
        # the sniffer saw another number of columns than the header has: ragged rows in its
        # sample make it pick another delimiter ("|", one column) or take the header for data
        con.drop_table(f"_csv_{name}", force=True)
        refuse_ragged_rows(path, name)
    return t, True


def _parse_csv(con: Any, path: Path, table: str, dated: Mapping[str, str]) -> ir.Table:
    """The CSV parsed into the engine table ``table`` (columns and types sniffed).

    On DuckDB the ``dated`` columns (name: ``DATE`` or ``TIMESTAMP``) are parsed while reading,
    with the engine's cast (no format guessed); when one value does not parse, the file is read
    again with those columns as text, and the contract's rules name the rows.  Parsing once
    while reading spares a cast of every value by each rule and by the typed copy.
    """
    if getattr(con, "name", None) == "duckdb":
        candidates = ", ".join(f"'{t}'" for t in _CSV_TYPES)
        sql = (
            f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM read_csv({_quote(str(path))}, '
            f"header = true, auto_detect = true, auto_type_candidates = [{candidates}]"
        )
        if dated:
            typed = ", ".join(f"{_quote(c)}: '{k}'" for c, k in dated.items())
            try:
                con.con.execute(sql + f", types = {{{typed}}})")
                return con.table(table)
            except duckdb.Error:
                # a value that is no date (or any other trouble): read as before, as text,
                # for the rules to name the rows (a damaged file fails that read the same way)
                pass
        con.con.execute(sql + ")")
        return con.table(table)
    raw = con.read_csv(path, table_name=f"_raw{table}", auto_type_candidates=_CSV_TYPES)
    return con.create_table(table, raw, overwrite=True)


def _quote(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def _csv_errors(reading: _Reading) -> Iterator[None]:
    """DuckDB's CSV reader errors -> a clear refusal naming the file (a CSV is read lazily, so a
    bad byte far down the file surfaces during validation or materialisation).  A byte that is
    not UTF-8 raises :class:`_NotUtf8`, so that :func:`load` detects the file's encoding on the
    whole file and reads it again."""
    try:
        yield
    except duckdb.Error as err:
        text = str(err)
        found = re.search(r"^\s*file = (.+)$", text, re.M)
        if "CSV Error" not in text or not found:
            raise
        file = Path(found.group(1).strip())
        file = reading.copies.get(file.resolve(), file)  # a UTF-8 copy: name the user's file
        table = _table_name(file) or file.stem
        line = re.search(r"CSV Error on Line: (\d+)", text)
        where = f" (line {line.group(1)})" if line else ""
        if "Expected Number of Columns" in text:  # a ragged line past the sniffer's sample
            refuse_ragged_rows(file, table)
        if "not utf-8 encoded" in text or "Invalid unicode" in text:
            breach = DataContractError(
                [
                    ContractBreach(
                        table,
                        None,
                        "not_utf8",
                        f"{file.name} is not UTF-8 text{where}"
                        + (
                            f" (encoding={reading.encoding!r} was given)"
                            if reading.encoding
                            else ""
                        )
                        + "; re-save it as UTF-8 (e.g. 'CSV UTF-8' in Excel), or name its "
                        "encoding: load(..., encoding='cp1252')",
                        0,
                        pd.DataFrame(),
                    )
                ]
            )
            raise _NotUtf8(file.resolve(), breach) from err
        first = text.splitlines()[0] if text else type(err).__name__
        lines = [ln.strip() for ln in text.splitlines()[1:4]]
        detail = next((ln for ln in lines if ln and "Original Line" not in ln), "")
        raise ValueError(f"cannot read {file}{where}: {first}; {detail}".rstrip("; ")) from err


def _duckdb_engine() -> Any:
    """A new in-process DuckDB engine for one Dataset (progress bars off: a long query must
    not print bars into a notebook, a Voila page or a report)."""
    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")
    return con


def _open_duckdb_file(path: Path) -> _Opened:
    con = _duckdb_engine()
    con.attach(str(path), name="source", read_only=True)
    present = set(con.list_tables(database=("source", "main")))
    names = [n for n in TABLE_NAMES if n in present]
    if not names:
        raise ValueError(
            f"the DuckDB database {path} has no segwork table (looked for: {', '.join(TABLE_NAMES)}"
            f"; it has: {', '.join(sorted(present)) or 'nothing'})"
        )
    tables = {n: con.table(n, database=("source", "main")) for n in names}
    return _Opened(con, tables, str(path), set())


def _open_mapping(source: Mapping[str, Any], reading: _Reading) -> _Opened:
    unknown = sorted(set(source) - set(TABLE_NAMES))
    if unknown:
        close = {
            u: m[0]
            for u in unknown
            if (m := difflib.get_close_matches(str(u).lower(), TABLE_NAMES, 1, _CLOSE_NAME))
        }
        hint = "".join(f"; did you mean '{m}' for '{u}'?" for u, m in close.items())
        raise ValueError(
            f"unknown table name(s) {unknown}{hint}; segwork tables are: {', '.join(TABLE_NAMES)}"
        )
    values = {n: v for n, v in source.items() if v is not None}
    if not values:
        raise ValueError("no tables given")
    backends = {
        id(b): b
        for v in values.values()
        if isinstance(v, ir.Table) and (b := _backend_of(v)) is not None
    }
    if len(backends) > 1:
        raise ValueError("the Ibis tables given come from different connections; use one engine")
    con = next(iter(backends.values())) if backends else _duckdb_engine()
    raw: dict[str, ir.Table] = {}
    materialize: set[str] = set()
    kinds = set()
    for name, value in values.items():
        if isinstance(value, pd.DataFrame):
            _check_frame_columns(name, value)
            raw[name] = con.create_table(f"_raw_{name}", _arrow_safe(value), overwrite=True)
            kinds.add("pandas")
        elif isinstance(value, ir.Table):
            raw[name] = value
            kinds.add("ibis")
        elif isinstance(value, str | Path):
            raw[name], is_csv = _read_file(con, Path(value), name, reading)
            if is_csv:
                materialize.add(name)
            kinds.add("files")
        else:
            raise TypeError(
                f"table '{name}' is a {type(value).__name__}; give a pandas DataFrame, an Ibis "
                "table or a file path"
            )
    return _Opened(con, raw, "+".join(sorted(kinds)), materialize)


def _backend_of(t: ir.Table) -> Any:
    try:
        return t._find_backend(use_default=False)
    except Exception:  # a memtable: no backend of its own
        return None


def _check_frame_columns(name: str, frame: pd.DataFrame) -> None:
    _check_column_names(name, [str(c) for c in frame.columns])


def _check_column_names(name: str, cols: list[str]) -> None:
    dups = sorted({c for c in cols if cols.count(c) > 1})
    if dups:
        raise DataContractError(
            [
                ContractBreach(
                    name,
                    dups[0],
                    "duplicate_column",
                    f"column names must be unique (repeated: {', '.join(dups)})",
                    0,
                    pd.DataFrame(),
                )
            ]
        )


def _arrow_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns holding values of mixed Python types (e.g. floats and a stray "12,5") as text.

    Arrow cannot store such a column; as text, every value reaches the contract checks unchanged
    (a number still parses as a number, "12,5" is reported as not numeric).  Nulls stay null, and
    an all-empty column (e.g. ``end_date`` with no end yet) becomes an empty text column, since the
    engine cannot store a column without a type.

    Time-zone-aware datetime columns become the local wall-clock time they show (the offset is
    dropped, not applied), as for text such as ``2024-01-31T23:30:00-05:00``: a date or time is
    the one written in the data, whatever the engine's session time zone.
    """
    aware = [c for c in frame.columns if isinstance(frame[c].dtype, pd.DatetimeTZDtype)]
    if aware:
        frame = frame.copy()
        for c in aware:
            frame[c] = frame[c].dt.tz_localize(None)
    kinds = {
        c: pd.api.types.infer_dtype(frame[c], skipna=True)
        for c in frame.columns
        if frame[c].dtype == object
    }
    fix = [c for c, k in kinds.items() if k in ("mixed", "mixed-integer", "empty")]
    if not fix:
        return frame
    out = frame.copy()
    for c in fix:
        out[c] = frame[c].map(lambda v: None if _is_null(v) else str(v)).astype("string")
    return out


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA


def _rename(raw: dict[str, ir.Table], columns: ColumnMap | None) -> dict[str, ir.Table]:
    if not columns:
        return raw
    flat = all(isinstance(v, str) for v in columns.values())
    out = dict(raw)
    for name, t in raw.items():
        mapping: Mapping[str, str]
        if flat:
            mapping = {k: v for k, v in columns.items() if k in t.columns}  # type: ignore[misc]
        else:
            mapping = columns.get(name, {})  # type: ignore[assignment]
        if not mapping:
            continue
        missing = [k for k in mapping if k not in t.columns]
        if missing:
            raise DataContractError(
                [
                    ContractBreach(
                        name,
                        missing[0],
                        "missing_column",
                        f"columns= maps '{missing[0]}' but the table has no such column "
                        f"(columns present: {', '.join(t.columns)})",
                        0,
                        pd.DataFrame(),
                    )
                ]
            )
        out[name] = t.rename({new: old for old, new in mapping.items()})
    unknown = [] if flat else sorted(set(columns) - set(TABLE_SPECS))
    if unknown:
        raise ValueError(f"columns= names unknown table(s) {unknown}")
    return out


def _derive_customers(tables: Mapping[str, ir.Table]) -> ir.Table:
    firsts: list[ir.Table] = []
    for name, col in (
        ("subscriptions", "start_date"),
        ("mrr", "month"),
        ("transactions", "date"),
        ("events", "timestamp"),
    ):
        t = tables.get(name)
        if t is not None:
            d = t[col].date() if col == "timestamp" else t[col]
            firsts.append(t.select(customer_id=t.customer_id, first=d))
    if not firsts:
        raise ValueError("no customers table and no table to derive customers from")
    union = ibis.union(*firsts) if len(firsts) > 1 else firsts[0]
    return union.group_by("customer_id").aggregate(signup_date=union.first.min())
