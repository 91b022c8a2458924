"""The customer segmentation page: criteria -> segment table, best customers, personas, mix shift,
member export.

"How should we treat the customers we have?"  The analyst picks segmentation criteria (any
customer attribute or derived one, numeric columns with bin edges, filters); the page shows the
segment table ordered by LTV (docs/metrics.md "Segment table"), the best customers as a sentence,
k-means personas, the mix-shift decomposition of the change in churn and NRR, and a CSV export of
the members of the selected segments.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from segwork.formatting import currency_prefix
from segwork.metrics._common import available_attributes, cache_key, check_edges
from segwork.metrics.history import NRR_MONTHS
from segwork.metrics.members import segment_members
from segwork.metrics.mix import mix_shift
from segwork.metrics.personas import personas
from segwork.metrics.segments import segment_table
from segwork.plots.segments import (
    churn_chart,
    ltv_chart,
    mix_shift_chart,
    persona_chart,
    segment_by_columns,
    segment_labels,
    share_chart,
)
from segwork.widgets.explorer import Explorer
from segwork.widgets.params import Param, check_filter
from segwork.widgets.view import INLINE_QUERY_CUSTOMERS, Deferred, View, on_click, show_download

__all__ = ["SegmentExplorer", "best_customers_sentence", "describe_segment"]

_LOCATION = ("country", "region", "market", "city", "state")
_SIGNUP = ("signup_month", "signup_quarter", "signup_year")
MEMBERS_FILE = "segment_members.csv"


# -- sentences ------------------------------------------------------------------------------------
def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def describe_segment(row: pd.Series | dict[str, Any], by: Sequence[str]) -> str:
    """A segment in words, e.g. "Annual enterprise customers in DE".

    Categorical values read as adjectives in the order of ``by``; countries and regions as "in X";
    usage flags (``uses_api``) as "using api" / "not using api"; engagement as "high-engagement";
    RFM segments quoted; signup periods as "signed up 2023-Q2"; other values (e.g. bins such as
    "(10, 50]") as "with company_size (10, 50]".
    """
    adjectives: list[str] = []
    after: list[str] = []
    for col in by:
        v = row[col]
        if _missing(v) and col in ("current_plan", "first_plan"):
            after.append("with no paid plan")
        elif _missing(v):
            after.append(f"with unknown {col.replace('_', ' ')}")
        elif col == "first_plan":  # a current_plan reads as a plan: "Pro customers"
            after.append(f"who started on {v}")
        elif isinstance(v, bool | np.bool_):
            feature = col.removeprefix("uses_").replace("_", " ")
            after.append(f"using {feature}" if v else f"not using {feature}")
        elif col in _LOCATION:
            after.append(f"in {v}")
        elif col in _SIGNUP:
            after.append(f"signed up {v}")
        elif col == "engagement":
            adjectives.append(f"{v}-engagement")
        elif col == "rfm_segment":
            adjectives.append(f'"{v}" (RFM)')
        elif isinstance(v, str) and v and not any(c in v for c in "()[]<>=,"):
            adjectives.append(v.replace("_", " "))
        else:
            after.append(f"with {col.replace('_', ' ')} {v}")
    text = " ".join([*adjectives, "customers", *after])
    return text[0].upper() + text[1:]


def _short_money(v: float) -> str:
    a = abs(v)
    if a >= 1e7:
        return f"{v / 1e6:.0f}M"
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.0f}k"
    if a >= 1e3:
        return f"{v / 1e3:.1f}k"
    return f"{v:,.0f}"


def _churn_text(rate: float) -> str:
    pct = rate * 100
    return f"{pct:.1f} %/month" if pct >= 1 else f"{pct:.2f} %/month"


def best_customers_sentence(table: pd.DataFrame, n: int = 3, *, currency: str = "USD") -> str:
    """The "best customers" statement: the top segments by LTV among those that are not small.

    Reads a :func:`segwork.segment_table` result (pure; no computation).  Segments flagged
    ``small_segment`` (docs/metrics.md "Small segments") and those without a defined LTV (no churn
    seen) are skipped.  Each segment reads like "Annual enterprise customers in DE: LTV $41k (CI
    33k-52k), churn 0.6 %/month, n = 212", the CI being the LTV interval that follows from the churn
    interval (docs/metrics.md "LTV").

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`segwork.segment_table` result.
    n : int, default 3
        How many segments at most.
    currency : str, default "USD"
        The currency of the LTV (``Dataset.currency``): ``$41k``, ``€41k``, ``CHF 41k``.

    Returns
    -------
    str

    Examples
    --------
    >>> t = pd.DataFrame({"plan": ["enterprise", "pro"], "customers": [212, 12],
    ...     "churn_rate": [0.006, 0.001], "ltv": [41_000.0, 90_000.0],
    ...     "ltv_low": [33_000.0, 20_000.0], "ltv_high": [52_000.0, 200_000.0],
    ...     "small_segment": [False, True]})
    >>> t.attrs.update(gross_margin=0.8, min_customers=30)
    >>> best_customers_sentence(t)
    'Best customers (highest LTV among segments of at least 30 customers, gross margin 80 %): \
Enterprise customers: LTV $41k (CI 33k-52k), churn 0.60 %/month, n = 212.'
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    by = segment_by_columns(table)
    min_n = int(table.attrs.get("min_customers", 30))
    gm = table.attrs.get("gross_margin")
    ok = table[~table["small_segment"].astype(bool) & np.isfinite(table["ltv"].astype(float))]
    ok = ok.sort_values("ltv", ascending=False, kind="mergesort").head(n)
    if ok.empty:
        return (
            f"No segment with at least {min_n} customers has a defined LTV yet (too few "
            "customers, or no churn observed): lower the minimum segment size or use fewer "
            "criteria."
        )
    parts = []
    prefix = currency_prefix(currency)
    for _, row in ok.iterrows():
        hi = row["ltv_high"]
        ci = (
            f"CI {_short_money(row['ltv_low'])}-{_short_money(hi)}"
            if np.isfinite(hi)
            else f"CI from {_short_money(row['ltv_low'])}, no upper bound"
        )
        parts.append(
            f"{describe_segment(row, by)}: LTV {prefix}{_short_money(row['ltv'])} ({ci}), "
            f"churn {_churn_text(row['churn_rate'])}, n = {int(row['customers'])}"
        )
    gm_text = f", gross margin {float(gm):.0%}".replace("%", " %") if gm is not None else ""
    return (
        f"Best customers (highest LTV among segments of at least {min_n} customers{gm_text}): "
        + "; ".join(parts)
        + "."
    )


def _mix_sentence(mix: pd.DataFrame) -> str:
    a = mix.attrs
    tot = mix.iloc[-1]
    what = "NRR" if a["metric"] == "nrr" else "Monthly churn"
    digits = 1 if a["metric"] == "nrr" else 2
    ra, rb = a["overall_a"], a["overall_b"]
    if not (np.isfinite(ra) and np.isfinite(rb)):
        return f"{what}: not defined at both dates ({a['as_of_a']}, {a['as_of_b']})."
    return (
        f"{what} went from {ra:.{digits}%} ({a['as_of_a']}) to {rb:.{digits}%} ({a['as_of_b']}): "
        f"{(rb - ra) * 100:+.2f} pp, of which segment mix {tot['mix_effect'] * 100:+.2f} pp and "
        f"within-segment rates {tot['rate_effect'] * 100:+.2f} pp."
    ).replace("%", " %")


# -- the explorer ---------------------------------------------------------------------------------
def _year_before(day: str) -> str:
    return (pd.Timestamp(day) - pd.DateOffset(years=1)).strftime("%Y-%m-%d")


def _segment_dicts(table: pd.DataFrame, rows: Sequence[int]) -> list[dict[str, Any]]:
    by = segment_by_columns(table)
    out = []
    for i in rows:
        seg = {}
        for col in by:
            v = table.iloc[i][col]
            seg[col] = None if _missing(v) else (v.item() if isinstance(v, np.generic) else v)
        out.append(seg)
    return out


class SegmentExplorer(Explorer):
    """Interactive customer segmentation: ``SegmentExplorer(data, **state)``.

    Parameters (``.state``, the notebook's parameters): ``as_of``; ``by`` (criteria: any of
    :func:`segwork.available_attributes`, derived ones included); ``bins`` (``{"company_size":
    [10, 50, 250]}``); ``where`` (``{"country": ["DE"]}``); ``window_months`` (churn window);
    ``gross_margin``; ``min_customers`` (small segment threshold, 30); ``k`` and ``random_state``
    (personas); ``compare_as_of`` (the earlier date of the mix shift; None = one year before
    as_of).

    Shows at once: ``texts["best"]`` (:func:`best_customers_sentence`), ``result`` (the
    :func:`segwork.segment_table`), figures ``share``, ``churn``, ``ltv``; download
    ``segment_members.csv`` (members of the best segment).  Sections computed when opened (or when
    their own parameter changes: ``k``, ``random_state``, ``compare_as_of``): "Personas" (figure
    ``personas``, tables "Personas", "Silhouette by k") and "Mix shift" (figure ``mix``, tables
    "Mix shift: churn", "Mix shift: NRR").  The export control below the page
    (``export_select``) offers the members of any selected segments as CSV (``export_frame``, the
    :func:`segwork.segment_members` output; the link holds ``export_frame.to_csv(index=False)``).

    Examples
    --------
    >>> import segwork
    >>> from segwork.widgets.segments import SegmentExplorer
    >>> ex = SegmentExplorer(segwork.load_sample(), by=["billing_interval"], k=3)
    >>> ex.result["billing_interval"].tolist()
    ['annual', 'monthly']
    """

    title = "Customer segmentation"
    description = (
        "How should we treat the customers we have? Choose the segmentation criteria; segments "
        "are ordered by lifetime value (unit economics, not size). Small segments are greyed: "
        "their rates are unreliable."
    )
    result_title = "Segment table (ordered by LTV)"
    params = (
        Param("as_of", "2024-12-31", kind="date", label="As of"),
        Param(
            "by",
            ["current_plan", "billing_interval"],
            kind="multi",
            choices=available_attributes,
            label="Criteria",
            help="Segment by these attributes (Ctrl/Cmd-click to pick several)",
        ),
        Param(
            "bins",
            {},
            kind="json",
            label="Bin edges",
            help='Numeric criteria: {"company_size": [10, 50, 250]}',
        ),
        Param("where", {}, kind="json", label="Filter", help='{"country": ["DE", "FR"]}'),
        Param("window_months", 12, kind="int", low=1, high=36, label="Churn window (months)"),
        Param(
            "gross_margin", 1.0, kind="float", low=0.01, high=1.0, step=0.01, label="Gross margin"
        ),
        Param("min_customers", 30, kind="int", low=1, high=1_000_000, label="Min. segment size"),
        Param("k", 4, kind="int", low=2, high=12, label="Personas (k)", section="Personas"),
        Param(
            "random_state",
            0,
            kind="int",
            low=0,
            high=2**31 - 1,
            label="Random state",
            section="Personas",
        ),
        Param(
            "compare_as_of",
            None,
            kind="date",
            label="Compare with",
            help="Earlier date of the mix shift (empty: one year before as_of)",
            section="Mix shift",
        ),
    )

    def default_state(self) -> dict[str, Any]:
        """The default criteria the data has: current plan x billing interval when it records
        them, else the first of the available criteria (a Stripe export without intervals, an
        order-lines table without plans)."""
        state = super().default_state()
        available = available_attributes(self.data)
        by = [c for c in state["by"] if c in available]
        state["by"] = by or available[:1]
        return state

    # -- validation ---------------------------------------------------------------------------
    def validate(self, state: dict[str, Any]) -> None:
        if not state["by"]:
            raise ValueError("by: choose at least one criterion")
        bins = state["bins"] or {}
        if not isinstance(bins, dict):
            raise ValueError('bins must be a mapping like {"company_size": [10, 50, 250]}')
        for col, edges in bins.items():
            if (
                not isinstance(edges, list)
                or not edges
                or not all(isinstance(e, numbers.Real) and not isinstance(e, bool) for e in edges)
            ):
                raise ValueError(
                    f"bins[{col!r}] must be a list of numbers (bin edges), got {edges!r}"
                )
            try:
                check_edges(edges, f"bins[{col!r}]")
            except ValueError as err:
                fixed = sorted({e for e in edges if math.isfinite(e)}) or [10, 50, 250]
                raise ValueError(
                    f"{err}: write the edges as finite numbers in increasing order, e.g. "
                    f"{json.dumps({col: fixed})}"
                ) from None
        where = state["where"] or {}
        if not isinstance(where, dict):
            raise ValueError('where must be a mapping like {"country": ["DE"]}')
        check_filter("where", where)
        compare = state["compare_as_of"]
        if compare is not None and compare >= state["as_of"]:
            raise ValueError(
                f"compare_as_of must differ from as_of and come before it (the mix shift compares "
                f"an earlier date with as_of), got compare_as_of={compare}, "
                f"as_of={state['as_of']}: choose an earlier date, or leave it empty for one year "
                "before as_of"
            )

    # -- compute ------------------------------------------------------------------------------
    def _table(self, state: dict[str, Any]) -> pd.DataFrame:
        key = (
            "table", state["as_of"], tuple(state["by"]), cache_key(state["bins"]),
            cache_key(state["where"]), state["window_months"], state["gross_margin"],
            state["min_customers"],
        )  # fmt: skip
        return self.memo(
            key,
            lambda: segment_table(
                self.data,
                state["by"],
                state["as_of"],
                window_months=state["window_months"],
                gross_margin=state["gross_margin"],
                min_customers=state["min_customers"],
                where=state["where"] or None,
                bins=state["bins"] or None,
            ),
        )

    def _members(self, state: dict[str, Any], segments: list[dict[str, Any]]) -> pd.DataFrame:
        key = (
            "members",
            state["as_of"],
            tuple(state["by"]),
            cache_key(state["bins"]),
            cache_key(state["where"]),
            cache_key(segments),
        )
        return self.memo(
            key,
            lambda: segment_members(
                self.data,
                state["by"],
                state["as_of"],
                segments,
                bins=state["bins"] or None,
                where=state["where"] or None,
            ),
        )

    def _members_inline(self) -> bool:
        """Whether members are queried with the page (small data) or on a click (large data)."""
        customers = self.data.table("customers")
        n = self.memo(("n_customers",), lambda: int(customers.count().to_pandas()))
        return n <= INLINE_QUERY_CUSTOMERS

    def headline(self) -> dict[str, Any]:
        """Totals, the best segment by LTV among non-small ones, and the best-customers text."""
        t = self.result
        if t.empty:
            return {}
        by = [c for c in self.state["by"] if c in t.columns]
        ok = t[~t["small_segment"] & t["ltv"].notna()]
        best = ok.iloc[0] if len(ok) else None
        return {
            "customers": int(t["customers"].sum()),
            "active_customers": int(t["active_customers"].sum()),
            "mrr": float(t["mrr"].sum()),
            "segments": len(t),
            "best_segment": None
            if best is None
            else {
                **{c: (None if pd.isna(best[c]) else str(best[c])) for c in by},
                **{k: float(best[k]) for k in ("ltv", "ltv_low", "ltv_high", "churn_rate")},
                "customers": int(best["customers"]),
            },
            "best_customers": self.view.texts.get("best"),
        }

    def compute(self, state: dict[str, Any]) -> View:
        as_of = state["as_of"]
        self.check_date("as_of", as_of)
        self.check_date("compare_as_of", state["compare_as_of"])
        table = self._table(state)
        best = self._best_row(table)
        segment = _segment_dicts(table, [best])
        # the best segment's members (its customers at as_of), queried when first needed: a big
        # download is prepared on a click
        members = Deferred(
            int(table["customers"].iloc[best]) if len(table) else 0,
            lambda: self._members(state, segment),
            inline=self._members_inline(),
        )
        return View(
            result=table,
            figures={
                "share": share_chart(table),
                "churn": churn_chart(table),
                "ltv": ltv_chart(table, currency=self.data.currency),
            },
            texts={"best": best_customers_sentence(table, n=3, currency=self.data.currency)},
            downloads={MEMBERS_FILE: members},
            sections={
                "Personas": lambda: self._personas_view(state),
                "Mix shift": lambda: self._mix_view(state),
            },
        )

    def _personas_view(self, state: dict[str, Any]) -> View:
        as_of, k, rs, w = state["as_of"], state["k"], state["random_state"], state["window_months"]
        pers = self.memo(
            ("personas", as_of, k, rs, w),
            lambda: personas(self.data, as_of, k=k, random_state=rs, window_months=w),
        )
        sil = ", ".join(
            f"k={int(r.k)}: {r.silhouette:.2f}" for r in pers.silhouette_by_k.itertuples()
        )
        text = (
            f"Personas: {k} k-means clusters of the {int(pers.profiles['customers'].sum()):,} "
            f"customers active at {as_of} (all customers, filters not applied); silhouette "
            f"{pers.silhouette:.2f} (higher = better separated; {sil})."
        )
        return View(
            figures={"personas": persona_chart(pers.centers)},
            tables={"Personas": pers.profiles, "Silhouette by k": pers.silhouette_by_k},
            texts={"personas": text},
        )

    def _mix_view(self, state: dict[str, Any]) -> View:
        as_of, w = state["as_of"], state["window_months"]
        compare = state["compare_as_of"] or _year_before(as_of)
        by, kb, kw = tuple(state["by"]), cache_key(state["bins"]), cache_key(state["where"])
        # one year before an as_of in the data's first year has no customer: no mix shift then
        first = str(self.first_signup())
        if compare < first:
            return View(
                texts={
                    "mix": f"Mix shift: not shown, one year before as_of ({compare}) is before "
                    f"the first signup ({first}); set 'Compare with' to a date between {first} "
                    f"and {as_of} to see it."
                }
            )

        def mix(metric: str, window: int) -> pd.DataFrame:
            return self.memo(
                ("mix", metric, by, compare, as_of, window, kb, kw),
                lambda: mix_shift(
                    self.data,
                    list(by),
                    compare,
                    as_of,
                    metric=metric,
                    window_months=window,
                    where=state["where"] or None,
                    bins=state["bins"] or None,
                ),
            )

        churn, nrr = mix("churn", w), mix("nrr", NRR_MONTHS)
        return View(
            figures={"mix": mix_shift_chart(churn)},
            tables={
                f"Mix shift: churn ({compare} → {as_of})": churn,
                f"Mix shift: NRR ({compare} → {as_of})": nrr,
            },
            texts={"mix": _mix_sentence(churn) + " " + _mix_sentence(nrr)},
        )

    @staticmethod
    def _best_row(table: pd.DataFrame) -> int:
        """Position of the best segment: highest LTV among the non-small ones, else the first."""
        ok = (~table["small_segment"].astype(bool)) & np.isfinite(table["ltv"].astype(float))
        if ok.any():
            return int(np.flatnonzero(ok.to_numpy())[0])
        return 0

    # -- export control -----------------------------------------------------------------------
    @property
    def export_segments(self) -> list[dict[str, Any]]:
        """The segments selected in the export control, as ``segment_members`` dicts."""
        return _segment_dicts(self.result, list(self.export_select.value or ()))

    @property
    def export_frame(self) -> pd.DataFrame:
        """Members of the segments selected in the export control (``segment_members`` output;
        queried on first use)."""
        return self._export.frame()

    def after_render(self) -> list[widgets.Widget]:
        """The export control under the page, its options following the current segments."""
        if not hasattr(self, "export_select"):
            self.export_select = widgets.SelectMultiple(
                description="Export members of",
                rows=5,
                style={"description_width": "initial"},
                layout=widgets.Layout(width="480px"),
            )
            self.export_link = widgets.HTML()
            # a big export is prepared on a click (its link holds the whole CSV)
            self.export_prepare = widgets.Button(
                icon="download", layout=widgets.Layout(width="auto", display="none")
            )
            self.export_prepare.on_click(lambda _button: self._prepare_export())
            self.export_select.observe(lambda _change: self._update_export(), names="value")
            self._export_box = widgets.VBox(
                [
                    widgets.HTML("<h3>Export</h3>"),
                    self.export_select,
                    self.export_prepare,
                    self.export_link,
                ]
            )
            self._export = Deferred(0, pd.DataFrame)
        table = self.result
        labels = segment_labels(table)
        old_labels: list[str] = getattr(self, "_export_labels", [])
        previous = {old_labels[i] for i in (self.export_select.value or ()) if i < len(old_labels)}
        self._export_labels = labels
        keep = tuple(i for i, lab in enumerate(labels) if lab in previous)
        self._exporting = True
        try:
            self.export_select.options = [(lab, i) for i, lab in enumerate(labels)]
            self.export_select.value = keep or ((self._best_row(table),) if labels else ())
        finally:
            self._exporting = False
        self._update_export()
        return [self._export_box]

    def _update_export(self) -> None:
        if getattr(self, "_exporting", False):
            return
        self.export_prepare.layout.display = "none"
        if not self.export_select.value:
            self._export = Deferred(0, pd.DataFrame)
            self.export_link.value = "<em>Select one or more segments to download members.</em>"
            return
        state, segments = self.state, self.export_segments
        # the segments are disjoint: their members are the sum of their customers
        rows = int(self.result["customers"].iloc[list(self.export_select.value)].sum())
        self._export = Deferred(
            rows, lambda: self._members(state, segments), inline=self._members_inline()
        )
        if on_click(self._export):
            self.export_prepare.description = f"Prepare {MEMBERS_FILE} ({rows:,} rows)"
            self.export_prepare.layout.display = None
            self.export_link.value = ""
            return
        self._prepare_export()

    def _prepare_export(self) -> None:
        """The export link (the CSV of :attr:`export_frame` in a data URI)."""
        show_download(self.export_link, self.export_prepare, MEMBERS_FILE, self._export)
