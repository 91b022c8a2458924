"""The options of :func:`segwork.market.market_size` and :func:`segwork.market.sensitivity`
beyond the assumptions: method, Monte Carlo settings, and their checks."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypedDict

from segwork.market.assumptions import Triple

__all__ = ["Correlation", "Distribution", "Method", "SizingOptions", "check_options"]

Distribution = Literal["triangular", "pert"]
Correlation = Literal["shared", "independent"]
Method = Literal["bottom_up", "top_down"]


class SizingOptions(TypedDict, total=False):
    """The keyword arguments of :func:`segwork.market.market_size` after the market, but the
    currency: what :func:`segwork.market.sensitivity` takes too (their defaults are
    ``market_size``'s)."""

    criteria: str | Sequence[str] | None
    serviceable: Mapping[str, Any] | None
    share: Triple
    horizon_years: float
    method: Method
    top_down: Triple | Mapping[str, Any] | None
    n_draws: int
    random_state: int
    distribution: Distribution
    correlation: Correlation
    acv_scale: float


def check_options(
    method: Any, top_down: Any, n_draws: Any, random_state: Any, distribution: Any,
    correlation: Any,
) -> None:  # fmt: skip
    """Check the options shared by market_size and sensitivity.

    Parameters
    ----------
    method, top_down, n_draws, random_state, distribution, correlation
        As in :func:`segwork.market.market_size`.

    Raises
    ------
    ValueError
        An unknown method, distribution or correlation, ``method="top_down"`` without a
        ``top_down`` figure, or ``n_draws`` / ``random_state`` not a whole number in range.
    """
    if method not in ("bottom_up", "top_down"):
        raise ValueError(f"method must be one of 'bottom_up', 'top_down', got {method!r}")
    if method == "top_down" and top_down is None:
        raise ValueError("method='top_down' needs a top_down figure (the stated total market)")
    if not isinstance(n_draws, numbers.Integral) or isinstance(n_draws, bool) or n_draws < 1:
        raise ValueError(f"n_draws must be an integer >= 1, got {n_draws!r}")
    if (
        not isinstance(random_state, numbers.Integral)
        or isinstance(random_state, bool)
        or random_state < 0
    ):
        raise ValueError(f"random_state must be an integer >= 0, got {random_state!r}")
    if distribution not in ("triangular", "pert"):
        raise ValueError(f"distribution must be one of 'triangular', 'pert', got {distribution!r}")
    if correlation not in ("shared", "independent"):
        raise ValueError(f"correlation must be one of 'shared', 'independent', got {correlation!r}")
