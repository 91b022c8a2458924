"""The customer segmentation page: criteria -> segment table, best customers, personas, mix shift,
member export.

"How should we treat the customers we have?"  The analyst picks segmentation criteria (any
customer attribute or derived one, numeric columns with bin edges, filters); the page shows the
segment table ordered by LTV (docs/metrics.md "Segment table"), the best customers as a sentence,
k-means personas, the mix-shift decomposition of the change in churn and NRR, and a CSV export of
the members of the selected segments.

On shop data (transactions and no MRR, :func:`shop_data`) the same page compares segments on
orders: the e-commerce segment table ordered by predicted CLV (revenue, buyers, AOV, repeat rate,
P(alive), predicted CLV; docs/metrics.md "Predicted customer value"), with the derived criteria
``clv_band``, ``alive_band`` and ``first_product``, and a "Predicted customer value" section (the
distribution, the calibration check, the customers to win back with their export).  When the
order-value model cannot be fitted the page says why and shows the rest.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from segwork.data.dataset import Dataset
from segwork.engine import Data, engine_for
from segwork.metrics._common import available_attributes, cache_key, check_edges
from segwork.metrics.ecommerce import (
    SHOP_ATTRIBUTES,
    ecommerce_attributes,
    ecommerce_members,
)
from segwork.metrics.ltv import with_capped_ltv
from segwork.metrics.members import segment_members
from segwork.metrics.mix import mix_shift
from segwork.metrics.nrr import NRR_MONTHS
from segwork.metrics.page_months import prepare_month_values
from segwork.metrics.personas import Personas, persona_steps, personas
from segwork.metrics.plans import prepare_plans
from segwork.metrics.segments import segment_table
from segwork.plots.clv import (
    repeat_rate_chart,
    revenue_share_chart,
    segment_clv_chart,
)
from segwork.plots.segments import (
    churn_chart,
    ltv_chart,
    mix_shift_chart,
    persona_chart,
    segment_by_columns,
    segment_labels,
    share_chart,
)
from segwork.sentences import (
    best_customers_sentence,
    is_missing,
    lifetime_columns,
    mix_sentence,
    shop_customers_sentence,
)
from segwork.widgets.clv_section import CLV_SECTION, clv_steps, clv_view
from segwork.widgets.controls import default_control
from segwork.widgets.explorer import Explorer
from segwork.widgets.params import Param, check_filter, criterion_text
from segwork.widgets.pickers import (
    BinsPicker,
    ColumnValues,
    FilterPicker,
    column_values,
    numeric_columns,
)
from segwork.widgets.view import INLINE_QUERY_CUSTOMERS, Deferred, View, on_click, show_download

__all__ = ["SegmentExplorer", "segment_criteria", "shop_data"]

MEMBERS_FILE = "segment_members.csv"


def shop_data(data: Dataset) -> bool:
    """Whether the page shows shop data: a ``transactions`` table and no MRR (given or derived
    from subscriptions), the rule by which :func:`segwork.segment_table` returns the e-commerce
    table."""
    return not data.has("mrr") and data.has("transactions")


def segment_criteria(data: Data) -> list[str]:
    """The page's criteria: :func:`segwork.available_attributes`, plus on shop data the derived
    criteria of orders (``clv_band``, ``alive_band``, ``first_product`` when products are named;
    :func:`segwork.metrics.ecommerce.ecommerce_attributes`).  Given the page's engine, what it
    queries (the event names) is kept by that engine."""
    out = available_attributes(data)
    if shop_data(engine_for(data).data):
        out += [a for a in ecommerce_attributes(data) if a not in out]
    return out


def _year_before(day: str) -> str:
    return (pd.Timestamp(day) - pd.DateOffset(years=1)).strftime("%Y-%m-%d")


def _segment_dicts(table: pd.DataFrame, rows: Sequence[int]) -> list[dict[str, Any]]:
    by = segment_by_columns(table)
    out = []
    for i in rows:
        seg = {}
        for col in by:
            v = table.iloc[i][col]
            seg[col] = None if is_missing(v) else (v.item() if isinstance(v, np.generic) else v)
        out.append(seg)
    return out


class SegmentExplorer(Explorer):
    """Interactive customer segmentation: ``SegmentExplorer(data, **state)``.

    Parameters (``.state``, the notebook's parameters): ``as_of``; ``by`` (criteria: any of
    :func:`segwork.available_attributes`, derived ones included); ``bins`` (``{"company_size":
    [10, 50, 250]}``); ``where`` (``{"country": ["DE"]}``, a numeric column also ``{"company_size":
    {"min": 10, "max": 250}}``); ``window_months`` (churn window);
    ``gross_margin``; ``min_customers`` (small segment threshold, 30); ``ltv_horizon_months``
    and ``ltv_discount_rate`` (0 = none; above 0 the table adds the LTV over that many months,
    discounted a year at the rate: :func:`segwork.metrics.ltv.with_capped_ltv`); ``k`` and
    ``random_state``
    (personas); ``compare_as_of`` (the earlier date of the mix shift; None = one year before
    as_of).  The page edits ``bins`` and ``where`` with pickers built from the columns' values
    (:class:`~segwork.widgets.pickers.BinsPicker`, :class:`~segwork.widgets.pickers.FilterPicker`);
    their JSON form is the one of links and notebook parameters.

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
            choices=segment_criteria,
            words=criterion_text,
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
        Param(
            "ltv_horizon_months",
            0,
            kind="int",
            low=0,
            high=600,
            label="LTV horizon (months, 0 = none)",
            help="0: LTV = ARPA x margin / churn only; a number of months adds the LTV of that "
            "many months, discounted (docs/metrics.md, Horizon-capped LTV)",
        ),
        Param(
            "ltv_discount_rate",
            0.0,
            kind="float",
            low=0.0,
            high=1.0,
            step=0.01,
            label="LTV discount (a year)",
            help="Yearly discount rate of the horizon-capped LTV (0.1 is 10 % a year)",
        ),
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
        available = self.choices("by") or []
        if shop_data(self.data) and "rfm_segment" in available:
            # orders only: the RFM segments, compared on predicted CLV
            state["by"] = ["rfm_segment"]
            return state
        by = [c for c in state["by"] if c in available]
        state["by"] = by or available[:1]
        return state

    def preparations(self) -> list[Callable[[], object]]:
        """The base page's steps, then what any date's plan criteria and per-customer counts read
        (:func:`prepare_plans`, :func:`prepare_month_values`), then the Personas section's at the
        page's state (shop data has none): scikit-learn's import, the features' queries, the
        k-means fits of every k the section shows
        (:func:`segwork.metrics.personas.persona_steps`), and last the personas themselves.  At 1M
        customers they are most of a first click's wait; a change of k then finds its fit made."""
        steps = super().preparations()
        steps += [partial(prepare_plans, self.engine), partial(prepare_month_values, self.engine)]
        if not shop_data(self.data):
            state = dict(self._state)
            steps += persona_steps(
                self.engine,
                state["as_of"],
                k=state["k"],
                random_state=state["random_state"],
                window_months=state["window_months"],
            )
            steps.append(partial(self._personas, state))
        if self.data.has("transactions"):
            steps += clv_steps(self, dict(self._state))
        return steps

    def make_control(self, param: Param) -> widgets.Widget | None:
        """Pickers of the filter and of the bin edges, built from the columns' values; on shop
        data the window counts orders, not churn: its field says so."""
        if param.name == "window_months" and shop_data(self.data):
            return default_control(replace(param, label="Order window (months)"), self.choices)
        criteria = self.choices("by") or []
        if param.name == "where":
            columns = [(criterion_text(c), c) for c in criteria]
            return FilterPicker("Filter", columns, self._values, placeholder=param.help)
        if param.name == "bins":
            numeric = set(numeric_columns(self.data)) | {"clv_band", "alive_band"}
            columns = [(criterion_text(c), c) for c in criteria if c in numeric]
            return BinsPicker("Bin edges", columns, self._bin_values, placeholder=param.help)
        return None

    def _values(self, name: str) -> ColumnValues:
        """The values the filter offers for criterion ``name`` (at the page's as_of, kept)."""
        as_of = self._state["as_of"]
        return self.memo(
            ("column_values", name, as_of), lambda: column_values(self.engine, name, as_of)
        )

    def _bin_values(self, name: str) -> ColumnValues:
        """The range and suggested edges the bin-edge picker offers for ``name``."""
        as_of = self._state["as_of"]
        return self.memo(
            ("bin_values", name, as_of),
            lambda: column_values(self.engine, name, as_of, numbers=True),
        )

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
        for name in SHOP_ATTRIBUTES:
            if isinstance(where.get(name), dict):
                raise ValueError(
                    f"where[{name!r}] is a range, but {name} is a band or a name: list its values "
                    f'(e.g. {{"{name}": ["..."]}})'
                )
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
        table = self._segment_table(state)
        horizon = state.get("ltv_horizon_months")
        if not horizon or "ltv" not in table.columns:  # shop data has no LTV to cap
            return table
        return with_capped_ltv(table, horizon, state.get("ltv_discount_rate") or 0.0)

    def _segment_table(self, state: dict[str, Any]) -> pd.DataFrame:
        key = (
            "table", state["as_of"], tuple(state["by"]), cache_key(state["bins"]),
            cache_key(state["where"]), state["window_months"], state["gross_margin"],
            state["min_customers"],
        )  # fmt: skip
        return self.memo(
            key,
            lambda: segment_table(
                self.engine,
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
        """The members of ``segments`` at as_of: :func:`segment_members`, or on shop data
        :func:`ecommerce_members` (which also takes the window and gross margin)."""
        shop = shop_data(self.data)
        members = ecommerce_members if shop else segment_members
        extra = (
            {"window_months": state["window_months"], "gross_margin": state["gross_margin"]}
            if shop
            else {}
        )
        key = (
            "shop_members" if shop else "members", state["as_of"], tuple(state["by"]),
            cache_key(state["bins"]), cache_key(state["where"]), cache_key(segments),
            *extra.values(),
        )  # fmt: skip
        return self.memo(
            key,
            lambda: members(
                self.engine,
                state["by"],
                state["as_of"],
                segments,
                bins=state["bins"] or None,
                where=state["where"] or None,
                **extra,
            ),
        )

    def _best_members(self, state: dict[str, Any], table: pd.DataFrame) -> Deferred:
        """The best segment's members (its customers at as_of), queried when first needed: a
        big download is prepared on a click."""
        best = self._best_row(table)
        segment = _segment_dicts(table, [best])
        return Deferred(
            int(table["customers"].iloc[best]) if len(table) else 0,
            lambda: self._members(state, segment),
            inline=self._members_inline(),
            live=False,  # the live page offers it once, with the export control below
        )

    def _members_inline(self) -> bool:
        """Whether members are queried with the page (small data) or on a click (large data)."""
        customers = self.data.table("customers")
        n = self.memo(("n_customers",), lambda: int(customers.count().to_pandas()))
        return n <= INLINE_QUERY_CUSTOMERS

    def shown(self, table: pd.DataFrame) -> pd.DataFrame:
        """A segment table with the implied lifetime (1 / churn) and its flag beside LTV
        (:func:`segwork.sentences.lifetime_columns`)."""
        return lifetime_columns(table)

    def result_heading(self) -> str:
        """The segment table's heading: ordered by LTV, or by predicted CLV on shop data (by
        the segments' names when no customer value could be predicted)."""
        if shop_data(self.data):
            t = self.result
            if "mean_clv" in t.columns and not t["mean_clv"].notna().any():
                return "Segment table (no predicted CLV: in the order of the segments)"
            return "Segment table (ordered by predicted CLV)"
        return self.result_title

    def headline(self) -> dict[str, Any]:
        """Totals, the best segment by LTV among non-small ones, and the best-customers text."""
        t = self.result
        if t.empty:
            return {}
        by = [c for c in self.state["by"] if c in t.columns]
        if "mean_clv" in t.columns:
            return self._shop_headline(t, by)
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

    def _shop_headline(self, t: pd.DataFrame, by: list[str]) -> dict[str, Any]:
        """Shop data: totals, total predicted CLV, the expected share of customers alive (mean
        P(alive) over the customers with an order), the best segment by predicted CLV."""

        def number(v: Any) -> float | None:
            return float(v) if v is not None and np.isfinite(float(v)) else None

        predicted = t["mean_p_alive"].notna()
        with_orders = t.loc[predicted, "customers_with_orders"].astype(float)
        alive = (
            float((t.loc[predicted, "mean_p_alive"] * with_orders).sum() / with_orders.sum())
            if with_orders.sum() > 0
            else None
        )
        has_clv = bool(t["total_clv"].notna().any())
        ok = t[~t["small_segment"] & t["mean_clv"].notna()]
        best = ok.iloc[0] if len(ok) else None
        return {
            "customers": int(t["customers"].sum()),
            "buyers": int(t["buyers"].sum()),
            "orders": int(t["orders"].sum()),
            "revenue": float(t["revenue"].sum()),
            "segments": len(t),
            "total_predicted_clv": float(t["total_clv"].sum()) if has_clv else None,
            "share_alive": alive,
            "horizon_months": t.attrs.get("horizon_months"),
            "clv_error": t.attrs.get("clv_error"),
            "best_segment": None
            if best is None
            else {
                **{c: (None if pd.isna(best[c]) else str(best[c])) for c in by},
                **{k: number(best[k]) for k in ("mean_clv", "mean_p_alive", "repeat_rate")},
                "customers": int(best["customers"]),
            },
            "best_customers": self.view.texts.get("best"),
        }

    def compute(self, state: dict[str, Any]) -> View:
        as_of = state["as_of"]
        self.check_date("as_of", as_of)
        self.check_date("compare_as_of", state["compare_as_of"])
        if shop_data(self.data):
            return self._shop_view(state)
        table = self._table(state)
        members = self._best_members(state, table)
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
                # mixed data: the one-off orders valued by predicted CLV (the section says so)
                **(
                    {CLV_SECTION: lambda: self._clv_view(state)}
                    if self.data.has("transactions")
                    else {}
                ),
            },
        )

    def _shop_view(self, state: dict[str, Any]) -> View:
        """The page on shop data: the e-commerce table, its figures and sentence."""
        table = self._table(state)
        currency = self.data.currency
        members = self._best_members(state, table)
        figures = {"share": revenue_share_chart(table), "repeat": repeat_rate_chart(table)}
        if table["mean_clv"].notna().any():
            figures["clv"] = segment_clv_chart(table, currency=currency)
        texts = {}
        error = table.attrs.get("clv_error")
        if error:
            alive = table["mean_p_alive"].notna().any()
            texts["clv_error"] = (
                f"Predicted CLV is not shown: {error.rstrip('.')}. The table and figures compare "
                "segments on revenue, orders, AOV and repeat rate"
                + (", with P(alive) from the purchase model." if alive else ".")
            )
        texts["best"] = shop_customers_sentence(table, n=3, currency=currency)
        texts["subscriptions_only"] = (
            "Personas and the mix shift of churn and NRR need subscription data (MRR); this "
            "data has orders only, so they are not shown."
        )
        return View(
            result=table,
            figures=figures,
            texts=texts,
            downloads={MEMBERS_FILE: members},
            sections={CLV_SECTION: lambda: self._clv_view(state)},
        )

    def _clv_view(self, state: dict[str, Any]) -> View:
        return clv_view(self, state, shop=shop_data(self.data))

    def _personas(self, state: dict[str, Any]) -> Personas:
        """The personas at the state's as_of, k, seed and window, kept by the page."""
        as_of, k, rs, w = state["as_of"], state["k"], state["random_state"], state["window_months"]
        return self.memo(
            ("personas", as_of, k, rs, w),
            lambda: personas(self.engine, as_of, k=k, random_state=rs, window_months=w),
        )

    def _personas_view(self, state: dict[str, Any]) -> View:
        as_of, k = state["as_of"], state["k"]
        pers = self._personas(state)
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
                    self.engine,
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
            texts={"mix": mix_sentence(churn) + " " + mix_sentence(nrr)},
        )

    @staticmethod
    def _best_row(table: pd.DataFrame) -> int:
        """Position of the best segment: highest LTV (predicted CLV on shop data) among the
        non-small ones, else the first."""
        value = "ltv" if "ltv" in table.columns else "mean_clv"
        ok = (~table["small_segment"].astype(bool)) & np.isfinite(table[value].astype(float))
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
