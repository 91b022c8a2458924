"""The cohort retention page: heat map, curves with projection, MRR movements, survival, churn
conventions.

"Are we keeping customers better over time, and which ones?"  The analyst picks the period, the
metric (logo retention, NRR, GRR), the cohort definition, one segment split and a filter; the page
shows the cohort triangle with its weighted average, retention curves with a shifted-beta-geometric
projection, the comparison of this year's cohorts with last year's, the MRR bridge, Kaplan-Meier
survival with the number at risk, and the churn rate under four conventions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import ipywidgets as widgets
import numpy as np
import pandas as pd

from segwork.data.dates import to_date
from segwork.metrics._common import (
    attribute_tables,
    available_attributes,
    cache_key,
    mrr_tables,
    plan_source,
)
from segwork.metrics.cohorts import (
    COHORT_BASES,
    METRICS,
    PERIODS,
    cohort_retention,
    prepare_period_tables,
)
from segwork.metrics.cohorts_compare import compare_cohort_years, weighted_average_retention
from segwork.metrics.conventions import VENDOR_NOTE, churn_conventions
from segwork.metrics.lifetimes import customer_durations
from segwork.metrics.moves import plan_moves
from segwork.metrics.mrr import mrr_movements
from segwork.metrics.mrr_history import history_applies, movement_history
from segwork.metrics.projection import import_optimize, project_retention, retention_fits
from segwork.metrics.survival import median_lifetime, survival
from segwork.plots.cohorts import (
    cohort_heatmap,
    cohort_label,
    mrr_bridge,
    mrr_rates,
    retention_curves,
    survival_curves,
)
from segwork.widgets.controls import default_control, text_width
from segwork.widgets.explorer import Explorer
from segwork.widgets.params import Param, check_filter, criterion_text
from segwork.widgets.pickers import ColumnValues, FilterPicker, column_values
from segwork.widgets.view import View

__all__ = [
    "COHORT_WORDS",
    "METRIC_WORDS",
    "MOVEMENTS_TABLE",
    "MRR_NOTE",
    "NO_PLAN_NOTE",
    "PERIOD_WORDS",
    "PLAN_MOVES_TABLE",
    "VALUE_WORDS",
    "CohortExplorer",
    "cohort_range",
    "curve_cohorts",
]

#: Shown instead of the MRR sections on transactions-only data.
MRR_NOTE = (
    "MRR sections do not apply to transactions-only data: MRR movements, survival and the churn "
    "conventions need subscription data (an 'mrr' or 'subscriptions' table)."
)
#: Title of the MRR movements table (its heading names the currency).
MOVEMENTS_TABLE = "MRR movements (monthly bridge)"
#: The table of plan changes on the MRR section (docs/metrics.md "Plan moves").
PLAN_MOVES_TABLE = "Plan moves: upgrades and downgrades (last 12 months)"
#: Said instead when the data records no plan.
NO_PLAN_NOTE = "Plan moves need a plan column in subscriptions (or in a given mrr table)."
#: The words of the page's choices (the values stay those of links and notebook parameters).
PERIOD_WORDS = {"week": "Week", "month": "Month", "quarter": "Quarter", "year": "Year"}
METRIC_WORDS = {
    "logo": "Logo retention (customers)",
    "nrr": "Net revenue retention (NRR)",
    "grr": "Gross revenue retention (GRR)",
}
COHORT_WORDS = {"first_active": "First active period", "signup": "Signup date"}
VALUE_WORDS = {"pct": "Rate (%)", "count": "Count (customers or MRR)"}
#: Periods per 12 months (the comparison is "12-month retention").
_PER_YEAR = {"week": 52, "month": 12, "quarter": 4, "year": 1}
#: At most this many single-cohort curves (evenly spaced over the selected cohorts).
MAX_CURVES = 8
#: Rows of the number-at-risk table: every this many months.
_AT_RISK_STEP = 3


def _period_start(day: dt.date, period: str) -> pd.Timestamp:
    """The first day of the period holding ``day`` (weeks start on Monday)."""
    ts = pd.Timestamp(day)
    if period == "week":
        return ts - pd.Timedelta(days=ts.dayofweek)
    if period == "quarter":
        return pd.Timestamp(ts.year, 3 * ((ts.month - 1) // 3) + 1, 1)
    if period == "year":
        return pd.Timestamp(ts.year, 1, 1)
    return pd.Timestamp(ts.year, ts.month, 1)


def cohort_range(
    long: pd.DataFrame, cohort_from: str | None, cohort_to: str | None, period: str
) -> pd.DataFrame:
    """The rows of a cohort table whose cohort period overlaps [cohort_from, cohort_to].

    A cohort is kept when its period contains or follows ``cohort_from`` and starts on or before
    ``cohort_to`` (either may be None: no bound).  E.g. with quarters, ``cohort_from="2023-05-10"``
    keeps 2023-Q2 onwards.

    Examples
    --------
    >>> long = pd.DataFrame({"cohort": pd.to_datetime(["2023-01-01", "2023-04-01",
    ...     "2023-07-01"]), "age": [0, 0, 0]})
    >>> cohort_range(long, "2023-05-10", None, "quarter")["cohort"].dt.strftime("%Y-%m").tolist()
    ['2023-04', '2023-07']
    """
    keep = pd.Series(True, index=long.index)
    if cohort_from:
        start = _period_start(dt.date.fromisoformat(cohort_from), period)
        keep &= long["cohort"] >= start
    if cohort_to:
        keep &= long["cohort"] <= pd.Timestamp(cohort_to)
    return long[keep].reset_index(drop=True)


def curve_cohorts(cohorts: pd.Series, n: int = MAX_CURVES) -> list[pd.Timestamp]:
    """Up to ``n`` cohorts evenly spaced over the sorted distinct ``cohorts`` (first and last in).

    Examples
    --------
    >>> c = pd.Series(pd.date_range("2024-01-01", periods=5, freq="MS"))
    >>> [t.strftime("%m") for t in curve_cohorts(c, 3)]
    ['01', '03', '05']
    """
    values = sorted(pd.to_datetime(cohorts.drop_duplicates()))
    if len(values) <= n:
        return values
    picks = np.unique(np.round(np.linspace(0, len(values) - 1, n)).astype(int))
    return [values[i] for i in picks]


def _at_risk_table(surv: pd.DataFrame) -> pd.DataFrame:
    """The number at risk every few months, one column per segment (shown under the chart)."""
    by = list(surv.columns[: list(surv.columns).index("tenure")])
    rows = surv[surv["tenure"] % _AT_RISK_STEP == 0]
    if not by:
        out = rows[["tenure", "n_at_risk"]].rename(columns={"n_at_risk": "All customers"})
        return out.reset_index(drop=True)
    label = rows[by].astype(str).agg(" · ".join, axis=1)
    wide = rows.assign(_seg=label).pivot(index="tenure", columns="_seg", values="n_at_risk")
    wide = wide.fillna(0).astype("int64")
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


def _compare_years(long: pd.DataFrame, age: int) -> tuple[int, int] | None:
    """(newer year, year before): the newest year with a cohort observed at ``age``."""
    observed = long[long["age"] == age]
    if observed.empty:
        return None
    newest = int(pd.to_datetime(observed["cohort"]).dt.year.max())
    return newest, newest - 1


class CohortExplorer(Explorer):
    """Interactive cohort retention: ``CohortExplorer(data, **state)``.

    Parameters (``.state``, the notebook's parameters besides ``data``): ``as_of``; ``period``
    (week / month / quarter / year); ``metric`` (``logo``, ``nrr``, ``grr``); ``cohort``
    (``first_active`` or ``signup``); ``by`` (one attribute of :func:`segwork.available_attributes`
    or None); ``where`` (filter, e.g. ``{"plan": ["pro"]}``, a numeric column also
    ``{"company_size": {"min": 10, "max": 250}}``; the page edits it with a
    :class:`~segwork.widgets.pickers.FilterPicker`); ``value`` (``pct`` or ``count``);
    ``cohort_from`` / ``cohort_to`` (optional ``YYYY-MM-DD``: which cohorts to show);
    ``min_cohort_size`` (cohorts under it are marked, docs/metrics.md "Small segments"); ``horizon``
    (periods of the sBG projection).

    ``.result`` is exactly ``cohort_retention(data, as_of, period=, metric=, cohort=, by=, where=)``
    restricted to the cohorts in [cohort_from, cohort_to] (:func:`cohort_range`).  The page shows
    at once the ``heatmap``, the ``curves`` (single cohorts, or one line per segment), the
    12-month comparison and the weighted average by age; its sections, computed when opened
    (:class:`~segwork.widgets.view.View`), are "Projection" (figure ``projection``: the curves with
    the sBG projection dashed, logo view only; the sBG parameters), "MRR movements" (figures
    ``mrr_movements`` and ``mrr_rates`` and the table :data:`MOVEMENTS_TABLE`, the
    :func:`segwork.mrr_movements` table with its ``fx_adjustment``: whole population after
    ``where``, not split by ``by``), "Survival" (``survival``, the number at risk, median
    lifetime) and "Churn conventions".  On transactions-only data the last three are replaced by
    :data:`MRR_NOTE`.  Amounts are in ``data.currency``, named by the figures' axes, the tables'
    headings and the page's note.

    Examples
    --------
    >>> import segwork
    >>> ex = CohortExplorer(segwork.load_sample(), period="quarter", by="plan")  # doctest: +SKIP
    >>> ex.set(metric="nrr").result.columns.tolist()[:3]  # doctest: +SKIP
    ['plan', 'cohort', 'age']
    """

    title = "Cohort retention"
    description = (
        "Are we keeping customers better over time, and which ones? Cohorts by first activity "
        "(or signup), their retention by age, a projection for the young ones, MRR movements and "
        "survival."
    )
    result_title = "Cohort table"
    figures_first = True  # the charts come before the long table
    params = (
        Param("as_of", "2024-12-31", kind="date", label="As of"),
        Param(
            "period", "month", kind="choice", choices=PERIODS, label="Period", words=PERIOD_WORDS
        ),
        Param(
            "metric",
            "logo",
            kind="choice",
            choices=METRICS,
            words=METRIC_WORDS,
            label="Metric",
            help="logo retention, net revenue retention or gross revenue retention",
        ),
        Param(
            "cohort",
            "first_active",
            kind="choice",
            choices=COHORT_BASES,
            label="Cohort by",
            words=COHORT_WORDS,
        ),
        Param(
            "by",
            None,
            kind="choice",
            choices=available_attributes,
            words=criterion_text,
            label="Split by",
            help="one customer attribute (or none)",
        ),
        Param("where", {}, kind="json", label="Filter", help='e.g. {"plan": ["pro"]}; {} = all'),
        Param(
            "value", "pct", kind="choice", choices=("pct", "count"), label="Show", words=VALUE_WORDS
        ),
        Param(
            "cohort_from",
            None,
            kind="text",
            label="Cohorts from",
            help="YYYY-MM-DD; empty = the first cohort",
        ),
        Param(
            "cohort_to",
            None,
            kind="text",
            label="Cohorts to",
            help="YYYY-MM-DD; empty = the last cohort",
        ),
        Param("min_cohort_size", 30, kind="int", low=1, high=100_000, label="Min cohort size"),
        Param(
            "horizon",
            24,
            kind="int",
            low=1,
            high=240,
            label="Projection horizon",
            section="Projection",
        ),
    )

    def make_control(self, param: Param) -> widgets.Widget | None:
        """The split (none or one criterion, in words), the filter's picker and the projection
        horizon in the unit of the period."""
        if param.name == "by":
            options: list[tuple[str, str | None]] = [("(none)", None)]
            options += [(criterion_text(c), str(c)) for c in self.choices("by") or []]
            longest = max(len(text) for text, _ in options)
            return widgets.Dropdown(
                options=options,
                description="Split by",
                style={"description_width": "initial"},
                layout=widgets.Layout(width=text_width("Split by", longest, "56px")),
            )
        if param.name == "where":
            columns = [(criterion_text(c), c) for c in self.choices("by") or []]
            return FilterPicker("Filter", columns, self._values, placeholder=param.help)
        if param.name == "horizon":  # wide enough for the longest unit, "quarters"
            widest = replace(param, label=self._horizon_label("quarter"))
            control = default_control(widest, self.choices)
            control.description = self._horizon_label(self._state["period"])
            return control
        return None

    @staticmethod
    def _horizon_label(period: str) -> str:
        return f"Projection horizon ({period}s)"

    def after_render(self) -> list[widgets.Widget]:
        """The projection horizon's field names the unit of the current period."""
        self.controls["horizon"].description = self._horizon_label(self._state["period"])
        return []

    def _values(self, name: str) -> ColumnValues:
        """The values the filter offers for criterion ``name`` (at the page's as_of, kept)."""
        as_of = self._state["as_of"]
        return self.memo(
            ("column_values", name, as_of), lambda: column_values(self.engine, name, as_of)
        )

    def preparations(self) -> list[Callable[[], object]]:
        # quarters and years of a given mrr table (each customer's activity per period of all
        # time; years are summed from quarters), the base's set-aside histograms, then the
        # MRR bridge of every as_of (the longest step: a click waits for at most one step) and
        # the plan moves at the page's as_of
        steps: list[Callable[[], object]] = [
            partial(prepare_period_tables, self.engine, (period,)) for period in ("quarter", "year")
        ]
        steps += super().preparations()
        if self.data.has("mrr") and history_applies(
            self.engine, split=False, converts=self.data.currencies.converts
        ):  # the MRR movements section's bridge of every as_of
            steps.append(lambda: movement_history(self.engine))
        state = dict(self._state)
        if plan_source(self.data) is not None:  # the section's plan moves at the page's state
            steps.append(lambda: self._plan_moves(state))
        steps += self._projection_steps(state)
        return steps

    def _projection_steps(self, state: dict[str, Any]) -> list[Callable[[], object]]:
        """The Projection section's steps: scipy's optimiser imported, each customer's lifetime
        at the page's as_of per period (the state's, then on MRR data the quarters and years a
        change of period reads; kept whatever the split or filter), then the projection of the
        state itself when it shows logo retention (its bootstrap's fits are most of a first
        click)."""
        day, cohort = to_date(state["as_of"]), state["cohort"]
        periods = [state["period"]]
        if self.data.has("mrr"):
            periods += [p for p in ("quarter", "year") if p != state["period"]]
        steps: list[Callable[[], object]] = [import_optimize]
        steps += [partial(customer_durations, self.engine, day, p, cohort) for p in periods]
        if state["metric"] == "logo":  # the section projects logo retention only
            steps.append(partial(self._projection, state))
        return steps

    def tables_read(self, state: dict[str, Any]) -> list[str]:
        names = ["customers"]
        names += mrr_tables(self.data) or ["transactions"]
        by = [state["by"]] if state["by"] else []
        names += attribute_tables(self.data, [*by, *(state["where"] or {})])
        return list(dict.fromkeys(names))

    def validate(self, state: dict[str, Any]) -> None:
        check_filter("where", state["where"])
        bounds = {}
        for name in ("cohort_from", "cohort_to"):
            text = state.get(name)
            if text in (None, ""):
                state[name] = None
                continue
            try:
                bounds[name] = dt.date.fromisoformat(str(text).strip())
            except ValueError as err:
                raise ValueError(f"{name}={text!r} is not a date (use YYYY-MM-DD)") from err
            state[name] = bounds[name].isoformat()
        if len(bounds) == 2 and bounds["cohort_from"] > bounds["cohort_to"]:
            raise ValueError(
                f"cohort_from ({bounds['cohort_from']}) is after cohort_to ({bounds['cohort_to']})"
            )
        if state["period"] == "week" and self.data.has("mrr"):
            raise ValueError(
                "period='week' needs transactions data; this Dataset's activity is monthly MRR: "
                "choose one of 'month', 'quarter', 'year'"
            )

    # -- pieces (memoised on exactly what they depend on) ----------------------------------------
    def _long(self, s: dict[str, Any], metric: str) -> pd.DataFrame:
        key = ("long", s["as_of"], s["period"], metric, s["cohort"], s["by"], cache_key(s["where"]))
        return self.memo(
            key,
            lambda: cohort_retention(
                self.engine,
                s["as_of"],
                period=s["period"],
                metric=metric,  # type: ignore[arg-type]
                cohort=s["cohort"],
                by=s["by"],
                where=s["where"] or None,
            ),
        )

    def _projection(self, s: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
        key = (
            "projection",
            s["as_of"],
            s["period"],
            s["cohort"],
            s["by"],
            cache_key(s["where"]),
            s["horizon"],
        )

        def run() -> tuple[pd.DataFrame, pd.DataFrame]:
            args: dict[str, Any] = {
                "by": s["by"],
                "period": s["period"],
                "cohort": s["cohort"],
                "where": s["where"] or None,
            }
            proj = project_retention(self.engine, s["as_of"], horizon=s["horizon"], **args)
            return proj, retention_fits(self.engine, s["as_of"], **args)

        return self.memo(key, run)

    def _mrr(self, s: dict[str, Any]) -> pd.DataFrame:
        key = ("mrr", s["as_of"], cache_key(s["where"]))
        return self.memo(
            key, lambda: mrr_movements(self.engine, s["as_of"], where=s["where"] or None)
        )

    def _plan_moves(self, s: dict[str, Any]) -> pd.DataFrame:
        key = ("plan_moves", s["as_of"], cache_key(s["where"]))
        return self.memo(key, lambda: plan_moves(self.engine, s["as_of"], where=s["where"] or None))

    def _survival(self, s: dict[str, Any]) -> pd.DataFrame:
        key = ("survival", s["as_of"], s["by"], cache_key(s["where"]))
        return self.memo(
            key, lambda: survival(self.engine, s["as_of"], by=s["by"], where=s["where"] or None)
        )

    def _conventions(self, s: dict[str, Any]) -> pd.DataFrame:
        key = ("conventions", s["as_of"], cache_key(s["where"]))
        return self.memo(
            key, lambda: churn_conventions(self.engine, s["as_of"], where=s["where"] or None)
        )

    def _too_young(self, s: dict[str, Any], long: pd.DataFrame) -> str:
        """Why a cohort table with only age 0 shows no retention, and which change would help."""
        period = s["period"]

        def has_ages(**change: Any) -> bool:  # would this change show an age >= 1?
            t = {**s, **change}
            try:
                rows = cohort_range(
                    self._long(t, t["metric"]), t["cohort_from"], t["cohort_to"], t["period"]
                )
            except ValueError:
                return False
            return not rows.empty and int(rows["age"].max()) >= 1

        shorter = [
            p
            for p in PERIODS[: PERIODS.index(period)]
            if (p != "week" or not self.data.has("mrr")) and has_ages(period=p)
        ]
        todo = [f"a shorter period ({', '.join(repr(p) for p in shorter)})"] if shorter else []
        if s["cohort_from"] and has_ages(cohort_from=None):
            todo.append("an empty or earlier 'Cohorts from'")
        end = self.data.data_end
        if _period_start(end, period) > _period_start(dt.date.fromisoformat(s["as_of"]), period):
            todo.append(f"a later as_of (the data runs to {end})")
        cohorts = ", ".join(
            pd.DatetimeIndex(long["cohort"].unique()).sort_values().strftime("%Y-%m-%d")
        )
        what = (
            "; choose " + " or ".join(todo)
            if todo
            else f": the data ({self.first_signup()} to {end}) is too short, retention needs "
            "activity in at least two periods; load a longer history"
        )
        return (
            f"no retention to show yet: every cohort shown ({cohorts}) is still in its first "
            f"{period} at as_of={s['as_of']} (age 0 only){what}"
        )

    # -- the view ---------------------------------------------------------------------------------
    def headline(self) -> dict[str, Any]:
        """Weighted-average retention at ages 1, 3, 6 and 12, median lifetime, the comparison."""
        avg = next((t for n, t in self.tables.items() if n.startswith("Weighted average")), None)
        out: dict[str, Any] = {"comparison": self.texts.get("comparison")}
        if avg is not None and len(avg):
            value = [c for c in ("retention", "nrr", "grr") if c in avg.columns]
            if value:
                by_age = avg.set_index("age")[value[0]]
                out[f"weighted_{value[0]}"] = {
                    str(a): float(by_age[a])
                    for a in (1, 3, 6, 12)
                    if a in by_age.index and pd.notna(by_age[a])
                }
        median = next((t for n, t in self.tables.items() if n.startswith("Median lifetime")), None)
        if median is not None and len(median) == 1:
            m = median["median_tenure"].iloc[0]
            out["median_lifetime_months"] = None if pd.isna(m) else float(m)
        return out

    def shown(self, table: pd.DataFrame) -> pd.DataFrame:
        """The cohorts named as on the heat map ("2022-01", "2022-Q1": :func:`cohort_label`)."""
        if "cohort" not in table.columns or not pd.api.types.is_datetime64_any_dtype(
            table["cohort"]
        ):
            return table
        out = table.copy()
        out["cohort"] = [cohort_label(c, self._state["period"]) for c in out["cohort"]]
        return out

    def compute(self, state: dict[str, Any]) -> View:
        s = state
        period, metric = s["period"], s["metric"]
        self.check_date("as_of", s["as_of"])
        every = self._long(s, metric)
        long = cohort_range(every, s["cohort_from"], s["cohort_to"], period)
        if long.empty:
            first, last = (f"{c:%Y-%m-%d}" for c in (every["cohort"].min(), every["cohort"].max()))
            raise ValueError(
                f"no cohort between cohort_from={s['cohort_from']} and cohort_to={s['cohort_to']}"
                f": the {period} cohorts run from {first} to {last}; widen 'Cohorts from' / "
                "'Cohorts to' (empty = no bound)"
            )
        if int(long["age"].max()) < 1:
            raise ValueError(self._too_young(s, long))
        logo = (
            long
            if metric == "logo"
            else cohort_range(self._long(s, "logo"), s["cohort_from"], s["cohort_to"], period)
        )
        average = weighted_average_retention(long)
        what = {
            "logo": "Logo retention",
            "nrr": "Net revenue retention",
            "grr": "Gross revenue retention",
        }[metric]

        figures: dict[str, Any] = {}
        texts: dict[str, str] = {}
        figures["heatmap"] = cohort_heatmap(
            long,
            value=s["value"],
            min_cohort_size=s["min_cohort_size"],
            average=average,
            sizes=None if metric == "logo" else logo,
            period=period,
            title=f"{what} by cohort ({period}s)",
            currency=self.data.currency,
        )
        age = _PER_YEAR[period]
        years = _compare_years(logo, age)
        if years is None:
            texts["comparison"] = (
                f"12-month retention: no cohort is 12 months old by {s['as_of']} yet."
            )
        else:
            texts["comparison"] = compare_cohort_years(
                logo, years[0], years[1], age=age, label="12-month"
            ).sentence
        figures["curves"] = self._curves(s, long, average, what, None)
        sections = {"Projection": lambda: self._projection_view(s, long, average, what)}
        if self.data.has("mrr"):
            sections["MRR movements"] = lambda: self._mrr_view(s)
            sections["Survival"] = lambda: self._survival_view(s)
            sections["Churn conventions"] = lambda: self._conventions_view(s)
        else:
            texts["mrr"] = MRR_NOTE
        return View(
            result=long,
            figures=figures,
            tables={"Weighted average by age (pooled over cohorts)": average},
            texts=texts,
            downloads={"cohort_retention.csv": long},
            sections=sections,
        )

    def _curves(
        self,
        s: dict[str, Any],
        long: pd.DataFrame,
        average: pd.DataFrame,
        what: str,
        projection: pd.DataFrame | None,
    ) -> Any:
        """Retention by age: one line per segment (split), else selected cohorts and the mean."""
        ratio = "retention" if s["metric"] == "logo" else s["metric"]
        if s["by"]:
            return retention_curves(
                average,
                y=ratio,
                group=[s["by"]],
                projection=projection,
                period=s["period"],
                title=f"{what} by age and {s['by']} (weighted over cohorts)",
            )
        picked = long[long["cohort"].isin(curve_cohorts(long["cohort"]))]
        return retention_curves(
            picked,
            y=ratio,
            group="cohort",
            average=average,
            projection=projection,
            period=s["period"],
            title=f"{what} by age: selected cohorts and the weighted average",
        )

    def _projection_view(
        self, s: dict[str, Any], long: pd.DataFrame, average: pd.DataFrame, what: str
    ) -> View:
        if s["metric"] != "logo":
            return View(
                texts={
                    "projection": "The projection (shifted-beta-geometric) models logo "
                    "retention: switch the metric to 'logo' to see it."
                }
            )
        projection, fits = self._projection(s)
        return View(
            figures={"projection": self._curves(s, long, average, what, projection)},
            tables={"Projection model (shifted-beta-geometric fit per segment)": fits},
            texts={
                "projection": f"Dashed: retention projected to {s['horizon']} {s['period']}s by "
                "a shifted-beta-geometric model fitted to every cohort's first lifetime (pooled, "
                "censored at each cohort's age); the band is a 95 % parametric-bootstrap interval."
            },
            downloads={"retention_projection.csv": projection},
        )

    def _mrr_view(self, s: dict[str, Any]) -> View:
        mov = self._mrr(s)
        cur = self.data.currency
        tables: dict[str, pd.DataFrame] = {MOVEMENTS_TABLE: mov}
        downloads = {"mrr_movements.csv": mov}
        texts: dict[str, str] = {}
        if plan_source(self.data) is not None:  # from-plan x to-plan (docs/metrics.md)
            moves = self._plan_moves(s)
            tables[PLAN_MOVES_TABLE] = moves
            downloads["plan_moves.csv"] = moves
        else:
            texts["plan_moves"] = NO_PLAN_NOTE
        return View(
            figures={
                "mrr_movements": mrr_bridge(
                    mov, title=f"MRR movements (monthly bridge, {cur})", currency=cur
                ),
                "mrr_rates": mrr_rates(mov, title="Quick ratio and gross / net MRR churn"),
            },
            # every column of mrr_movements(), fx_adjustment included (docs/metrics.md
            # "Currencies"): the bridge adds up row by row
            tables=tables,
            texts=texts,
            downloads=downloads,
        )

    def _survival_view(self, s: dict[str, Any]) -> View:
        surv = self._survival(s)
        return View(
            figures={
                "survival": survival_curves(
                    surv, title="Survival (Kaplan-Meier, 95 % log-log band)"
                )
            },
            tables={
                "Survival: number at risk": _at_risk_table(surv),
                "Median lifetime (months; — where not reached)": median_lifetime(surv),
            },
        )

    def _conventions_view(self, s: dict[str, Any]) -> View:
        return View(
            tables={"Churn conventions (last 12 months)": self._conventions(s)},
            texts={"conventions": VENDOR_NOTE},
        )
