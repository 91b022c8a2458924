"""market_size and sensitivity take the same keywords with the same defaults (one documented set,
checked by :func:`segwork.market.options.check_options`)."""

from __future__ import annotations

import inspect

import pytest

from segwork.market import market_size, sensitivity
from segwork.market.options import check_options


def test_sensitivity_keywords_are_market_size_keywords() -> None:
    sizing = inspect.signature(market_size).parameters
    tornado = inspect.signature(sensitivity).parameters
    # currency only words the sentences, which the tornado table has none of
    assert [n for n in sizing if n != "currency"] == list(tornado)
    for name, param in tornado.items():
        assert param.default == sizing[name].default, name
        assert param.kind == sizing[name].kind, name


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
