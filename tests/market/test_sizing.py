"""Tests of market_size (docs/metrics.md "Market sizing", "Market ranges and Monte Carlo").

Expected values are worked out by hand; the arithmetic is in the comments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import segwork
from segwork.market import market_size
from segwork.market import montecarlo as sizing_module
from segwork.market.sizing import MEASURES, TOTALS_COLUMNS, money


def three_segments() -> pd.DataFrame:
    """region x industry, accounts and a point ACV; growth per segment.

    TAM per segment = accounts x acv:
      Europe / software: 100 x 1000 = 100,000   (growth 10 %)
      Europe / retail:   200 x  500 = 100,000   (growth  0 %)
      Asia   / software:  50 x 2000 = 100,000   (growth 20 %)
    """
    return pd.DataFrame(
        {
            "region": ["Europe", "Europe", "Asia"],
            "industry": ["software", "retail", "software"],
            "accounts": [100, 200, 50],
            "acv": [1000.0, 500.0, 2000.0],
            "growth": [0.10, 0.0, 0.20],
        }
    )


def totals(m: segwork.market.MarketSize, col: str = "point") -> dict[str, float]:
    return dict(zip(m.totals["measure"], m.totals[col], strict=True))


# -- hand-worked TAM / SAM / SOM --------------------------------------------------------------------
def test_tam_sam_som_by_hand() -> None:
    # docs/metrics.md "Market sizing": TAM = sum over market segments of accounts x ACV (bottom-up)
    # TAM = 100,000 + 100,000 + 100,000 = 300,000
    # SAM = the TAM of the serviceable segments
    # serviceable = Europe -> SAM = 100,000 + 100,000 = 200,000
    # SOM = SAM x share (the share obtainable within the horizon); horizon 0 -> no growth:
    # SOM = 200,000 x 0.1 = 20,000
    m = market_size(three_segments(), serviceable={"region": "Europe"}, share=0.1, horizon_years=0)
    assert totals(m) == pytest.approx({"TAM": 300_000.0, "SAM": 200_000.0, "SOM": 20_000.0})
    # no range: mean, P10, P50, P90 are the point and there is no Monte Carlo
    for col in ("mean", "p10", "p50", "p90"):
        assert totals(m, col) == totals(m)
    assert m.draws is None and not m.has_ranges
    assert list(m.totals.columns) == list(TOTALS_COLUMNS)
    assert m.totals["measure"].tolist() == list(MEASURES)
    assert (m.tam, m.sam, m.som) == pytest.approx((300_000.0, 200_000.0, 20_000.0))
    seg = m.segments
    assert list(seg.columns) == [
        "region", "industry", "accounts", "acv", "growth", "tam", "serviceable", "sam", "som",
    ]  # fmt: skip
    # sorted by SAM desc, TAM desc, criteria: the two Europe rows (retail < software), then Asia
    assert seg[["region", "industry"]].values.tolist() == [
        ["Europe", "retail"], ["Europe", "software"], ["Asia", "software"],
    ]  # fmt: skip
    assert seg["accounts"].dtype == "int64"
    assert seg["accounts"].tolist() == [200, 100, 50]
    assert seg["tam"].tolist() == [100_000.0] * 3
    assert seg["serviceable"].tolist() == [True, True, False]
    assert seg["sam"].tolist() == [100_000.0, 100_000.0, 0.0]
    assert seg["som"].tolist() == pytest.approx([10_000.0, 10_000.0, 0.0])


def test_som_grows_over_the_horizon() -> None:
    # segwork's convention (docstring): SOM = sum over serviceable segments of TAM x (1+g)^h x share
    # Europe, h = 2, share 0.1:
    #   software 100,000 x 1.1^2 = 121,000; retail 100,000 x 1.0^2 = 100,000
    #   SOM = 0.1 x 221,000 = 22,100; TAM and SAM stay today's values.
    m = market_size(
        three_segments(), serviceable={"region": ["Europe"]}, share=0.1, horizon_years=2
    )
    assert totals(m) == pytest.approx({"TAM": 300_000.0, "SAM": 200_000.0, "SOM": 22_100.0})
    seg = m.segments.set_index(["region", "industry"])
    assert seg.loc[("Europe", "software"), "som"] == pytest.approx(12_100.0)
    assert seg.loc[("Europe", "retail"), "som"] == pytest.approx(10_000.0)
    assert seg.loc[("Asia", "software"), "som"] == 0.0


def test_criteria_aggregate_rows() -> None:
    # criteria = region: Europe = 300 accounts, TAM 200,000, ACV 200,000 / 300 = 666.67
    # (accounts-weighted); Asia = 50 accounts, TAM 100,000, ACV 2,000.
    # serviceable software only is not possible now (industry is no criterion) -> error below.
    m = market_size(three_segments(), criteria="region", share=0.1, horizon_years=0)
    seg = m.segments.set_index("region")
    assert seg.loc["Europe", "accounts"] == 300
    assert seg.loc["Europe", "acv"] == pytest.approx(200_000 / 300)
    assert seg.loc["Asia", "acv"] == pytest.approx(2000.0)
    # growth shown TAM-weighted: Europe (100,000 x 0.1 + 100,000 x 0) / 200,000 = 0.05
    assert seg.loc["Europe", "growth"] == pytest.approx(0.05)
    assert totals(m)["TAM"] == pytest.approx(300_000.0)
    with pytest.raises(ValueError, match="not one of them: region"):
        market_size(three_segments(), criteria="region", serviceable={"industry": "software"})


def test_serviceable_list_and_several_columns() -> None:
    # software in Europe or Asia: 100,000 + 100,000 = 200,000; software & Asia: 100,000
    m = market_size(three_segments(), serviceable={"industry": ["software"]}, horizon_years=0)
    assert m.sam == pytest.approx(200_000.0)
    m = market_size(
        three_segments(), serviceable={"industry": "software", "region": "Asia"}, horizon_years=0
    )
    assert m.sam == pytest.approx(100_000.0)


def test_price_and_acv_range_columns() -> None:
    # `price` is read as the ACV; with acv_low/acv_mode/acv_high the mode gives the point
    price = three_segments().rename(columns={"acv": "price"})
    assert market_size(price, horizon_years=0).tam == pytest.approx(300_000.0)
    ranged = three_segments().rename(columns={"acv": "acv_mode"})
    ranged["acv_low"] = ranged["acv_mode"] * 0.5
    ranged["acv_high"] = ranged["acv_mode"] * 2
    m = market_size(ranged, horizon_years=0, n_draws=500)
    assert m.tam == pytest.approx(300_000.0)
    assert m.has_ranges and m.draws is not None and len(m.draws) == 500
    assert {"tam_p10", "tam_p50", "tam_p90", "sam_p50", "som_p90"} <= set(m.segments.columns)


def test_acv_scale() -> None:
    # what-if: ACV x 1.5 -> TAM 450,000
    assert market_size(three_segments(), acv_scale=1.5).tam == pytest.approx(450_000.0)


# -- top-down ---------------------------------------------------------------------------------------
def test_top_down_side_by_side() -> None:
    # docs/metrics.md "Market sizing": top-down from a stated total market, beside bottom-up
    # stated 400,000; serviceable share from bottom-up = 200,000 / 300,000 = 2/3
    # td SAM = 266,666.67; td SOM = 266,666.67 x 0.1 = 26,666.67 (horizon 0)
    m = market_size(
        three_segments(), serviceable={"region": "Europe"}, share=0.1, horizon_years=0,
        top_down=400_000,
    )  # fmt: skip
    td = m.top_down.set_index("measure")
    assert td.loc["TAM", "bottom_up"] == pytest.approx(300_000.0)
    assert td.loc["TAM", "top_down"] == pytest.approx(400_000.0)
    assert td.loc["TAM", "gap"] == pytest.approx(100_000.0)
    assert td.loc["TAM", "gap_pct"] == pytest.approx(1 / 3)
    assert td.loc["SAM", "top_down"] == pytest.approx(800_000 / 3)
    assert td.loc["SOM", "top_down"] == pytest.approx(80_000 / 3)
    assert "Top-down TAM $400.0k" in m.gap_sentence
    assert "$100.0k (33%) above the bottom-up TAM $300.0k" in m.gap_sentence
    # with a stated serviceable share of 0.5: td SAM = 200,000, td SOM = 20,000
    m = market_size(
        three_segments(), serviceable={"region": "Europe"}, share=0.1, horizon_years=0,
        top_down={"total": 400_000, "serviceable_share": 0.5, "source": "analyst report"},
        method="top_down",
    )  # fmt: skip
    assert totals(m) == pytest.approx({"TAM": 400_000.0, "SAM": 200_000.0, "SOM": 20_000.0})
    assert "analyst report" in m.gap_sentence


def test_no_top_down() -> None:
    m = market_size(three_segments())
    assert m.top_down.empty and list(m.top_down.columns) == [
        "measure", "bottom_up", "top_down", "gap", "gap_pct",
    ]  # fmt: skip
    assert m.gap_sentence.startswith(
        "No top-down figure given: the bottom-up TAM at the assumptions' modes (point estimate) "
        "is $300.0k"
    )


# -- Monte Carlo ------------------------------------------------------------------------------------
def ranged_market(n: int = 1) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": [f"s{i}" for i in range(n)],
            "accounts": [1000] * n,
            "acv_low": [50.0] * n,
            "acv_mode": [100.0] * n,
            "acv_high": [150.0] * n,
        }
    )


def test_monte_carlo_reproducible() -> None:
    # docs/metrics.md "Market ranges and Monte Carlo": seeded, identical seeds -> identical results
    market = three_segments().rename(columns={"acv": "acv_mode"})
    market["acv_low"] = market["acv_mode"] * 0.6
    market["acv_high"] = market["acv_mode"] * 1.8
    kw: dict[str, Any] = {
        "share": (0.02, 0.05, 0.1), "n_draws": 2000, "serviceable": {"region": "Europe"},
    }  # fmt: skip
    a, b = market_size(market, **kw, random_state=7), market_size(market, **kw, random_state=7)
    pd.testing.assert_frame_equal(a.totals, b.totals)
    pd.testing.assert_frame_equal(a.segments, b.segments)
    assert a.draws is not None and b.draws is not None
    pd.testing.assert_frame_equal(a.draws, b.draws)
    c = market_size(market, **kw, random_state=8)
    assert c.draws is not None
    assert not np.allclose(a.draws["som"], c.draws["som"])
    # input row order does not matter (rows are drawn in a canonical order)
    d = market_size(market.iloc[::-1], **kw, random_state=7)
    pd.testing.assert_frame_equal(a.totals, d.totals)


def test_chunking_does_not_change_draws(monkeypatch: pytest.MonkeyPatch) -> None:
    market = ranged_market(7)
    kw: dict[str, Any] = {"n_draws": 300, "correlation": "independent", "random_state": 3}
    whole = market_size(market, **kw)
    monkeypatch.setattr(sizing_module, "_CHUNK_CELLS", 600)  # 2 rows per chunk
    chunked = market_size(market, **kw)
    pd.testing.assert_frame_equal(whole.totals, chunked.totals)
    pd.testing.assert_frame_equal(whole.segments, chunked.segments)


def test_p50_approaches_the_analytic_median_on_a_symmetric_triangle() -> None:
    # ACV ~ Triangular(50, 100, 150), accounts 1000 (point): TAM median = mean = 100 x 1000
    # = 100,000.  P10: F(x) = (x - 50)^2 / (100 x 50) = 0.1 -> x = 50 + sqrt(500) = 72.36
    # -> TAM P10 = 72,361; P90 by symmetry = 127,639.  Standard error of the sample median
    # with 20,000 draws: 1 / (2 f(m) sqrt(n)) = 1 / (2 x 0.02 x 141.4) = 0.18 (ACV) = 0.18 %.
    m = market_size(ranged_market(), n_draws=20_000, random_state=1, horizon_years=0)
    t = m.totals.set_index("measure")
    assert t.loc["TAM", "p50"] == pytest.approx(100_000, rel=0.01)
    assert t.loc["TAM", "mean"] == pytest.approx(100_000, rel=0.01)
    assert t.loc["TAM", "p10"] == pytest.approx(50_000 + 1000 * 500**0.5, rel=0.015)
    assert t.loc["TAM", "p90"] == pytest.approx(150_000 - 1000 * 500**0.5, rel=0.015)
    # the point (every assumption at its mode) is the mode
    assert t.loc["TAM", "point"] == 100_000
    # PERT on the same symmetric range has the same median and a narrower spread
    p = market_size(ranged_market(), n_draws=5000, distribution="pert", horizon_years=0)
    tp = p.totals.set_index("measure")
    assert tp.loc["TAM", "p50"] == pytest.approx(100_000, rel=0.01)
    assert tp.loc["TAM", "p90"] - tp.loc["TAM", "p10"] < t.loc["TAM", "p90"] - t.loc["TAM", "p10"]


def test_shared_draws_are_wider_than_independent() -> None:
    # 10 identical segments: with a shared draw all ACVs move together (TAM spread x 10),
    # independent draws partly cancel (spread x sqrt(10)).
    market = ranged_market(10)
    shared = market_size(market, n_draws=4000).totals.set_index("measure")
    indep = market_size(market, n_draws=4000, correlation="independent").totals.set_index("measure")
    spread_s = shared.loc["TAM", "p90"] - shared.loc["TAM", "p10"]
    spread_i = indep.loc["TAM", "p90"] - indep.loc["TAM", "p10"]
    assert spread_s / spread_i == pytest.approx(10**0.5, rel=0.15)
    # a segment's own percentiles do not depend on the correlation
    a, b = (
        market_size(market, n_draws=4000),
        market_size(market, n_draws=4000, correlation="independent"),
    )
    assert a.segments["tam_p50"].to_numpy() == pytest.approx(
        b.segments["tam_p50"].to_numpy(), rel=0.03
    )


def test_share_range_only_moves_som() -> None:
    # share ~ Triangular(0.02, 0.05, 0.08) (symmetric): SOM P50 ~ SAM x 0.05, TAM fixed
    m = market_size(three_segments(), share=(0.02, 0.05, 0.08), horizon_years=0, n_draws=8000)
    t = m.totals.set_index("measure")
    assert t.loc["TAM", "p10"] == t.loc["TAM", "p90"] == pytest.approx(300_000.0)
    assert t.loc["SOM", "p50"] == pytest.approx(15_000.0, rel=0.02)
    assert t.loc["SOM", "p10"] < 15_000 < t.loc["SOM", "p90"]


def test_sample_market_140_segments_by_10k_draws() -> None:
    # the synthetic sample: 7 industries x 5 size bands x 4 regions = 140 segments, ACV ranges
    data = segwork.load_sample()
    m = market_size(data, n_draws=10_000, serviceable={"region": ["Europe", "North America"]},
                    share=0.03)  # fmt: skip
    assert len(m.segments) == 140 and m.draws is not None and len(m.draws) == 10_000
    market = data.to_pandas("market")
    tam = float((market["accounts"] * market["acv_mode"]).sum())
    assert m.tam == pytest.approx(tam)
    sam = market["region"].isin(["Europe", "North America"])
    assert m.sam == pytest.approx(float((market["accounts"] * market["acv_mode"])[sam].sum()))
    t = m.totals.set_index("measure")
    assert (t["p10"] <= t["p50"]).all() and (t["p50"] <= t["p90"]).all()
    # segment SAM P50 add up to no more than... (percentiles do not add); the point ones do:
    assert m.segments["sam"].sum() == pytest.approx(m.sam)
    assert m.segments["som"].sum() == pytest.approx(m.som)


# -- errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"criteria": ["country"]}, "unknown market criterion 'country'.*region, industry"),
        ({"criteria": ["accounts"]}, "assumption column"),
        ({"serviceable": {"region": "Mars"}}, "'Mars' not in the market; values are: 'Asia'"),
        ({"serviceable": {"region": []}}, r"empty list, which would make SAM 0.*'Asia'"),
        ({"share": 1.5}, r"share must lie in \[0, 1\]"),
        ({"share": (0.1, 0.05, 0.2)}, "low <= mode <= high"),
        ({"share": "a lot"}, "share must be a number"),
        ({"method": "top_down"}, "needs a top_down figure"),
        ({"method": "sideways"}, "method must be one of"),
        ({"n_draws": 0}, "n_draws must be an integer >= 1"),
        ({"distribution": "normal"}, "distribution must be one of"),
        ({"horizon_years": -1}, "horizon_years must be a number >= 0"),
        ({"acv_scale": 0}, "acv_scale must be a number > 0"),
    ],
)
def test_bad_calls(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        market_size(three_segments(), **kwargs)


def test_bad_tables() -> None:
    with pytest.raises(ValueError, match="needs a 'acv_mode' or 'acv' or 'price' column"):
        market_size(three_segments().drop(columns="acv"))
    bad = three_segments()
    bad.loc[0, "accounts"] = -1
    with pytest.raises(ValueError, match="accounts must be >= 0"):
        market_size(bad)
    bad = three_segments().rename(columns={"acv": "acv_mode"})
    bad["acv_low"] = [2000.0, 100.0, 100.0]
    with pytest.raises(ValueError, match="low <= mode <= high"):
        market_size(bad)
    with pytest.raises(ValueError, match="market table is empty"):
        market_size(three_segments().iloc[:0])
    with pytest.raises(ValueError, match="must be a pandas DataFrame"):
        market_size([1, 2, 3])


def test_dataset_and_ibis_inputs() -> None:
    # (a market-only load is refused by segwork.load today, so one customer comes along)
    customers = pd.DataFrame({"customer_id": [1], "signup_date": ["2024-01-01"]})
    frames = {"customers": customers, "market": three_segments()}
    data = segwork.load(frames)
    a = market_size(data, horizon_years=0)
    b = market_size(data.table("market"), horizon_years=0)
    c = market_size(three_segments(), horizon_years=0)
    pd.testing.assert_frame_equal(a.totals, c.totals)
    pd.testing.assert_frame_equal(b.totals, c.totals)


def test_money() -> None:
    assert [money(v) for v in (18.9e9, 350.2e6, 12_300, 950, float("nan"), -2e6)] == [
        "$18.9B", "$350.2M", "$12.3k", "$950", "n/a", "-$2.0M",
    ]  # fmt: skip


# -- properties -------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["x", "y"]),
            st.integers(0, 10_000),
            st.floats(0, 1e5),
        ),
        min_size=1,
        max_size=12,
    ),
    st.floats(0, 1),
)
def test_point_identities(rows: list, share: float) -> None:
    # docs/metrics.md "Market sizing": TAM = sum accounts x ACV; SAM <= TAM; SOM = SAM x share
    # (no growth column); the totals do not depend on how segments are defined.
    market = pd.DataFrame(rows, columns=["k1", "k2", "accounts", "acv"])
    tam = float((market["accounts"] * market["acv"]).sum())
    full = market_size(market, share=share, serviceable={"k2": "x"} if "x" in set(market["k2"])
                       else None)  # fmt: skip
    coarse = market_size(market, criteria=["k1"], share=share)
    assert full.tam == pytest.approx(tam) and coarse.tam == pytest.approx(tam)
    assert full.sam <= full.tam * (1 + 1e-12) + 1e-9
    assert full.som == pytest.approx(full.sam * share)
    assert coarse.segments["accounts"].sum() == market["accounts"].sum()


def test_each_figure_names_its_estimate() -> None:
    """issue 24: "TAM $21.9B" next to "bottom-up TAM is $18.9B" read as a contradiction. Each
    figure of the sentences says which estimate it is: the Monte Carlo median (with its P10-P90)
    or the point estimate with every assumption at its mode, and one name never carries two
    numbers."""
    ranged = three_segments().rename(columns={"acv": "acv_mode"})
    ranged["acv_low"] = ranged["acv_mode"] * 0.5
    ranged["acv_high"] = ranged["acv_mode"] * 3  # skewed: the median is above the mode
    m = market_size(ranged, share=0.1, horizon_years=0, n_draws=2_000, random_state=1)
    p50, point = totals(m, "p50"), totals(m)
    assert p50["TAM"] > 1.1 * point["TAM"]  # two different numbers ...
    medians, points = m.sentence.split("; point estimates (assumptions at their modes): ")
    assert medians.startswith(f"Monte Carlo medians: TAM {money(p50['TAM'])} (P10-P90 ")
    assert points.startswith(  # ... each under its own name
        f"TAM {money(point['TAM'])}, SAM {money(point['SAM'])}, SOM {money(point['SOM'])} "
    )
    assert "at the assumptions' modes (point estimate) is " + money(point["TAM"]) in (
        m.gap_sentence
    )
    plain = market_size(three_segments(), share=0.1, horizon_years=0)
    assert plain.sentence.startswith("Point estimates: TAM $300.0k, SAM $300.0k, SOM $30.0k")
    assert "Monte Carlo" not in plain.sentence
