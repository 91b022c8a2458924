"""The input-table contract of docs/metrics.md "Input tables", checked in the engine.

Each table has a :class:`TableSpec`: its required and optional columns, what kind of value each
holds, its key, and the row rules.  :func:`validate` turns every rule into an Ibis boolean
predicate, counts the offending rows of all rules of a table in **one** aggregate query, and only
for the rules that fail fetches the first five offending rows.  Nothing is pulled into pandas but
those examples, so a 10M-row table is checked at engine speed.

Why not pandera: its Ibis backend (0.35) silently skipped ``unique=True`` in our check and reports
failure *values*, not the offending rows the contract asks for; the rules here are plain Ibis
expressions in one table (``TABLE_SPECS``), not a framework.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from segwork.data.hints import value_hint
from segwork.errors import SegworkError

__all__ = [
    "BILLING_INTERVALS",
    "TABLE_SPECS",
    "ColumnSpec",
    "ContractBreach",
    "DataContractError",
    "TableSpec",
    "validate",
]

Kind = Literal["id", "date", "timestamp", "number", "integer", "string"]

#: Billing intervals of the ``subscriptions`` table and their length in months (docs/metrics.md
#: "MRR"; ``day`` is segwork's extension for daily plans, 12 / 365 of a month, as Stripe bills
#: them: docs/metrics.md "Extensions to the definitions").
BILLING_INTERVALS: dict[str, float] = {
    "day": 12 / 365,
    "week": 12 / 52,
    "month": 1.0,
    "quarter": 3.0,
    "year": 12.0,
}

N_EXAMPLES = 5


@dataclass(frozen=True)
class ContractBreach:
    """One broken rule: where, what, how many rows and the first offending rows."""

    table: str
    column: str | None
    rule: str
    description: str
    n_rows: int
    examples: pd.DataFrame = field(repr=False)

    def message(self) -> str:
        where = f"table '{self.table}'" + (f", column '{self.column}'" if self.column else "")
        text = f"{where}, rule '{self.rule}': {self.description}"
        if self.n_rows <= 0:
            return text
        noun = "row" if self.n_rows == 1 else "rows"
        text += f". {self.n_rows} offending {noun}"
        shown = self.examples.head(N_EXAMPLES)
        if len(shown):
            text += f"; first {len(shown)}:\n" + _indent(shown.to_string(index=False))
        if self.column in shown.columns and (hint := value_hint(self.rule, shown[self.column])):
            text += f"\n  hint: {hint}"
        return text


class DataContractError(SegworkError, ValueError):
    """A table breaks the input contract of docs/metrics.md "Input tables".

    The message names the table, the column, the rule, the number of offending rows and shows the
    first five of them.  The first breach is also available as attributes; every breach found in
    the same validation is in :attr:`breaches`.

    Attributes
    ----------
    table, column, rule : str
        Where the (first) breach is and which rule it breaks.
    n_rows : int
        Number of offending rows (0 for table-level rules such as a missing column).
    examples : pandas.DataFrame
        Up to five offending rows, as they are in the input.
    breaches : list of ContractBreach
        All breaches found.
    """

    def __init__(self, breaches: Sequence[ContractBreach]):
        if not breaches:
            raise ValueError("DataContractError needs at least one breach")
        self.breaches = list(breaches)
        first = self.breaches[0]
        self.table = first.table
        self.column = first.column
        self.rule = first.rule
        self.n_rows = first.n_rows
        self.examples = first.examples
        text = first.message()
        if len(self.breaches) > 1:
            others = "\n".join("- " + b.message() for b in self.breaches[1:])
            text += f"\n{len(self.breaches) - 1} more breach(es):\n{others}"
        super().__init__(text)


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a table contract."""

    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False
    minimum: float | None = None
    min_rule: str = "negative_amount"
    exclusive_minimum: bool = False
    maximum: float | None = None
    allowed: tuple[str, ...] | None = None
    allowed_rule: str = "unknown_value"


@dataclass(frozen=True)
class TableSpec:
    """The contract of one input table."""

    name: str
    one_row_per: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    #: (low, mode, high) column triples that must be ordered.
    ranges: tuple[tuple[str, ...], ...] = ()
    #: alternatives: at least one column of each group must be present.
    one_of: tuple[tuple[str, ...], ...] = ()
    #: a table without a key: exact duplicate rows are refused (rule ``duplicate_row``), since
    #: two identical rows would be summed twice and cannot be told apart from a double export.
    unique_rows: bool = False
    #: (key, columns): rows sharing the key are parts of one thing (an order's lines) and must
    #: agree on the columns (rule ``order_lines_disagree``).
    agree: tuple[str, tuple[str, ...]] | None = None

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


_ID = ColumnSpec("customer_id", "id")

TABLE_SPECS: dict[str, TableSpec] = {
    "customers": TableSpec(
        "customers",
        "customer",
        (_ID, ColumnSpec("signup_date", "date")),
        key=("customer_id",),
    ),
    "subscriptions": TableSpec(
        "subscriptions",
        "subscription period",
        (
            _ID,
            ColumnSpec("start_date", "date"),
            ColumnSpec("end_date", "date", required=False, nullable=True),
            ColumnSpec("amount", "number", minimum=0),
            ColumnSpec(
                "billing_interval",
                "string",
                allowed=tuple(BILLING_INTERVALS),
                allowed_rule="unknown_interval",
            ),
            ColumnSpec(
                "quantity",
                "number",
                required=False,
                minimum=0,
                exclusive_minimum=True,
                min_rule="non_positive_quantity",
            ),
            ColumnSpec(
                "discount",
                "number",
                required=False,
                nullable=True,
                minimum=0,
                maximum=1,
                min_rule="discount_out_of_range",
            ),
            ColumnSpec("plan", "string", required=False, nullable=True),
            ColumnSpec("currency", "string", required=False, nullable=True),
        ),
        unique_rows=True,
    ),
    "mrr": TableSpec(
        "mrr",
        "customer x month",
        (
            _ID,
            ColumnSpec("month", "date"),
            ColumnSpec("mrr", "number", minimum=0),
            ColumnSpec("plan", "string", required=False, nullable=True),
            ColumnSpec("currency", "string", required=False, nullable=True),
        ),
        key=("customer_id", "month"),
    ),
    "events": TableSpec(
        "events",
        "usage event",
        (
            _ID,
            ColumnSpec("timestamp", "timestamp"),
            ColumnSpec("event", "string"),
            ColumnSpec("count", "number", required=False, minimum=0, min_rule="negative_count"),
        ),
    ),
    "transactions": TableSpec(
        "transactions",
        "order line (an order / invoice, or one line of it)",
        (
            _ID,
            ColumnSpec("order_id", "id"),
            ColumnSpec("date", "date"),
            ColumnSpec("amount", "number", minimum=0),
            ColumnSpec("product", "string", required=False, nullable=True),
            ColumnSpec("channel", "string", required=False, nullable=True),
            ColumnSpec("quantity", "number", required=False, nullable=True),
            ColumnSpec("price", "number", required=False, nullable=True),
            ColumnSpec("currency", "string", required=False, nullable=True),
        ),
        #: several rows per order_id are the order's lines; they must agree on these columns
        agree=("order_id", ("customer_id", "date")),
    ),
    "market": TableSpec(
        "market",
        "market segment",
        (
            ColumnSpec("accounts", "number", minimum=0, min_rule="negative_count"),
            ColumnSpec("acv", "number", required=False, minimum=0),
            ColumnSpec("price", "number", required=False, minimum=0),
            ColumnSpec("acv_low", "number", required=False, minimum=0),
            ColumnSpec("acv_mode", "number", required=False, minimum=0),
            ColumnSpec("acv_high", "number", required=False, minimum=0),
            ColumnSpec(
                "accounts_low", "number", required=False, minimum=0, min_rule="negative_count"
            ),
            ColumnSpec(
                "accounts_high", "number", required=False, minimum=0, min_rule="negative_count"
            ),
            ColumnSpec("currency", "string", required=False, nullable=True),
        ),
        ranges=(("acv_low", "acv_mode", "acv_high"), ("accounts_low", "accounts", "accounts_high")),
        one_of=(("acv", "price", "acv_mode"),),
        unique_rows=True,
    ),
    "fx": TableSpec(
        "fx",
        "currency x month",
        (
            ColumnSpec("currency", "string"),
            ColumnSpec("month", "date"),
            ColumnSpec(
                "rate",
                "number",
                minimum=0,
                exclusive_minimum=True,
                min_rule="non_positive_rate",
            ),
        ),
        key=("currency", "month"),
    ),
}

#: Tables whose ``customer_id`` must exist in ``customers``.
CUSTOMER_KEYED = ("subscriptions", "mrr", "events", "transactions")


def _indent(text: str, pad: str = "    ") -> str:
    return "\n".join(pad + line for line in text.splitlines())


def parsed(col: ir.Column, kind: Kind) -> ir.Value:
    """The column as its canonical type; unparseable values become NULL (``try_cast``)."""
    dtype = col.type()
    if kind == "date":
        if dtype.is_date():
            return col
        if dtype.is_timestamp():
            return col.date()
        return col.cast("string").try_cast("date")
    if kind == "timestamp":
        if dtype.is_timestamp():
            return col
        if dtype.is_date():
            return col.cast("timestamp")
        return col.cast("string").try_cast("timestamp")
    if kind in ("number", "integer"):
        if dtype.is_numeric() and not dtype.is_boolean():
            return col  # integers stay integers (counts, seats), floats stay floats
        return col.cast("string").try_cast("float64")
    return col


def _is_missing(col: ir.Column) -> ir.BooleanValue:
    if col.type().is_floating():
        return col.isnull() | col.isnan().fill_null(False)
    if col.type().is_string():  # stripped only if it sorts before "!", as all blank text does
        return col.isnull() | ibis.ifelse(col < "!", col.strip() == "", False)
    return col.isnull()


def _row_rules(t: ir.Table, spec: TableSpec) -> list[tuple[str, str, str, ir.BooleanValue]]:
    """(column, rule, description, predicate-of-offending-row) for every row rule of the table."""
    rules: list[tuple[str, str, str, ir.BooleanValue]] = []
    present = set(t.columns)
    for c in spec.columns:
        if c.name not in present:
            continue
        raw = t[c.name]
        missing = _is_missing(raw)
        if not c.nullable:
            rules.append(
                (c.name, "missing_value", "value must be present (not empty/NaN)", missing)
            )
        if c.kind in ("date", "timestamp", "number", "integer"):
            value = parsed(raw, c.kind)
            if c.kind in ("date", "timestamp"):
                rule, what = "unparseable_date", "value must be an ISO date (YYYY-MM-DD)"
            else:
                rule, what = "not_numeric", "value must be a number"
            rules.append((c.name, rule, what, ~missing & value.isnull()))
            if c.kind in ("number", "integer") and value.type().is_floating():
                # "inf" parses as a float and passes every bound: refused, never summed
                inf = value.isinf().fill_null(False)
                rules.append((c.name, "infinite_value", "value must be a finite number", inf))
            if c.minimum is not None:
                low = value <= c.minimum if c.exclusive_minimum else value < c.minimum
                sign = ">" if c.exclusive_minimum else ">="
                rules.append(
                    (
                        c.name,
                        c.min_rule,
                        f"value must be {sign} {c.minimum:g}",
                        low.fill_null(False),
                    )
                )
            if c.maximum is not None:
                rules.append(
                    (
                        c.name,
                        c.min_rule,
                        f"value must be between {c.minimum:g} and {c.maximum:g}",
                        (value > c.maximum).fill_null(False),
                    )
                )
        if c.allowed is not None:
            rules.append(
                (
                    c.name,
                    c.allowed_rule,
                    "value must be one of " + ", ".join(repr(a) for a in c.allowed),
                    (~missing & ~raw.cast("string").isin(list(c.allowed))).fill_null(False),
                )
            )
    if spec.name == "subscriptions" and {"start_date", "end_date"} <= present:
        start, end = parsed(t.start_date, "date"), parsed(t.end_date, "date")
        rules.append(
            ("end_date", "end_before_start", "end_date must be after start_date", end <= start)
        )
    if spec.name == "mrr" and "month" in present:
        month = parsed(t.month, "date")
        rules.append(
            (
                "month",
                "month_not_first_day",
                "month must be the first day of a month",
                (month.day() != 1).fill_null(False),
            )
        )
    for triple in spec.ranges:
        cols = [c for c in triple if c in present]
        for a, b in itertools.pairwise(cols):
            pa_, pb = parsed(t[a], "number"), parsed(t[b], "number")
            rules.append(
                (
                    f"{a}/{b}",
                    "range_order",
                    f"{a} must be <= {b} (low <= mode <= high)",
                    (pa_ > pb).fill_null(False),
                )
            )
    return rules


def _fetch(expr: ir.Table, limit: int = N_EXAMPLES) -> pd.DataFrame:
    return expr.limit(limit).to_pandas()


def _check_table(
    name: str, t: ir.Table, spec: TableSpec, convertible: bool = False
) -> list[ContractBreach]:
    breaches: list[ContractBreach] = []
    cols = list(t.columns)
    dups = sorted({c for c in cols if cols.count(c) > 1})
    if dups:
        return [
            ContractBreach(
                name, dups[0], "duplicate_column", "column names must be unique", 0, pd.DataFrame()
            )
        ]
    for c in spec.columns:
        if c.required and c.name not in cols:
            available = ", ".join(cols)
            breaches.append(
                ContractBreach(
                    name,
                    c.name,
                    "missing_column",
                    f"required column is missing (columns present: {available}; "
                    "map yours with load(..., columns={'%s': {'your_name': '%s'}}))"
                    % (name, c.name),
                    0,
                    pd.DataFrame(),
                )
            )
    for group in spec.one_of:
        if not any(g in cols for g in group):
            breaches.append(
                ContractBreach(
                    name,
                    group[0],
                    "missing_column",
                    "one of these columns is required: " + ", ".join(group),
                    0,
                    pd.DataFrame(),
                )
            )
    if breaches:
        return breaches

    rules = _row_rules(t, spec)
    check_currency = "currency" in cols and not convertible and name != "fx"
    check_key = bool(spec.key) and all(k in cols for k in spec.key)
    screens = _screens(t, spec, check_currency, check_key)
    counts = _one_pass(t, spec, rules, screens)
    for i, (col, rule, what, pred) in enumerate(rules):
        n = counts[f"r{i}"]
        if n:
            breaches.append(ContractBreach(name, col, rule, what, n, _fetch(t.filter(pred))))
    if check_currency and counts["_currencies"] > 1:
        breaches.extend(_check_currency(name, t))
    if check_key and counts["_key_maybe_repeated"]:
        key = list(spec.key)
        groups = t.group_by(key).aggregate(_n=t.count()).filter(lambda g: g._n > 1)
        n = groups.aggregate(total=groups._n.sum()).to_pandas().iloc[0]["total"]
        if not pd.isna(n) and int(n):
            offending = t.semi_join(groups.select(key), key).order_by(key)
            breaches.append(
                ContractBreach(
                    name,
                    ", ".join(key),
                    "duplicate_key",
                    f"{' x '.join(key)} must be unique (one row per {spec.one_row_per})",
                    int(n),
                    _fetch(offending),
                )
            )
    if spec.unique_rows:
        breaches.extend(_check_duplicate_rows(name, t, spec))
    if spec.agree is not None and not breaches:
        breaches.extend(_check_agreement(name, t, spec))
    return breaches


#: Months per bucket of the key screen's bitmask (bits 0..61 of a BIGINT: no sign, no overflow).
_BUCKET = 62


def _screens(
    t: ir.Table, spec: TableSpec, check_currency: bool, check_key: bool
) -> dict[str, ir.Value]:
    """Per-row inputs of the table-level screens answered by the same aggregate as the rules.

    - ``_currencies``: 2 when the smallest and largest currency code (trimmed, upper-cased, empty
      ignored) differ, i.e. there are several; only then is ``mixed_currency`` looked at.
    - the key: a key ending in a date (``customer_id x month``, ``currency x month``) is screened
      per group of the other key columns and a bucket of 62 months, with a bitmask of the months
      present: in a group, ``sum(1 << k) == bit_or(1 << k)`` exactly when no month repeats (a
      repeated bit carries).  Far cheaper than grouping by every key (one group per customer,
      not per customer-month).  A single-column key is screened with ``count(DISTINCT key)``.
      A screen only says "maybe repeated" (a null key part, two spellings of one date): the
      exact ``duplicate_key`` check then runs, so the result is the exact check's.
    """
    out: dict[str, ir.Value] = {}
    if check_currency:
        code = t.currency.cast("string").strip().upper()
        out["_currency"] = ibis.ifelse(code == "", ibis.null("string"), code)
    if check_key and _on_duckdb(t):  # elsewhere: the exact check, as before
        *others, last = spec.key
        last_spec = spec.column(last)
        if others and last_spec is not None and last_spec.kind == "date":
            month = parsed(t[last], "date")
            mi = month.year().cast("int64") * 12 + month.month().cast("int64")
            out["_kbucket"] = (mi / _BUCKET).floor().cast("int64")
            out["_kbit"] = ibis.literal(1, "int64") << (mi % _BUCKET)
            out["_knull"] = ibis.or_(month.isnull(), *(t[k].isnull() for k in others))
        elif not others:
            out["_kvalue"] = t[last]
    return out


def _on_duckdb(t: ir.Table) -> bool:
    try:
        return t._find_backend(use_default=True).name == "duckdb"
    except Exception:  # no backend to tell: do not screen
        return False


def _one_pass(
    t: ir.Table,
    spec: TableSpec,
    rules: list[tuple[str, str, str, ir.BooleanValue]],
    screens: dict[str, ir.Value],
) -> dict[str, int]:
    """Offending-row counts of every row rule (``r0``, ``r1``, ...) and the screens'
    answers (``_currencies``; ``_key_maybe_repeated``), in one aggregate query over the table."""
    flags = {f"r{i}": pred.cast("int64") for i, (_, _, _, pred) in enumerate(rules)}
    names = [*flags, "_currencies", "_key_maybe_repeated"]
    # a key without a screen (not DuckDB) goes to the exact check
    unscreened = int(bool(spec.key) and not ({"_kbit", "_kvalue"} & set(screens)))
    if not flags and not screens:
        return {**dict.fromkeys(names, 0), "_key_maybe_repeated": unscreened}
    if "_kbit" in screens:  # grouped by the other key columns and a month bucket, then summed
        *others, _ = spec.key
        rows = t.mutate(**flags, **screens)
        g = rows.group_by([*others, "_kbucket"]).aggregate(
            **{f: rows[f].sum() for f in flags},
            _bsum=rows._kbit.sum(),
            _bor=rows._kbit.bit_or(),
            _nulls=rows._knull.cast("int64").sum(),
            **(
                {"_cmin": rows._currency.min(), "_cmax": rows._currency.max()}
                if "_currency" in screens
                else {}
            ),
        )
        repeated = ((g._bsum != g._bor) | (g._nulls > 1)).cast("int64").sum()
        aggs: dict[str, ir.Value] = {f: g[f].sum() for f in flags}
        aggs["_key_maybe_repeated"] = repeated
        if "_currency" in screens:  # several codes <=> the smallest is not the largest
            aggs["_currencies"] = ibis.ifelse(g._cmin.min() != g._cmax.max(), 2, 1)
        got = g.aggregate(**aggs).to_pandas().iloc[0]
    else:
        aggs = {f: v.sum() for f, v in flags.items()}
        if "_currency" in screens:
            code = screens["_currency"]
            aggs["_currencies"] = ibis.ifelse(code.min() != code.max(), 2, 1)
        if "_kvalue" in screens:
            key = screens["_kvalue"]
            aggs["_key_maybe_repeated"] = (t.count() != key.nunique()).cast("int64")
        got = t.aggregate(**aggs).to_pandas().iloc[0] if aggs else {}
    out = {n: (0 if n not in got or pd.isna(got[n]) else int(got[n])) for n in names}
    out["_key_maybe_repeated"] = max(out["_key_maybe_repeated"], unscreened)
    return out


def _check_agreement(name: str, t: ir.Table, spec: TableSpec) -> list[ContractBreach]:
    """Rows sharing ``key`` (the lines of one order) must agree on ``columns`` (its customer and
    date): lines that disagree cannot be summed into one order.  One aggregate query; the
    offending rows (every line of each disagreeing order) are fetched only when there are some.
    """
    assert spec.agree is not None
    key, columns = spec.agree
    kinds = {c.name: c.kind for c in spec.columns}
    keyed = t.mutate(**{f"_v_{c}": parsed(t[c], kinds[c]) for c in columns})
    # several distinct values in an order <=> its smallest is not its largest (nulls ignored, as
    # count(DISTINCT) would): min/max aggregate in one hash pass, count(DISTINCT) per group
    # does not (3.5x slower on 8.5M orders)
    groups = keyed.group_by(key).aggregate(
        _lines=keyed.count(),
        **{
            f"_d_{c}": (keyed[f"_v_{c}"].min() != keyed[f"_v_{c}"].max()).fill_null(False)
            for c in columns
        },
    )
    bad = groups.filter(ibis.or_(*(groups[f"_d_{c}"] for c in columns)))
    got = (
        bad.aggregate(
            orders=bad.count(),
            lines=bad._lines.sum(),
            **{f"_by_{c}": bad[f"_d_{c}"].cast("int64").sum() for c in columns},
        )
        .to_pandas()
        .iloc[0]
    )
    orders = 0 if pd.isna(got["orders"]) else int(got["orders"])
    if not orders:
        return []
    differ = [c for c in columns if int(got[f"_by_{c}"]) > 0]
    examples = _fetch(t.semi_join(bad.select(key), key).order_by([key, *columns]))
    return [
        ContractBreach(
            name,
            ", ".join(differ),
            "order_lines_disagree",
            f"the rows of one {key} are the lines of one order and must have the same "
            f"{' and '.join(columns)}; {orders:,} {key}(s) have lines with different "
            f"{' and '.join(differ)}. Give each order its own {key}",
            int(got["lines"]),
            examples,
        )
    ]


def _check_duplicate_rows(name: str, t: ir.Table, spec: TableSpec) -> list[ContractBreach]:
    """Exact duplicate rows of a table without a key (every column equal, empty = empty).

    Such rows would be summed twice (a subscription's MRR, a market segment's accounts); nothing
    tells them apart from a file exported or appended twice.  The examples are the repeated rows,
    each copy shown, as in the input.
    """
    cols = list(t.columns)
    copies = "copies" if "copies" not in cols else "_copies"
    groups = t.group_by(cols).aggregate(**{copies: t.count()})
    groups = groups.filter(groups[copies] > 1)
    n = groups.aggregate(total=groups[copies].sum()).to_pandas().iloc[0]["total"]
    if pd.isna(n) or not int(n):
        return []
    examples = _fetch(groups.order_by(cols))
    return [
        ContractBreach(
            name,
            None,
            "duplicate_row",
            f"rows must not repeat exactly (one row per {spec.one_row_per}; identical rows "
            "would be counted twice). If they are really separate, add a column telling them "
            "apart (e.g. an id) or merge them (e.g. into quantity)",
            int(n),
            examples.loc[examples.index.repeat(examples[copies])]
            .drop(columns=copies)
            .head(N_EXAMPLES)
            .reset_index(drop=True),
        )
    ]


def _check_currency(name: str, t: ir.Table) -> list[ContractBreach]:
    """One currency per table when there is no ``fx`` table: amounts are summed as they are.

    Codes are compared trimmed and upper-cased ("usd" = "USD"); empty values are the table's one
    currency.  When several are present, the rows not in the most frequent one are offending.
    """
    code = t.currency.cast("string").strip().upper()
    given = code.notnull() & (code != "")
    coded = t.filter(given).mutate(_code=code)
    counts = (
        coded.group_by(code=coded._code)
        .aggregate(n=coded.count())
        .order_by([ibis.desc("n"), "code"])
        .to_pandas()
    )
    if len(counts) <= 1:
        return []
    main = str(counts["code"].iloc[0])
    others = ", ".join(str(c) for c in counts["code"].iloc[1:])
    return [
        ContractBreach(
            name,
            "currency",
            "mixed_currency",
            f"one currency per table without rates (amounts are not converted): found {main} "
            f"and {others}; add an fx table (currency, month, rate: units of the base currency "
            "per unit) and load(..., base_currency=...) to convert them",
            int(counts["n"].iloc[1:].sum()),
            _fetch(t.filter(given & (code != main))),
        )
    ]


def _id_kind(t: ir.Table) -> str:
    dtype = t.customer_id.type()
    return "integer" if dtype.is_integer() else "string" if dtype.is_string() else str(dtype)


def _check_references(tables: Mapping[str, ir.Table]) -> list[ContractBreach]:
    if "customers" not in tables:
        return []
    customers = tables["customers"]
    breaches: list[ContractBreach] = []
    for name in CUSTOMER_KEYED:
        t = tables.get(name)
        if t is None or "customer_id" not in t.columns:
            continue
        if _id_kind(t) != _id_kind(customers):
            breaches.append(
                ContractBreach(
                    name,
                    "customer_id",
                    "id_type_mismatch",
                    f"customer_id is {t.customer_id.type()} here but "
                    f"{customers.customer_id.type()} in 'customers'; make them the same type",
                    0,
                    pd.DataFrame(),
                )
            )
            continue
        # screened on the table's distinct ids (a hash of ~1 row per customer rather than a
        # probe of every row); the offending rows are counted only when some id is unknown
        ids = t.select("customer_id").distinct()
        if not int(ids.anti_join(customers, "customer_id").count().to_pandas()):
            continue
        orphans = t.anti_join(customers, "customer_id")
        n = int(orphans.count().to_pandas())
        if n:
            breaches.append(
                ContractBreach(
                    name,
                    "customer_id",
                    "unknown_customer",
                    "customer_id must exist in 'customers'",
                    n,
                    _fetch(orphans),
                )
            )
    return breaches


def validate(tables: Mapping[str, ir.Table]) -> None:
    """Check every table against its contract; raise :class:`DataContractError` on any breach.

    Parameters
    ----------
    tables : mapping of str to ibis Table
        Tables under their canonical names, columns already renamed to the canonical ones.

    Raises
    ------
    DataContractError
        Listing every breach found; the first one is also available as attributes.

    Examples
    --------
    >>> import ibis, pandas as pd
    >>> t = ibis.memtable(pd.DataFrame({"customer_id": [1, 1], "signup_date": ["2024-01-01"] * 2}))
    >>> try:
    ...     validate({"customers": t})
    ... except DataContractError as err:
    ...     print(err.table, err.column, err.rule, err.n_rows)
    customers customer_id duplicate_key 2
    """
    unknown = sorted(set(tables) - set(TABLE_SPECS))
    if unknown:
        raise ValueError(
            f"unknown table name(s) {unknown}; segwork tables are: {', '.join(TABLE_SPECS)}"
        )
    breaches: list[ContractBreach] = []
    for name, t in tables.items():
        # with an fx table, several currencies are converted (docs/metrics.md "Currencies")
        breaches.extend(_check_table(name, t, TABLE_SPECS[name], convertible="fx" in tables))
    if not breaches:
        breaches.extend(_check_references(tables))
    if breaches:
        raise DataContractError(breaches)


def canonical(name: str, t: ir.Table) -> ir.Table:
    """The table with every contract column cast to its canonical type (after :func:`validate`).

    Dates become ``date``, ``events.timestamp`` a ``timestamp``, numbers held as text are parsed
    (numeric columns keep their type); ``t`` itself when nothing changes; absent
    optional columns of subscriptions get their neutral value (quantity 1, discount 0).  Columns
    outside the contract (customer attributes, ...) are kept as they are.
    """
    spec = TABLE_SPECS[name]
    changes: dict[str, ir.Value] = {}
    for c in spec.columns:
        if c.name in t.columns and c.kind in ("date", "timestamp", "number", "integer"):
            col = t[c.name]
            if (value := parsed(col, c.kind)) is not col:  # of its type already: kept as it is
                changes[c.name] = value
    if name == "subscriptions":
        if "quantity" not in t.columns:
            changes["quantity"] = ibis.literal(1)
        if "end_date" not in t.columns:
            changes["end_date"] = ibis.null("date")
        if "discount" not in t.columns:
            changes["discount"] = ibis.literal(0.0)
        else:  # docs/metrics.md "Input tables": an empty discount means 0 (no coercion)
            changes["discount"] = changes.get("discount", t["discount"]).fill_null(0.0)
    if name == "events" and "count" not in t.columns:
        changes["count"] = ibis.literal(1)
    return t.mutate(**changes) if changes else t
