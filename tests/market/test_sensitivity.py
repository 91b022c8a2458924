"""Tests of the tornado table (docs/metrics.md "Sensitivity": the ranged assumptions ranked by how
far they move SOM).  Expected values are worked out by hand in the comments."""

from __future__ import annotations

import pandas as pd
import pytest

import segwork
from segwork.market import market_size, sensitivity
from segwork.market.sensitivity import TORNADO_COLUMNS


def constructed() -> pd.DataFrame:
    """One segment whose assumptions have known swings.

    accounts 900 / 1000 / 1100, ACV 500 / 1000 / 2000, growth 0 / 0.1 / 0.2 (horizon 1 year).
    """
    return pd.DataFrame(
        {
            "segment": ["all"],
            "accounts_low": [900],
            "accounts": [1000],
            "accounts_high": [1100],
            "acv_low": [500.0],
            "acv_mode": [1000.0],
            "acv_high": [2000.0],
            "growth_low": [0.0],
            "growth": [0.1],
            "growth_high": [0.2],
        }
    )


def test_tornado_order_on_a_constructed_case() -> None:
    # base SOM = 1000 x 1000 x 1.1 x 0.05 = 55,000 (every assumption at its mode)
    # acv:      500 -> 1000 x  500 x 1.1 x 0.05 = 27,500;  2000 -> 110,000; swing 82,500
    # share:   0.04 -> 1000 x 1000 x 1.1 x 0.04 = 44,000;  0.06 ->  66,000; swing 22,000
    # accounts: 900 ->  900 x 1000 x 1.1 x 0.05 = 49,500;  1100 ->  60,500; swing 11,000
    # growth:   0.0 -> 1000 x 1000 x 1.0 x 0.05 = 50,000;  0.2  ->  60,000; swing 10,000
    t = sensitivity(constructed(), share=(0.04, 0.05, 0.06), horizon_years=1)
    assert list(t.columns) == list(TORNADO_COLUMNS)
    assert t["assumption"].tolist() == ["acv", "share", "accounts", "growth"]
    assert t["som_base"].tolist() == pytest.approx([55_000.0] * 4)
    assert t["som_low"].tolist() == pytest.approx([27_500.0, 44_000.0, 49_500.0, 50_000.0])
    assert t["som_high"].tolist() == pytest.approx([110_000.0, 66_000.0, 60_500.0, 60_000.0])
    assert t["swing"].tolist() == pytest.approx([82_500.0, 22_000.0, 11_000.0, 10_000.0])
    # the assumption's own values are reported
    row = t.set_index("assumption").loc["acv"]
    assert (row["low"], row["mode"], row["high"]) == (500.0, 1000.0, 2000.0)
    # the base equals market_size's point SOM
    assert market_size(constructed(), share=(0.04, 0.05, 0.06), horizon_years=1,
                       n_draws=10).som == pytest.approx(55_000.0)  # fmt: skip


def test_point_assumptions_are_left_out_and_horizon_zero_kills_growth() -> None:
    # share is a point -> no share row; horizon 0 -> growth does not move SOM (swing 0, last)
    t = sensitivity(constructed(), share=0.05, horizon_years=0)
    assert t["assumption"].tolist() == ["acv", "accounts", "growth"]
    assert t.set_index("assumption").loc["growth", "swing"] == 0.0
    point = constructed()[["segment", "accounts", "acv_mode"]]
    empty = sensitivity(point)
    assert empty.empty and list(empty.columns) == list(TORNADO_COLUMNS)


def test_serviceable_and_top_down() -> None:
    market = pd.concat([constructed(), constructed().assign(segment="other")], ignore_index=True)
    # only "all" serviceable: same numbers as before
    t = sensitivity(market, serviceable={"segment": "all"}, share=(0.04, 0.05, 0.06),
                    horizon_years=1)  # fmt: skip
    assert t["swing"].tolist() == pytest.approx([82_500.0, 22_000.0, 11_000.0, 10_000.0])
    # top-down: stated total (1e6, 2e6, 4e6), serviceable share 0.5 stated, horizon 0, share 0.05
    # SOM = total x 0.5 x 0.05: low 25,000, base 50,000, high 100,000 -> swing 75,000;
    # share (0.04..0.06): 2e6 x 0.5 x 0.04 = 40,000 .. 60,000 -> swing 20,000;
    # accounts/ACV do not move it (the serviceable share is stated).
    t = sensitivity(
        market, method="top_down", horizon_years=0, share=(0.04, 0.05, 0.06),
        top_down={"total": (1e6, 2e6, 4e6), "serviceable_share": 0.5},
    )  # fmt: skip
    top = t.set_index("assumption")
    assert t["assumption"].iloc[0] == "top_down"
    assert (top.loc["top_down", "som_low"], top.loc["top_down", "som_high"]) == pytest.approx(
        (25_000.0, 100_000.0)
    )
    assert top.loc["share", "swing"] == pytest.approx(20_000.0)
    assert top.loc["acv", "swing"] == 0.0


def test_sample_tornado() -> None:
    t = sensitivity(segwork.load_sample(), share=(0.01, 0.03, 0.06))
    # ACV spans about 0.55x..2x of the mode and share 1/3x..2x: both move SOM, share most
    assert t["assumption"].tolist() == ["share", "acv"]
    assert (t["som_low"] < t["som_base"]).all() and (t["som_base"] < t["som_high"]).all()
    assert t["swing"].is_monotonic_decreasing


def test_errors() -> None:
    with pytest.raises(ValueError, match="unknown market criterion"):
        sensitivity(constructed(), criteria=["nope"])
    with pytest.raises(ValueError, match="needs a top_down figure"):
        sensitivity(constructed(), method="top_down")
