"""Tests of segwork.widgets.cohorts.CohortExplorer (the cohort retention page).

Rules checked (sections of docs/metrics.md, summarised; through the metric functions the page must
reproduce exactly):
- (C) "Logo retention": customers of c active in period c+k / customers of c.
- (F) "Cohorts": cells after the as-of date do not exist: missing and drawn blank, never 0.
- (W) "Confidence intervals": Wilson score interval, 95 % unless set otherwise.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pandas as pd
import pytest

import segwork
import segwork.widgets.cohorts as page
from segwork.data.derive import month_index_of
from segwork.engine.keys import DatesHistogram
from segwork.metrics.cohorts import ActivityAll, cohort_matrix, cohort_retention
from segwork.metrics.cohorts_compare import compare_cohort_years
from segwork.metrics.lifetimes import Durations
from segwork.metrics.moves import PlanMonths
from segwork.metrics.mrr_history import MovementHistory
from segwork.metrics.projection import retention_fits
from segwork.widgets.cohorts import (
    MOVEMENTS_TABLE,
    MRR_NOTE,
    NO_PLAN_NOTE,
    PLAN_MOVES_TABLE,
    CohortExplorer,
    cohort_range,
    curve_cohorts,
)

DEFAULTS: dict[str, object] = {
    "as_of": "2024-12-31",
    "period": "month",
    "metric": "logo",
    "cohort": "first_active",
    "by": None,
    "where": {},
    "value": "pct",
    "cohort_from": None,
    "cohort_to": None,
    "min_cohort_size": 30,
    "horizon": 24,
}


@pytest.fixture(scope="module")
def sample() -> segwork.Dataset:
    return segwork.load_sample()


@pytest.fixture(scope="module")
def ex(sample: segwork.Dataset) -> CohortExplorer:
    return CohortExplorer(sample)


def test_defaults_and_state_round_trip(sample: segwork.Dataset, ex: CohortExplorer) -> None:
    assert ex.state == DEFAULTS and ex.error is None
    pd.testing.assert_frame_equal(ex.result, cohort_retention(sample, "2024-12-31"))
    other = CohortExplorer(
        sample,
        period="quarter",
        by="plan",
        where='{"plan": ["pro", "starter"]}',
        cohort_from="2022-05-01",
        horizon=8,
    )
    state = other.state
    assert state["where"] == {"plan": ["pro", "starter"]} and state["cohort_from"] == "2022-05-01"
    assert CohortExplorer(sample, **state).state == state
    # the result is the direct call restricted to cohorts from 2022-Q2 (the quarter of May 1st)
    direct = cohort_retention(
        sample, "2024-12-31", period="quarter", by="plan", where={"plan": ["pro", "starter"]}
    )
    direct = direct[direct["cohort"] >= pd.Timestamp("2022-04-01")].reset_index(drop=True)
    pd.testing.assert_frame_equal(other.result, direct)
    assert sorted(other.result["plan"].unique()) == ["pro", "starter"]


def test_set_equals_the_direct_call(sample: segwork.Dataset, ex: CohortExplorer) -> None:
    ex.set(metric="nrr", period="quarter", cohort="signup")
    want = cohort_retention(sample, "2024-12-31", period="quarter", metric="nrr", cohort="signup")
    pd.testing.assert_frame_equal(ex.result, want)
    # the heat map cells are the matrix of the result; future cells None (F).  (The result equals
    # the direct call up to float summation order in the engine, hence the matrix of .result.)
    heat = ex.figures["heatmap"].data[0]
    matrix = cohort_matrix(ex.result, "nrr")
    assert [list(r) for r in heat.z[:-1]] == [  # the last row is the weighted average
        [None if pd.isna(v) else float(v) for v in row] for row in matrix.to_numpy()
    ]
    assert heat.z[-2][1] is None and list(heat.y)[-1] == "Weighted average"
    assert "projection" in ex.texts and "switch the metric to 'logo'" in ex.texts["projection"]
    ex.set(**{k: DEFAULTS[k] for k in ("metric", "period", "cohort")})


def test_widget_driven_change_equals_the_direct_call(
    sample: segwork.Dataset, ex: CohortExplorer
) -> None:
    ex.controls["by"].value = "billing_interval"
    ex.controls["metric"].value = "grr"
    assert ex.state["by"] == "billing_interval" and ex.state["metric"] == "grr"
    want = cohort_retention(sample, "2024-12-31", metric="grr", by="billing_interval")
    pd.testing.assert_frame_equal(ex.result, want)
    ex.controls["cohort_to"].value = "2023-06-15"
    assert ex.state["cohort_to"] == "2023-06-15"
    assert ex.result["cohort"].max() == pd.Timestamp("2023-06-01")
    ex.controls["cohort_to"].value = ""
    assert ex.state["cohort_to"] is None
    ex.controls["by"].value = None
    ex.controls["metric"].value = "logo"
    pd.testing.assert_frame_equal(ex.result, cohort_retention(sample, "2024-12-31"))


def test_changing_the_display_does_not_recompute(
    monkeypatch: pytest.MonkeyPatch, ex: CohortExplorer
) -> None:
    calls: list[str] = []
    real = page.cohort_retention

    def counting(*args: object, **kwargs: object) -> pd.DataFrame:
        calls.append("x")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(page, "cohort_retention", counting)
    ex.set(value="count", min_cohort_size=100)
    assert calls == []  # memo: the display switch reuses the cohort table
    assert ex.figures["heatmap"].data[0].z[0][0] == float(ex.result["active_customers"][0])
    ex.set(value="pct", min_cohort_size=30)


def test_errors_are_shown_and_the_last_result_kept(ex: CohortExplorer) -> None:
    before = ex.result.copy()
    ex.set(where={"plan": "no-such-plan"})
    assert ex.error is not None and "matches no customer" in ex.error
    pd.testing.assert_frame_equal(ex.result, before)
    assert "no-such-plan" in ex.to_html()
    ex.set(where={})
    assert ex.error is None
    with pytest.raises(ValueError, match="one of: 'logo', 'nrr', 'grr'"):
        ex.set(metric="arr")
    with pytest.raises(ValueError, match="not a date"):
        ex.set(cohort_from="2024/01/01")
    with pytest.raises(ValueError, match="is after cohort_to"):
        ex.set(cohort_from="2024-06-01", cohort_to="2024-01-01")
    with pytest.raises(ValueError, match="period='week' needs transactions"):
        ex.set(period="week")
    with pytest.raises(ValueError, match="unknown parameter 'nope'"):
        ex.set(nope=1)
    ex.controls["cohort_from"].value = "junk"  # typed in the page: shown, not raised
    assert ex.error is not None and "not a date" in ex.error
    assert ex.state["cohort_from"] is None


def test_page_sections_and_static_html(sample: segwork.Dataset, ex: CohortExplorer) -> None:
    # the page computes the main part; the sections wait to be opened
    assert set(ex.view.figures) == {"heatmap", "curves"} and ex.view.resolved == {}
    assert list(ex.view.sections) == [
        "Projection",
        "MRR movements",
        "Survival",
        "Churn conventions",
    ]
    assert set(ex.figures) == {
        "heatmap",
        "curves",
        "projection",
        "mrr_movements",
        "mrr_rates",
        "survival",
    }
    assert list(ex.view.resolved) == list(ex.view.sections)  # the API computed them all
    assert list(ex.tables) == [
        "Weighted average by age (pooled over cohorts)",
        "Projection model (shifted-beta-geometric fit per segment)",
        "MRR movements (monthly bridge)",
        PLAN_MOVES_TABLE,
        "Survival: number at risk",
        "Median lifetime (months; — where not reached)",
        "Churn conventions (last 12 months)",
    ]
    at_risk = ex.tables["Survival: number at risk"]
    assert at_risk["tenure"].tolist()[:3] == [0, 3, 6] and at_risk["All customers"][0] == 2000
    # the comparison sentence: newest year with 12-month-old cohorts (2023) vs 2022 (W)
    want = compare_cohort_years(ex.result, 2023, 2022, age=12, label="12-month").sentence
    assert ex.texts["comparison"] == want
    assert want.startswith("12-month retention of the 2023 cohorts vs the 2022 cohorts: ")
    curves = [t.name for t in ex.figures["curves"].data]
    assert "All cohorts (weighted)" in curves and "projected (sBG)" not in curves
    projected = [t.name for t in ex.figures["projection"].data]
    assert "All cohorts (weighted)" in projected and "projected (sBG)" in projected
    html = ex.to_html()
    for heading in (
        "Cohort retention",
        "Cohort table",
        "Weighted average by age",
        "Survival: number at risk",
        "Churn conventions",
        "ChartMogul",
        "segwork-cohortexplorer-heatmap",
        "segwork-cohortexplorer-survival",
        "segwork-cohortexplorer-mrr-movements",
    ):
        assert heading in html


def test_transactions_only_data(sample: segwork.Dataset) -> None:
    frames = {name: sample.to_pandas(name) for name in ("customers", "transactions")}
    data = segwork.load(frames)
    ex = CohortExplorer(data, period="quarter", by="plan", horizon=8)
    assert ex.error is None
    assert ex.texts["mrr"] == MRR_NOTE
    assert "MRR sections do not apply to transactions-only data" in ex.to_html()
    assert set(ex.figures) == {"heatmap", "curves", "projection"}
    assert list(ex.view.sections) == ["Projection"]
    want = cohort_retention(data, "2024-12-31", period="quarter", by="plan")
    pd.testing.assert_frame_equal(ex.result, want)
    ex.set(period="week", cohort_from="2024-10-01")
    assert ex.error is None and ex.result["cohort"].min() == pd.Timestamp("2024-09-30")


def test_cohort_range_and_curve_cohorts() -> None:
    long = pd.DataFrame(
        {"cohort": pd.to_datetime(["2023-12-01", "2024-01-01", "2024-02-01"]), "age": [0, 0, 0]}
    )
    assert cohort_range(long, "2024-01-20", "2024-02-01", "month")["cohort"].tolist() == [
        pd.Timestamp("2024-01-01"),
        pd.Timestamp("2024-02-01"),
    ]
    assert len(cohort_range(long, None, "2023-12-31", "year")) == 1
    picks = curve_cohorts(pd.Series(pd.date_range("2022-01-01", periods=36, freq="MS")))
    assert len(picks) == 8 and picks[0] == pd.Timestamp("2022-01-01")
    assert picks[-1] == pd.Timestamp("2024-12-01")


def test_page_builds_quarters_and_years_ahead_once_shown() -> None:
    """The first change of period reads tables the page built ahead (each customer's activity
    per quarter / year of all time, a given mrr table): not with the first render, which they
    made wait, but once the page is shown and its kernel is idle (segwork.widgets.idle); one-off
    calls build none, and the page's numbers at quarters equal a one-off call's."""
    data = segwork.load_sample()
    ex = CohortExplorer(data, as_of="2024-12-31")
    assert not any(isinstance(k, ActivityAll) for k in ex.engine.table_keys())
    ex.idle.delay = 0.0

    async def shown() -> None:  # the kernel's loop: the page is displayed, then idle
        ex._repr_mimebundle_()
        for _ in range(3000):
            if ex.idle.done:
                return
            await asyncio.sleep(0.01)

    asyncio.run(shown())
    assert ex.idle.done and ex.idle.error is None
    built = {k for k in ex.engine.table_keys() if isinstance(k, ActivityAll)}
    assert built == {ActivityAll("quarter"), ActivityAll("year")}
    histograms = {k.table for k in ex.engine.table_keys() if isinstance(k, DatesHistogram)}
    assert histograms == {"customers", "mrr"}  # the tables the page reads
    assert MovementHistory() in ex.engine.frame_keys()  # the MRR section's bridge, any as_of
    # and its plan moves at the page's as_of (docs/metrics.md "Plan moves")
    assert PlanMonths(dt.date(2024, 12, 31), month_index_of(dt.date(2024, 12, 31)) - 12) in (
        ex.engine.table_keys()
    )
    # the projection's lifetimes per period at the page's as_of, and its projection itself
    day = dt.date(2024, 12, 31)
    durations = {k for k in ex.engine.table_keys() if isinstance(k, Durations)}
    assert durations == {Durations(day, p, "first_active") for p in ("month", "quarter", "year")}

    def not_called(*args: object, **kwargs: object) -> None:
        raise AssertionError("the projection was not made ahead")

    with pytest.MonkeyPatch.context() as m:
        m.setattr(segwork.widgets.cohorts, "project_retention", not_called)
        ex.open_section("Projection")  # the click finds the projection made
    assert ex.error is None
    pd.testing.assert_frame_equal(
        ex.tables["Projection model (shifted-beta-geometric fit per segment)"],
        retention_fits(segwork.Engine(data), "2024-12-31"),
    )
    ex.open_section("MRR movements")
    pd.testing.assert_frame_equal(
        ex.tables[MOVEMENTS_TABLE],
        segwork.mrr_movements(segwork.Engine(data, fast_paths=False), "2024-12-31"),
    )
    one_off = segwork.Engine(segwork.load_sample())  # as a one-off call's throwaway engine
    segwork.cohort_retention(one_off, "2024-12-31", period="quarter")
    assert not any(isinstance(k, ActivityAll) for k in one_off.table_keys())
    for period in ("quarter", "year"):
        ex.set(period=period)
        assert ex.error is None
        pd.testing.assert_frame_equal(
            ex.result, segwork.cohort_retention(one_off, "2024-12-31", period=period)
        )
    derived = segwork.load({n: data.to_pandas(n) for n in ("customers", "subscriptions")})
    page = CohortExplorer(derived, as_of="2024-12-31")  # MRR per as_of: no period to prepare
    page.prepare()
    assert not any(isinstance(k, ActivityAll) for k in page.engine.table_keys())


def test_plan_moves_on_the_mrr_section(sample: segwork.Dataset, ex: CohortExplorer) -> None:
    """docs/metrics.md "Plan moves": the upgrade and downgrade table of the MRR section is the
    direct call's, filtered like the page; without a plan column the section says so."""
    as_of = ex.state["as_of"]
    pd.testing.assert_frame_equal(ex.tables[PLAN_MOVES_TABLE], segwork.plan_moves(sample, as_of))
    assert {"upgrade", "downgrade"} <= set(ex.tables[PLAN_MOVES_TABLE]["direction"])
    assert "plan_moves.csv" in ex.downloads
    subs = sample.to_pandas("subscriptions").drop(columns="plan")
    bare = segwork.load({"customers": sample.to_pandas("customers"), "subscriptions": subs})
    page_bare = CohortExplorer(bare)
    assert PLAN_MOVES_TABLE not in page_bare.tables
    assert page_bare.texts["plan_moves"] == NO_PLAN_NOTE


def test_no_projection_ahead_when_the_section_shows_none(sample: segwork.Dataset) -> None:
    """The Projection section projects logo retention only: at another metric the idle steps
    build the lifetimes (a later switch to logo reads them) but no projection."""

    def projects(page: CohortExplorer) -> bool:
        return any(getattr(s, "func", None) == page._projection for s in page.preparations())

    assert projects(CohortExplorer(sample, as_of="2024-12-31"))
    assert not projects(CohortExplorer(sample, as_of="2024-12-31", metric="nrr"))
