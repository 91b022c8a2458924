"""Tables and the page's HTML pieces: numbers formatted by column name (:func:`format_frame`,
:func:`column_kind`), a table as HTML (:func:`table_html`), a sentence (:func:`text_html`), the
error boxes (:func:`error_html`, :func:`failure_html`) and the page's style sheet (:data:`CSS`).

Plain HTML text only (no widgets): the live page and the static HTML of a report share it.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd

from segwork.formatting import rate_text
from segwork.labels import column_help, column_title, label

__all__ = [
    "CSS",
    "column_kind",
    "error_html",
    "error_text",
    "failure_html",
    "format_frame",
    "header_html",
    "table_html",
    "text_html",
]

_PCT = (
    "rate",
    "share",
    "retention",
    "churn",
    "nrr",
    "grr",
    "penetration",
    "pct",
    "survival",
    "ci_",
)
_MONEY = (
    "mrr",
    "arpa",
    "ltv",
    "arr",
    "tam",
    "sam",
    "som",
    "revenue",
    "acv",
    "monetary",
    "headroom",
)


#: Amounts whose names read like rates (the MRR movements of a month).
_MONEY_NAMES = frozenset(
    {"new", "reactivation", "expansion", "contraction", "churn", "fx_adjustment"}
)
#: Fractions whose names carry no rate word.
_PCT_NAMES = frozenset({"weight_a", "weight_b", "growth", "arr_to_som", "p_alive"})


def _number(v: float) -> str:
    """A plain number: thousands separators from 1,000 on, else 4 significant digits, never in
    scientific notation (``6.157e-05`` reads ``0.00006157``).

    >>> _number(1.2e9), _number(0.2158), _number(6.157e-05), _number(0.0)
    ('1,200,000,000', '0.2158', '0.00006157', '0')
    """
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    text = np.format_float_positional(v, precision=4, unique=False, fractional=False, trim="-")
    return text.rstrip(".")


def column_kind(name: str) -> Literal["pct", "pp", "money", "years", "number"]:
    """How a column named ``name`` (lower case) is written: by :func:`format_frame`'s rule.

    Parameters
    ----------
    name : str
        The column name, lower-cased.

    Returns
    -------
    {"pct", "pp", "money", "years", "number"}
        A rate (percent), a difference of rates (percentage points), an amount, a duration in
        years (one decimal: an implied lifetime of 33.7 years, not 33.72), or a number.

    Examples
    --------
    A column of :data:`segwork.labels.LABELS` with a unit is written in that unit (its header
    says it); the name rules below cover the others.

    >>> [column_kind(n) for n in ("mrr_share", "rate_effect", "churn", "silhouette")]
    ['pct', 'pp', 'money', 'number']
    >>> [column_kind(n) for n in ("aov", "mean_p_alive", "total_clv", "p90")]
    ['money', 'pct', 'money', 'money']
    >>> column_kind("implied_lifetime_years")
    'years'
    """
    unit = label(name).unit
    if unit.startswith("money"):
        return "money"
    if unit.startswith("%"):
        return "pct"
    if unit == "pp":
        return "pp"
    if unit == "years":
        return "years"
    if name in _MONEY_NAMES:
        return "money"
    if name.endswith("_effect") or name.startswith("diff_"):
        return "pp"  # a difference of two rates
    if name in _PCT_NAMES or name.endswith("_share") or name.startswith("share_"):
        return "pct"
    if any(k in name for k in _PCT) and not any(name.startswith(k) for k in _MONEY):
        return "pct"
    if any(k in name for k in _MONEY):
        return "money"
    return "number"


def _is_code(name: str) -> bool:
    """Whether an integer column holds codes or calendar numbers, written without separators
    (``customer_id``, ``year``, ``k``)."""
    return name in {"id", "year", "k", "rank"} or name.endswith(("_id", "_year"))


def format_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A display copy: rates as percentages, money and counts with thousands separators, NaN
    as '—'.

    Chosen by column name (``*rate*``, ``*_share``, ``retention``, ``nrr``... as % in the style
    of the sentences, :func:`segwork.formatting.rate_text`; differences of rates, ``*_effect``
    and ``diff_*``, in percentage points; ``mrr``, ``arpa``, ``ltv``, the MRR movements... as
    money); other numbers with separators (never ``1.2e+09``); integer counts with separators
    (identifiers and years as they are); flags (``small_segment``) as "yes" / "no"; text is left
    as it is.

    >>> format_frame(pd.DataFrame({"mrr_share": [0.25], "rate_effect": [-0.0012],
    ...     "churn": [41748.2], "point": [1.2e9], "silhouette": [0.2158],
    ...     "churn_rate": [0.0023], "customers": [446896], "customer_id": [123456]})
    ... ).iloc[0].astype(str).tolist()
    ['25.0 %', '-0.12 pp', '41,748', '1,200,000,000', '0.2158', '0.23 %', '446,896', '123456']
    >>> format_frame(pd.DataFrame({"small_segment": [True, False], "annual": [None, True]})
    ... ).to_dict("list")
    {'small_segment': ['yes', 'no'], 'annual': ['—', 'yes']}
    """
    formats: dict[str, Callable[[float], str]] = {
        "pct": rate_text,
        "pp": lambda v: f"{100 * v:+.2f} pp",
        "money": lambda v: f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}",
        "years": lambda v: f"{v:,.1f}",
        "number": _number,
    }
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if _is_flag(s):  # a flag reads as a word, not as Python's True / False
            out[col] = s.map(lambda v: "—" if v is None or v is pd.NA or v != v else _YES_NO[v])
            continue
        if (
            pd.api.types.is_integer_dtype(s)
            and not pd.api.types.is_bool_dtype(s)
            and not _is_code(str(col).lower())
        ):
            out[col] = s.map(lambda v: "—" if pd.isna(v) else f"{int(v):,}")
            continue
        if not pd.api.types.is_float_dtype(s):
            continue
        fmt = formats[column_kind(str(col).lower())]
        out[col] = s.map(lambda v, fmt=fmt: "—" if pd.isna(v) else fmt(v))
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


_YES_NO = {True: "yes", False: "no"}


def _is_flag(s: pd.Series) -> bool:
    """Whether a column holds flags: booleans, missing values allowed."""
    if pd.api.types.is_bool_dtype(s):
        return True
    if s.dtype != object:
        return False
    values = s.dropna()
    return len(values) > 0 and all(isinstance(v, bool | np.bool_) for v in values)


def _cell(v: Any) -> str:
    """One table cell's text: missing values as '—', everything else escaped."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT or v is pd.NA:
        return "—"
    return html.escape(str(v))


def header_html(name: Any, currency: str | None = None) -> str:
    """A table's header cell: the column in words with its unit and currency
    (:func:`segwork.labels.column_title`), its definition on hover (``title``), and the column's
    own name in ``data-column`` for scripts and tests.

    >>> header_html("mrr", "EUR")[:61]
    '<th data-column="mrr" title="Monthly recurring revenue in the'
    >>> header_html("plan")
    '<th data-column="plan">Plan</th>'
    """
    name = str(name)
    help_text = column_help(name)
    hover = f' title="{html.escape(help_text)}"' if help_text else ""
    return (
        f'<th data-column="{html.escape(name)}"{hover}>'
        f"{html.escape(column_title(name, currency))}</th>"
    )


def table_html(df: pd.DataFrame, max_rows: int = 200, currency: str | None = None) -> str:
    """The first ``max_rows`` rows of ``df`` as a ``segwork-table`` (headers in words with
    their definitions on hover, :func:`header_html`; cells formatted by :func:`format_frame`;
    small segments greyed with a tooltip), and how many more there are.

    ``currency`` is the code the money headers name ("MRR (EUR)"; USD when not given).  Written
    out directly (pandas' ``to_html`` took 30 ms for 200 rows, a tenth of a page change).

    >>> h = table_html(pd.DataFrame({"a": [1, None], "b": ["<x>", "y"]}))
    >>> h.count("<tr>"), 'data-column="a">A</th>' in h, "<td>—</td><td>y</td>" in h
    (2, True, True)
    >>> "&lt;x&gt;" in h, ">MRR (GBP)</th>" in table_html(pd.DataFrame({"mrr": [1.0]}), 5, "GBP")
    (True, True)
    """
    shown = df.head(max_rows)
    small = (
        shown["small_segment"].fillna(False).to_numpy(dtype=bool)
        if "small_segment" in shown.columns
        else None
    )
    text = format_frame(shown)
    head = "".join(header_html(c, currency) for c in text.columns)
    columns = [text[c].to_numpy(dtype=object) for c in text.columns]
    rows = []
    for i in range(len(text)):
        cells = [_cell(col[i]) for col in columns]
        first = (
            '<td style="color:#888;font-style:italic" title="small segment: rates unreliable">'
            if small is not None and small[i]
            else "<td>"
        )
        rows.append(
            "<tr>" + first + "</td><td>".join(cells) + "</td></tr>" if cells else "<tr></tr>"
        )
    more = f"<p><em>{len(df) - max_rows} more rows not shown</em></p>" if len(df) > max_rows else ""
    return (
        '<div style="overflow-x:auto"><table border="0" class="dataframe segwork-table">'
        f'<thead><tr style="text-align: right;">{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def error_text(err: BaseException) -> str:
    """An exception's message as every page and report says it: the words alone, without the
    Python class name; a ``KeyError`` without its quotes; none reads as such.

    >>> error_text(ValueError("as_of is after the data")), error_text(KeyError("window"))
    ('as_of is after the data', 'window')
    >>> error_text(RuntimeError())
    'Something went wrong, without a message.'
    """
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    return text.strip() or "Something went wrong, without a message."


def error_html(err: BaseException) -> str:
    """An exception as the page's error box: ``<div class="segwork-error">message</div>``.

    Every error a page shows reads the same: the message in words, without the Python class
    name (``ValueError: ...``); an exception without a message says so.

    >>> error_html(ValueError("a < b"))
    '<div class="segwork-error">a &lt; b</div>'
    >>> error_html(RuntimeError())
    '<div class="segwork-error">Something went wrong, without a message.</div>'
    """
    return f'<div class="segwork-error">{html.escape(error_text(err))}</div>'


def failure_html(err: BaseException, field: str | None, *, shown: bool) -> str:
    """Why a page was not updated (what went wrong, after the change of ``field`` when known)
    and what to do; ``shown``: whether the last good result is still on the page.

    >>> failure_html(ValueError("k must be 2 or more"), "k", shown=True)[:71]
    '<div class="segwork-error"><b>Could not update the page</b> after the c'
    """
    text = error_text(err)
    kept = "the last good result is still shown" if shown else "nothing can be shown until then"
    if field:
        name = html.escape(field)
        head = f"<b>Could not update the page</b> after the change of <b>{name}</b>: "
        todo = f"Change {name} (or another value above) to update it; {kept}."
    else:
        head = "<b>Could not update the page.</b> "
        todo = f"Change the values above to update it; {kept}."
    return f'<div class="segwork-error">{head}{html.escape(text)}<br>{todo}</div>'


#: The page's style sheet: the ``segwork-table`` tables and the ``segwork-error`` box.
CSS = (
    "<style>.segwork-table{border-collapse:collapse;font-size:13px}"
    ".segwork-table th,.segwork-table td{padding:3px 8px;border-bottom:1px solid #e5e5e5;"
    "text-align:right}.segwork-table th{background:#f6f6f6}"
    ".segwork-table th[title]{text-decoration:underline dotted #999;cursor:help}"
    ".segwork-error{color:#b00020;background:#fdecea;padding:6px 10px;border-radius:4px;"
    "white-space:pre-wrap}</style>"
)


def text_html(text: str) -> str:
    """A sentence of the page as an HTML paragraph (escaped).

    >>> text_html("a < b")
    "<p style='font-size:15px;margin:6px 0'>a &lt; b</p>"
    """
    return f"<p style='font-size:15px;margin:6px 0'>{html.escape(text)}</p>"
