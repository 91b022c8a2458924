"""What to do about a date or a number the contract refuses, read off the offending values.

The contract reads dates year-first and numbers with a decimal point, and never guesses
(docs/metrics.md "Input tables"). A file saved by a spreadsheet often writes them otherwise:
day-first or month-first dates, Excel serial numbers, a month as ``2024-01``, decimal commas,
thousands separators, currency symbols. :func:`value_hint` names which of these the refused
values show and how to write them instead, so the error says what to change, not only what is
wrong. It reads the few example rows the error already holds; it changes no value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["value_hint"]

_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T].*)?$")
_MONTH = re.compile(r"^\d{4}[-/]\d{1,2}$")
_COMPACT = re.compile(r"^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$")
_SERIAL = re.compile(r"^\d{5}(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d+$|^-?\d+,\d+$")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_SYMBOL = re.compile(r"^-?\s*[$€£¥]|[$€£¥]\s*$|^-?\s*[A-Z]{3}\s|\s[A-Z]{3}$")

_EXCEL_DATE = "in Excel, format the column as yyyy-mm-dd (Format Cells, Custom) before saving"


def value_hint(rule: str, values: Iterable[object]) -> str | None:
    """How to write the refused ``values`` of a ``rule`` so that they load, or None.

    Parameters
    ----------
    rule : str
        The contract rule: ``"unparseable_date"`` or ``"not_numeric"`` (others give None).
    values : iterable
        The offending values (an error's example rows of the column).

    Examples
    --------
    >>> days = ["31/01/2024", "15/02/2024"]
    >>> print(value_hint("unparseable_date", days))  # doctest: +NORMALIZE_WHITESPACE
    these dates are day-first (31/01/2024): load with dates='day-first' (--dates day-first), or
    write them year-first, 2024-01-31 (in Excel, format the column as yyyy-mm-dd (Format Cells,
    Custom) before saving)
    >>> value_hint("unparseable_date", ["2024-01"])
    'these are months (2024-01); write each as its first day, 2024-01-01'
    >>> print(value_hint("not_numeric", ["1.234,50", "99,00"]))  # doctest: +NORMALIZE_WHITESPACE
    these numbers have a decimal comma (1.234,50): load with decimal=',' (--decimal ,), or write
    them with a decimal point and no thousands separator, 1234.50
    >>> value_hint("not_numeric", ["n/a"]) is None
    True
    """
    texts = [str(v).strip() for v in values if v is not None and str(v).strip()]
    if not texts:
        return None
    if rule == "unparseable_date":
        return _date_hint(texts)
    if rule == "not_numeric":
        return _number_hint(texts)
    return None


def _date_hint(texts: list[str]) -> str | None:
    slashed = [m for m in map(_SLASHED.match, texts) if m]
    if slashed:
        first, second = (max(int(m.group(i)) for m in slashed) for i in (1, 2))
        example = slashed[0].group(0)
        day, month, year = (slashed[0].group(i) for i in (1, 2, 3))
        if first > 12 >= second:
            order = "day-first"
        elif second > 12 >= first:
            order = "month-first"
            day, month = month, day
        else:
            return (
                f"these dates are written day/month or month/day ({example}), which segwork does "
                "not guess: say which with dates='day-first' or dates='month-first' (--dates), "
                f"or write them year-first, YYYY-MM-DD ({_EXCEL_DATE})"
            )
        year = year if len(year) == 4 else f"20{year}"
        iso = f"{year}-{int(month):02d}-{int(day):02d}"
        return (
            f"these dates are {order} ({example}): load with dates='{order}' (--dates {order}), "
            f"or write them year-first, {iso} ({_EXCEL_DATE})"
        )
    if all(_MONTH.match(t) for t in texts):
        year, month = re.split(r"[-/]", texts[0])
        day_one = f"{year}-{int(month):02d}-01"
        return f"these are months ({texts[0]}); write each as its first day, {day_one}"
    if all(_COMPACT.match(t) for t in texts):
        t = texts[0]
        return f"these dates have no separators ({t}); write them as {t[:4]}-{t[4:6]}-{t[6:]}"
    if all(_SERIAL.match(t) for t in texts):
        return (
            f"these look like Excel serial day numbers ({texts[0]}): the cells were saved as "
            f"numbers; {_EXCEL_DATE}"
        )
    return None


def _number_hint(texts: list[str]) -> str | None:
    if any(_SYMBOL.search(t) for t in texts):
        example = next(t for t in texts if _SYMBOL.search(t))
        return (
            f"these amounts carry a currency ({example}); write the number alone and give the "
            "currency in the table's currency column"
        )
    comma = [t for t in texts if _DECIMAL_COMMA.match(t)]
    if comma and all(re.fullmatch(r"-?\d{1,3},\d{3}", t) for t in comma):
        t = comma[0]
        return (
            f"these numbers have a comma ({t}) that may be a decimal comma or a thousands "
            f"separator; write them with a decimal point and no separator ({t.replace(',', '.')} "
            f"or {t.replace(',', '')})"
        )
    if comma:
        number = comma[0].replace(".", "").replace(",", ".")
        return (
            f"these numbers have a decimal comma ({comma[0]}): load with decimal=',' (--decimal "
            f",), or write them with a decimal point and no thousands separator, {number}"
        )
    grouped = [t for t in texts if _THOUSANDS.match(t)]
    if grouped:
        return (
            f"these numbers have thousands separators ({grouped[0]}); write them without, "
            f"{grouped[0].replace(',', '')}"
        )
    return None
