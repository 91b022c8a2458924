"""The market sizing page: state round trip, set/widget -> the same numbers as the direct calls,
errors shown in the page, static HTML headings."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import segwork
from segwork.market import ideal_customer_profile, market_size, penetration, sensitivity
from segwork.market.penetration import PenetrationCounts
from segwork.metrics.history import HistoryPart
from segwork.widgets.market import MarketExplorer

FAST = {"n_draws": 500}


@pytest.fixture(scope="module")
def data() -> segwork.Dataset:
    return segwork.load_sample()


@pytest.fixture(scope="module")
def explorer(data: segwork.Dataset) -> MarketExplorer:
    return MarketExplorer(data, **FAST)


def test_defaults_and_round_trip(data: segwork.Dataset, explorer: MarketExplorer) -> None:
    state = explorer.state
    assert state == {
        "as_of": "2024-12-31", "criteria": [], "serviceable": {}, "share": 0.05,
        "share_low": None, "share_high": None, "horizon_years": 3, "acv_scale": 1.0,
        "top_down": None, "distribution": "triangular", "n_draws": 500, "random_state": 0,
        "min_customers": 30,
    }  # fmt: skip
    assert explorer.error is None
    other = MarketExplorer(
        data, criteria=["industry", "region"], serviceable='{"region": ["Europe"]}',
        share=0.03, share_low=0.01, share_high=0.06, top_down=2.5e10, n_draws=300,
    )  # fmt: skip
    assert MarketExplorer(data, **other.state).state == other.state
    assert other.state["serviceable"] == {"region": ["Europe"]}
    assert other.state["share_low"] == 0.01
    assert set(explorer.figures) == {"funnel", "segments", "tornado", "penetration"}
    assert {"sizing", "gap", "penetration", "icp"} <= set(explorer.texts)
    assert {"TAM / SAM / SOM", "Penetration by segment"} <= set(explorer.tables)


def test_set_equals_the_direct_calls(data: segwork.Dataset, explorer: MarketExplorer) -> None:
    explorer.set(
        serviceable={"region": ["Europe", "North America"]}, share=0.03, share_low=0.01,
        share_high=0.06, acv_scale=1.2, horizon_years=2,
    )  # fmt: skip
    assert explorer.error is None
    kwargs: dict[str, Any] = {
        "criteria": None, "serviceable": {"region": ["Europe", "North America"]},
        "share": (0.01, 0.03, 0.06), "horizon_years": 2, "top_down": None, "n_draws": 500,
        "random_state": 0, "distribution": "triangular", "acv_scale": 1.2,
    }  # fmt: skip
    assert explorer.sizing_kwargs() == kwargs
    direct = market_size(data, **kwargs)
    pd.testing.assert_frame_equal(explorer.result, direct.segments)
    pd.testing.assert_frame_equal(explorer.tables["TAM / SAM / SOM"], direct.totals)
    pd.testing.assert_frame_equal(
        explorer.tables["What moves SOM (tornado)"], sensitivity(data, **kwargs)
    )
    pen = penetration(data, "2024-12-31", sizing=direct)
    pd.testing.assert_frame_equal(explorer.tables["Penetration by segment"], pen.segments)
    assert explorer.texts["penetration"] == pen.sentence
    icp = ideal_customer_profile(data, "2024-12-31", min_customers=30)
    assert explorer.texts["icp"] == "Ideal customer profile: " + icp.statement
    assert explorer.texts["gap"] == direct.gap_sentence
    assert list(explorer.figures["funnel"].data[0].y) == direct.totals["p50"].tolist()
    explorer.set(serviceable={}, share=0.05, share_low=None, share_high=None, acv_scale=1.0,
                 horizon_years=3)  # fmt: skip


def test_widget_driven_change(data: segwork.Dataset) -> None:
    ex = MarketExplorer(data, **FAST)
    ex.controls["share"].value = 0.02
    ex.controls["criteria"].value = ("industry", "region")
    ex.controls["serviceable"].value = '{"industry": ["software"]}'
    ex.controls["top_down"].value = "3e10"
    ex.controls["share_high"].value = "0.05"  # one end only: low = the mode
    assert ex.error is None, ex.error
    assert ex.state["top_down"] == 3e10 and ex.state["share_high"] == 0.05
    direct = market_size(
        data, criteria=["industry", "region"], serviceable={"industry": ["software"]},
        share=(0.02, 0.02, 0.05), top_down=3e10, n_draws=500,
    )  # fmt: skip
    pd.testing.assert_frame_equal(ex.result, direct.segments)
    pd.testing.assert_frame_equal(ex.tables["Top-down vs bottom-up"], direct.top_down)
    assert ex.texts["gap"].startswith("Top-down TAM $30.0B")
    # penetration uses the criteria that are customer columns (here both)
    pen = penetration(data, "2024-12-31", criteria=["industry", "region"], sizing=direct)
    pd.testing.assert_frame_equal(ex.tables["Penetration by segment"], pen.segments)
    # clearing the text box removes the range end again
    ex.controls["share_high"].value = ""
    assert ex.state["share_high"] is None


def test_errors_are_shown_not_raised(data: segwork.Dataset) -> None:
    ex = MarketExplorer(data, **FAST)
    good = ex.result.copy()
    ex.set(serviceable={"region": ["Mars"]})  # valid JSON, unknown value: compute fails
    assert ex.error is not None and "'Mars' not in the market" in ex.error
    pd.testing.assert_frame_equal(ex.result, good)
    assert "Mars" in ex.to_html()
    ex.controls["share_low"].value = "0.5"  # above the mode: the page says so
    assert "share_low <= share <= share_high" in ex.error
    ex.controls["serviceable"].value = "{not json"
    assert "not valid JSON" in ex.error
    with pytest.raises(ValueError, match="unknown parameter 'shares'"):
        ex.set(shares=0.1)
    with pytest.raises(ValueError, match="criteria: 'country' not allowed"):
        ex.set(criteria=["country"])
    with pytest.raises(ValueError, match="share must be between 0 and 1"):
        ex.set(share=2)
    ex.set(serviceable={})
    assert ex.error is None


def test_static_html(explorer: MarketExplorer) -> None:
    html = explorer.to_html()
    for heading in ("Market sizing", "Market segments", "TAM / SAM / SOM", "What moves SOM",
                    "Penetration by segment", "Ideal customer profile"):  # fmt: skip
        assert heading in html
    assert "segwork-marketexplorer-funnel" in html
    assert explorer.headline()["tam"] == pytest.approx(explorer.result["tam"].sum())


def test_serviceable_is_picked_from_the_markets_values(data: segwork.Dataset) -> None:
    """The SAM filter is a picker of the market criteria's values (JSON only for links): picking
    Europe gives the SAM of ``serviceable={"region": ["Europe"]}``."""
    ex = MarketExplorer(data, **FAST)
    picker = ex.controls["serviceable"]
    assert type(picker).__name__ == "ServiceablePicker"
    picker.add("region")
    picker.select("region", ["Europe"])
    assert ex.state["serviceable"] == {"region": ["Europe"]}
    direct = market_size(data, serviceable={"region": ["Europe"]}, n_draws=500)
    assert ex.result["sam"].sum() == pytest.approx(direct.segments["sam"].sum())
    assert picker.selected("region") == ("Europe",)


def test_first_date_alone_then_the_history_when_idle() -> None:
    """The market page's first render computes its as_of alone (no segment history: it costs
    more than one date); once prepared (the kernel idle after the page is shown) the history
    answers every other as_of, with the numbers of a page that never built it."""
    page = MarketExplorer(segwork.load_sample(), as_of="2024-12-31")
    assert not page.engine.reuse_across_dates
    assert not any(isinstance(k, HistoryPart) for k in page.engine.table_keys())
    # penetration's counts rolled up from the ideal customer profile's at the date: no query
    assert not any(isinstance(k, PenetrationCounts) for k in page.engine.table_keys())
    assert "Penetration by segment" in page.tables
    page.prepare()
    assert page.engine.reuse_across_dates
    assert any(isinstance(k, HistoryPart) for k in page.engine.table_keys())
    alone = MarketExplorer(segwork.load_sample(), as_of="2024-12-31")  # never prepared
    for day in ("2024-06-30", "2023-11-15"):
        page.set(as_of=day)
        alone.set(as_of=day)
        assert page.error is None and alone.error is None
        assert page.tables.keys() == alone.tables.keys()
        for title, table in page.tables.items():
            pd.testing.assert_frame_equal(table, alone.tables[title])
        assert page.texts == alone.texts
    assert not any(isinstance(k, HistoryPart) for k in alone.engine.table_keys())
