"""The market sizing page: who should we sell to, and how big is it?

State -> :func:`segwork.market.market_size`, :func:`~segwork.market.sensitivity`,
:func:`~segwork.market.penetration` and :func:`~segwork.market.ideal_customer_profile`, drawn with
:mod:`segwork.plots.market`.  No metric logic here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
import pandas as pd

from segwork.engine import Data, engine_for
from segwork.headline import Kpi
from segwork.market.icp import ideal_customer_profile
from segwork.market.penetration import penetration
from segwork.market.sensitivity import sensitivity
from segwork.market.sizing import ASSUMPTION_COLUMNS, market_frame, market_size
from segwork.metrics._common import mrr_tables
from segwork.plots.market import (
    funnel_figure,
    penetration_figure,
    segments_figure,
    tornado_figure,
)
from segwork.widgets.controls import text_width
from segwork.widgets.explorer import Explorer
from segwork.widgets.params import Param, check_filter, criterion_text
from segwork.widgets.pickers import ColumnValues, FilterPicker
from segwork.widgets.view import View

__all__ = ["MarketExplorer"]

_OPTIONAL_FLOATS = ("share_low", "share_high", "top_down")
_ACV_HELP = "What-if: every segment's annual contract value times this (1 = as in the data)"
#: Tables of amounts whose column names do not say so (their headings name the currency).
_MONEY_TABLES = frozenset({"TAM / SAM / SOM", "Top-down vs bottom-up"})


class ServiceablePicker(FilterPicker):
    """The SAM filter as rows: a multi-select of each market criterion's values."""

    empty_text = "Every segment is serviceable (no filter)."
    add_text = "Serve only…"


def _market_criteria(data: Data) -> list[str]:
    data = engine_for(data).data
    if not data.has("market"):
        return []
    return [c for c in data.table("market").columns if c not in ASSUMPTION_COLUMNS]


class MarketExplorer(Explorer):
    """TAM / SAM / SOM by market segment, the tornado, penetration and the ICP (one page).

    Parameters (also the notebook's papermill parameters, besides ``data``):

    - ``as_of``: as-of date of penetration and the ICP;
    - ``criteria``: market columns defining a segment (empty = every criteria column);
    - ``serviceable``: filter ``{criterion: [values]}`` defining the SAM;
    - ``share`` and optional ``share_low`` / ``share_high``: obtainable share, a point or the
      range (low, mode, high) = (share_low, share, share_high), an end not set being ``share``;
    - ``horizon_years``, ``acv_scale`` (what-if multiplier on ACV), ``top_down`` (optional stated
      total market), ``distribution``, ``n_draws``, ``random_state``: as in
      :func:`segwork.market.market_size`;
    - ``min_customers``: smallest segment the ICP may pick.

    The first render computes its as_of alone (:attr:`Explorer.first_date_alone`); the segment
    history that answers any other as_of in one query over small tables is built once the page
    is shown and its kernel is idle (:mod:`segwork.widgets.idle`).

    Examples
    --------
    >>> import segwork
    >>> from segwork.widgets.market import MarketExplorer
    >>> ex = MarketExplorer(segwork.load_sample(), n_draws=200)
    >>> list(ex.result.columns[:4])
    ['industry', 'company_size', 'region', 'accounts']
    """

    title = "Market sizing"
    description = (
        "Who should we sell to, and how big is it? TAM, SAM and SOM by market segment with "
        "P10-P90 ranges, what moves SOM, how far the customers have penetrated each segment, and "
        "the ideal customer profile found in the data."
    )
    result_title = "Market segments"
    figures_first = True  # the charts come before the long table
    first_date_alone = True  # its segment history costs more than one date: built when idle
    params = (
        Param("as_of", "2024-12-31", kind="date", label="As of"),
        Param(
            "criteria",
            [],
            kind="multi",
            choices=_market_criteria,
            label="Segment criteria",
            help="Market columns that define a segment; none selected = all of them",
        ),
        Param(
            "serviceable",
            {},
            kind="json",
            label="Serviceable (SAM filter)",
            help='Segments the product can serve, e.g. {"region": ["Europe"]}; {} = all',
        ),
        Param("share", 0.05, kind="float", low=0.0, high=1.0, step=0.005, label="Share (mode)"),
        Param("share_low", None, kind="float", low=0.0, high=1.0, label="Share low"),
        Param("share_high", None, kind="float", low=0.0, high=1.0, label="Share high"),
        Param("horizon_years", 3, kind="int", low=0, high=30, label="Horizon (years)"),
        Param(
            "acv_scale",
            1.0,
            kind="float",
            low=0.01,
            high=100.0,
            step=0.05,
            label="ACV multiplier",
            help=_ACV_HELP,
        ),
        Param(
            "top_down",
            None,
            kind="float",
            low=0.0,
            high=1e15,
            label="Top-down total",
            help="Optional stated total market (annual spend) to compare with the bottom-up TAM",
        ),
        Param("distribution", "triangular", kind="choice", choices=("triangular", "pert")),
        Param("n_draws", 10_000, kind="int", low=1, high=200_000, step=1000, label="Draws"),
        Param("random_state", 0, kind="int", low=0, high=2**31 - 1, label="Seed"),
        Param("min_customers", 30, kind="int", low=1, high=100_000, label="ICP min customers"),
    )

    # -- optional floats are typed as text ("" = not set) -----------------------------------------
    def make_control(self, param: Param) -> widgets.Widget | None:
        if param.name == "serviceable":  # the values of the market's criteria, picked
            columns = [(criterion_text(c), c) for c in _market_criteria(self.data)]
            return ServiceablePicker(
                "Serviceable (SAM)", columns, self._market_values, placeholder=param.help
            )
        if param.name in _OPTIONAL_FLOATS:
            label = param.label or param.name
            if param.name == "top_down":  # an amount a year, in the data's currency
                label = f"{label} ({self.data.currency} a year)"
            return widgets.Text(
                description=label,
                placeholder="not set",
                continuous_update=False,
                style={"description_width": "initial"},
                layout=widgets.Layout(width=text_width(label, 10)),
            )
        return None

    def _market_values(self, name: str) -> ColumnValues:
        values = self._market()[name].dropna().unique().tolist()
        return ColumnValues(name, values=tuple(sorted(values, key=str)))

    def to_widget(self, param: Param, value: Any) -> Any:
        if param.name in _OPTIONAL_FLOATS:
            return "" if value is None else f"{value:g}"
        return super().to_widget(param, value)

    def from_widget(self, param: Param, value: Any) -> Any:
        if param.name in _OPTIONAL_FLOATS:
            return None if str(value).strip() == "" else str(value).strip()
        return super().from_widget(param, value)

    def validate(self, state: dict[str, Any]) -> None:
        check_filter("serviceable", state["serviceable"])
        lo, mode, hi = state["share_low"], state["share"], state["share_high"]
        if lo is not None and hi is not None and lo > hi:
            todo = "lower share_low or raise share_high"
        elif lo is not None and lo > mode:
            todo = "lower share_low or raise share"
        elif hi is not None and hi < mode:
            todo = "raise share_high or lower share"
        else:
            return
        raise ValueError(
            "share range must satisfy share_low <= share <= share_high, got "
            f"share_low={lo}, share={mode}, share_high={hi}: {todo} (an empty end = share)"
        )

    # -- the calls, as a user would make them -----------------------------------------------------
    def sizing_kwargs(self, state: dict[str, Any] | None = None) -> dict[str, Any]:
        """The keyword arguments of :func:`segwork.market.market_size` for ``state``."""
        s = self.state if state is None else state
        share: Any = s["share"]
        if s["share_low"] is not None or s["share_high"] is not None:
            low = s["share"] if s["share_low"] is None else s["share_low"]
            high = s["share"] if s["share_high"] is None else s["share_high"]
            share = (low, s["share"], high)
        return {
            "criteria": list(s["criteria"]) or None,
            "serviceable": dict(s["serviceable"] or {}) or None,
            "share": share,
            "horizon_years": s["horizon_years"],
            "top_down": s["top_down"],
            "n_draws": s["n_draws"],
            "random_state": s["random_state"],
            "distribution": s["distribution"],
            "acv_scale": s["acv_scale"],
        }

    def shows_money(self, title: str, table: pd.DataFrame) -> bool:
        # the totals' point / mean / P10-P90 and the top-down comparison are amounts a year
        return title in _MONEY_TABLES or super().shows_money(title, table)

    def tables_read(self, state: dict[str, Any]) -> list[str]:
        # penetration and the ideal customer profile (firmographic customer columns) read the
        # customers and their MRR; the market table has no dates
        return ["customers", *mrr_tables(self.data)]

    def preparations(self) -> list[Callable[[], object]]:
        steps = super().preparations()
        if not self.data.has("mrr"):
            return steps
        state = self.state

        def every_date() -> None:
            # the first render computed its date alone; from now on the ideal customer profile
            # and penetration read the segment history, built here (equal numbers: tested)
            self.engine.reuse_across_dates = True
            ideal_customer_profile(
                self.engine,
                state["as_of"],
                min_customers=state["min_customers"],
                market=self._market(),
            )

        return [every_date, *steps]

    def _market(self) -> pd.DataFrame:
        return self.memo(("market",), lambda: market_frame(self.data))

    def kpis(self, state: dict[str, Any]) -> list[Kpi]:
        """None: the market page's key numbers are its TAM / SAM / SOM sentences and funnel."""
        return []

    def headline(self) -> dict[str, Any]:
        """TAM, SAM and SOM (point and P10/P50/P90) and the ideal customer profile statement."""
        totals = self.tables.get("TAM / SAM / SOM")
        out: dict[str, Any] = {
            k: (v if isinstance(v, float) and math.isfinite(v) else None)
            for k, v in getattr(self, "_headline", {}).items()
        }
        out.update(icp=self.texts.get("icp"), gap=self.texts.get("gap"))
        if totals is not None:
            for _, row in totals.iterrows():
                out[f"{str(row['measure']).lower()}_range"] = {
                    k: (None if pd.isna(row[k]) else float(row[k]))
                    for k in ("point", "p10", "p50", "p90")
                }
        return out

    def compute(self, state: dict[str, Any]) -> View:
        kwargs = self.sizing_kwargs(state)
        key = json.dumps(kwargs, sort_keys=True, default=str)
        market = self._market()
        size = self.memo(
            ("size", key),
            lambda: market_size(market, currency=self.data.currency, **kwargs),
        )
        tornado = self.memo(("tornado", key), lambda: sensitivity(market, **kwargs))
        crit = list(size.criteria)
        cust_cols = (
            set(self.data.table("customers").columns) if self.data.has("customers") else set()
        )
        pen_crit = [c for c in crit if c in cust_cols]
        as_of = state["as_of"]
        if self.data.has("mrr"):  # as_of dates penetration and the ICP
            self.check_date("as_of", as_of)
        texts = {"sizing": size.sentence, "gap": size.gap_sentence}
        cur = self.data.currency  # of the market's ACVs too (docs/metrics.md "Currencies")
        figures = {
            "funnel": funnel_figure(size.totals, currency=cur),
            "segments": segments_figure(size.segments, crit, currency=cur),
            "tornado": tornado_figure(tornado, currency=cur),
        }
        tables: dict[str, pd.DataFrame] = {"TAM / SAM / SOM": size.totals}
        if len(size.top_down):
            tables["Top-down vs bottom-up"] = size.top_down
        tables["What moves SOM (tornado)"] = tornado
        downloads = {"market_segments.csv": size.segments}
        headline = {"tam": size.tam, "sam": size.sam, "som": size.som}
        icp = None
        if self.data.has("mrr"):  # before penetration: its segment history serves penetration's
            icp = self.memo(
                ("icp", as_of, state["min_customers"]),
                lambda: ideal_customer_profile(
                    self.engine, as_of, min_customers=state["min_customers"], market=market
                ),
            )
        if pen_crit and self.data.has("mrr"):
            pen_kwargs = {k: v for k, v in kwargs.items() if k != "criteria"}
            pen = self.memo(
                ("penetration", as_of, tuple(pen_crit), key),
                lambda: penetration(
                    self.engine,
                    as_of,
                    criteria=pen_crit,
                    market=market,
                    sizing=size if pen_crit == crit else pen_kwargs,
                ),
            )
            texts["penetration"] = pen.sentence
            figures["penetration"] = penetration_figure(pen.segments, pen_crit)
            tables["Penetration by segment"] = pen.segments
            if len(pen.unmatched):
                tables["Customers matching no segment"] = pen.unmatched
            downloads["penetration.csv"] = pen.segments
            headline.update(
                arr=float(pen.totals["arr"].iloc[0]),
                penetration=float(pen.totals["penetration"].iloc[0]),
            )
        else:
            texts["penetration"] = (
                "Penetration needs customers with MRR and criteria that are customer columns; "
                f"none of {', '.join(crit) or 'the criteria'} is."
            )
        if icp is not None:
            texts["icp"] = "Ideal customer profile: " + icp.statement
            tables["Ideal customer profile: best segments"] = icp.segments.head(10)
        self._headline = headline
        return View(
            result=size.segments,
            figures=figures,
            tables=tables,
            texts=texts,
            downloads=downloads,
        )
