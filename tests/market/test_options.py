"""market_size and sensitivity take the same keywords with the same defaults (one documented set,
checked by :func:`segwork.market.options.check_options`)."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

from segwork.market import market_size, sensitivity
from segwork.market.options import SizingOptions, check_options
from segwork.market.sizing import sizing_arguments


def test_sensitivity_keywords_are_market_size_keywords() -> None:
    """sensitivity takes market_size's options (SizingOptions) with market_size's defaults; an
    unknown one is named."""
    sizing = inspect.signature(market_size).parameters
    # currency only words the sentences, which the tornado table has none of
    assert [n for n in sizing if n not in ("market", "currency")] == list(
        SizingOptions.__annotations__
    )
    args = sizing_arguments("m", {"share": 0.1})
    assert args == {n: p.default for n, p in sizing.items() if n != "currency"} | {
        "market": "m", "share": 0.1,
    }  # fmt: skip
    with pytest.raises(TypeError, match="unknown market sizing option 'shares'"):
        sensitivity(pd.DataFrame(), shares=0.1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": "sideways"}, "method must be one of"),
        ({"method": "top_down", "top_down": None}, "needs a top_down figure"),
        ({"n_draws": 0}, "n_draws must be an integer"),
        ({"random_state": -1}, "random_state must be an integer"),
        ({"distribution": "normal"}, "distribution must be one of"),
        ({"correlation": "some"}, "correlation must be one of"),
    ],
)
def test_check_options_names_the_bad_option(options: dict, message: str) -> None:
    args = {
        "method": "bottom_up", "top_down": None, "n_draws": 10, "random_state": 0,
        "distribution": "triangular", "correlation": "shared",
    } | options  # fmt: skip
    with pytest.raises(ValueError, match=message):
        check_options(**args)
