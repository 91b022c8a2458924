"""Where data comes from: :func:`load` (segwork's own tables or a vendor export) and
:func:`open_data` (what a notebook opens).

Vendor formats are modules with ``NAME``, ``detect(folder) -> bool`` (its files and headers are
there) and ``read(folder, *, encoding=None) -> Imported``: :mod:`~segwork.sources.stripe`,
:mod:`~segwork.sources.shopify`, :mod:`~segwork.sources.online_retail`.  Each turns an export
folder into canonical tables by the rules of ``docs/metrics.md`` ("Imported data"), counting every
row it leaves out on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from segwork.data.dataset import LEFT_OUT_COLUMNS, Dataset
from segwork.data.load import load as load_tables
from segwork.data.load import load_sample
from segwork.settings import CURRENCY_ENV, DATA_ENV, FORMAT_ENV, env
from segwork.sources import online_retail, shopify, stripe
from segwork.sources.base import Imported, LeftOut

__all__ = [
    "FORMATS",
    "LEFT_OUT_COLUMNS",
    "Imported",
    "LeftOut",
    "detect_format",
    "load",
    "open_data",
    "read_export",
]

#: The file of an export folder that holds the exchange rates (docs/metrics.md "Currencies").
FX_FILE = "fx.csv"

#: The export formats segwork reads, by name.
FORMATS: dict[str, ModuleType] = {m.NAME: m for m in (stripe, shopify, online_retail)}

ColumnMap = Mapping[str, Mapping[str, str]] | Mapping[str, str]


def detect_format(folder: str | Path) -> str | None:
    """The export format whose files and headers ``folder`` holds; None for anything else.

    Only file names and header lines are read.  Raises a clear error when the folder matches
    several formats (then ``format=`` decides).

    Examples
    --------
    >>> import segwork
    >>> from segwork.paths import SAMPLE_DIR
    >>> detect_format(SAMPLE_DIR) is None      # segwork's own tables
    True
    """
    path = Path(folder).expanduser()
    if not path.is_dir():
        return None
    found = [name for name, module in FORMATS.items() if module.detect(path)]
    if len(found) > 1:
        raise ValueError(
            f"{path} looks like several export formats ({', '.join(found)}); say which one: "
            f"load(..., format={found[0]!r})"
        )
    return found[0] if found else None


def read_export(folder: str | Path, format: str, *, encoding: str | None = None) -> Imported:
    """Read the export folder ``folder`` in ``format`` into canonical tables (pandas)."""
    module = FORMATS.get(format)
    if module is None:
        raise ValueError(
            f"format={format!r} is not a format segwork reads; formats: segwork (its own "
            f"tables), {', '.join(FORMATS)}"
        )
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise ValueError(f"format={format!r} reads a folder of export files; {path} is not one")
    imported: Imported = module.read(path, encoding=encoding)
    return imported


def load(
    source: Any,
    *,
    format: str | None = None,
    encoding: str | None = None,
    columns: ColumnMap | None = None,
    base_currency: str | None = None,
    dates: str | Sequence[str] | None = None,
    decimal: str = ".",
) -> Dataset:
    """Load and validate data: segwork's own tables, or a vendor export as it comes.

    Parameters
    ----------
    source : path, mapping, Ibis backend or Dataset
        - a folder of vendor exports (a Stripe Dashboard export, Shopify orders exports, the UCI
          Online Retail order lines), read by the rules of ``docs/metrics.md`` ("Imported
          data");
        - anything :func:`segwork.data.load.load` takes: a folder of table files named after
          the tables (``customers.csv``, ``mrr.parquet``, ...), a DuckDB database file, a dict
          ``{table name: DataFrame | Ibis table | file path}`` or an Ibis connection.
    format : {None, "segwork", "stripe", "shopify", "online_retail"}
        What a folder holds.  ``None`` (default) recognises an export folder by its files and
        headers, and reads anything else as segwork's own tables; ``"segwork"`` skips the
        recognition.  ``Dataset.notes`` says which format was read.
    encoding : str, optional
        The text encoding of the CSV files (``"cp1252"``, ``"utf-16"``, ...).  By default a
        file that is not UTF-8 is detected (charset-normalizer) and read right, and
        ``Dataset.notes`` says so.  A file that cannot be decoded with confidence is refused
        (rule ``not_utf8``).
    columns : mapping, optional
        Your column names -> the canonical ones, per table (segwork's own tables only; an
        export's headers are known): ``{"customers": {"id": "customer_id"}}``.  A flat mapping
        ``{"id": "customer_id"}`` applies to every table that has the column.
    base_currency : str, optional
        The currency of every metric when the amounts are in several: an ``fx`` table
        (``currency, month, rate``: units of the base currency per unit of ``currency``, one
        rate a month; a file ``fx.csv`` in the folder, an export folder included, or an ``"fx"``
        entry of the dict) converts each amount at its month's rate (docs/metrics.md
        "Currencies").  Data in one currency needs neither; that currency is then the one
        shown (``Dataset.currency``).
    dates : str or sequence of str, optional
        How the CSV files of segwork's own tables write dates when not year-first:
        ``"day-first"`` (31/01/2024, 31.01.2024), ``"month-first"`` (01/31/2024) or strptime
        formats (``"%d/%m/%y"``); a value that fits neither is refused by its row.
    decimal : {".", ","}
        The decimal mark of those files' numbers; ``","`` reads ``1.234,50`` as 1234.5.  An
        export's dates and numbers follow its format: neither applies to it.

    Returns
    -------
    Dataset
        With ``mrr`` derived from ``subscriptions`` when not given, customers derived from the
        other tables when not given (both said in ``Dataset.notes``).  For an export,
        ``Dataset.format`` names it and ``Dataset.left_out`` counts, per file and reason, every
        row left out on purpose (never paid, refunded, no customer, ...); ``Dataset.notes``
        lists them too.

    Raises
    ------
    DataContractError
        A table breaks the contract, or an export lacks a column or holds a value its format
        does not allow: the message names the table (or file), the column, the rule, the number
        of offending rows and the first five of them.
    ValueError
        The source is not something segwork can read, or a folder looks like several formats.

    Examples
    --------
    >>> import pandas as pd, segwork
    >>> customers = pd.DataFrame({"id": [1, 2], "signup_date": ["2024-01-05", "2024-02-10"]})
    >>> subscriptions = pd.DataFrame({"customer_id": [1, 2],
    ...     "start_date": ["2024-01-05", "2024-02-10"],
    ...     "amount": [1200.0, 50.0], "billing_interval": ["year", "month"]})
    >>> data = segwork.load({"customers": customers, "subscriptions": subscriptions},
    ...                     columns={"customers": {"id": "customer_id"}})
    >>> data
    <segwork.Dataset from pandas: customers, subscriptions, mrr*>
    >>> data.format, len(data.left_out)
    ('segwork', 0)
    """
    if format not in (None, "segwork") and format not in FORMATS:
        raise ValueError(
            f"format={format!r} is not a format segwork reads; formats: segwork (its own "
            f"tables), {', '.join(FORMATS)}"
        )
    folder = Path(source).expanduser() if isinstance(source, str | Path) else None
    if format is None and folder is not None:
        format = detect_format(folder)
    if format in (None, "segwork"):
        return load_tables(
            source,
            encoding=encoding,
            columns=columns,
            base_currency=base_currency,
            dates=dates,
            decimal=decimal,
        )
    if folder is None or not folder.is_dir():
        raise ValueError(f"format={format!r} reads a folder of export files, not {source!r}")
    if columns:
        raise ValueError(f"columns= does not apply to a {format} export: its headers are known")
    if dates is not None or decimal != ".":
        raise ValueError(
            f"dates= and decimal= do not apply to a {format} export: its dates and numbers are "
            "read by its format's rules"
        )
    imported = read_export(folder, format, encoding=encoding)
    tables: dict[str, Any] = dict(imported.tables)
    fx = next((f for f in folder.iterdir() if f.name.lower() == FX_FILE), None)
    if fx is not None:
        tables["fx"] = str(fx)
    data = load_tables(tables, base_currency=base_currency)
    data.source = str(folder)
    data.format = format
    data.notes = (*imported.summary_notes(), *data.notes)
    data.left_out = imported.left_out_frame()
    return data


def open_data(
    data: Any = None, *, format: str | None = None, base_currency: str | None = None
) -> Dataset:
    """The Dataset a notebook works on: ``data`` if given, else ``$SEGWORK_DATA``, else the sample.

    This is what the notebooks' ``data`` parameter goes through: a path (or anything
    :func:`load` takes) loads it; ``None``, ``""`` or ``"sample"`` fall back to the
    ``SEGWORK_DATA`` environment variable (set by ``segwork app --data``, with its format in
    ``SEGWORK_FORMAT`` and its base currency in ``SEGWORK_BASE_CURRENCY``) and then to the
    bundled sample.

    Examples
    --------
    >>> import segwork
    >>> segwork.open_data("sample").source
    'sample'
    """
    if isinstance(data, Dataset):
        return data
    env_data = env(DATA_ENV)
    env_format = env(FORMAT_ENV)
    env_currency = env(CURRENCY_ENV)
    if data is None or (isinstance(data, str) and data.strip() in ("", "sample")):
        if env_data and env_data != "sample" and data != "sample":
            return load(
                env_data, format=format or env_format, base_currency=base_currency or env_currency
            )
        return load_sample()
    if env_data and isinstance(data, str | Path) and _same_path(data, env_data):
        # the app's or report's data, opened by its path
        format = format or env_format
        base_currency = base_currency or env_currency
    return load(data, format=format, base_currency=base_currency)


def _same_path(a: str | Path, b: str | Path) -> bool:
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()
