"""Keyword options that several public functions share, their defaults written once.

A function that takes "the same options as :func:`f`" declares them as a ``TypedDict`` (for type
checkers and readers) and reads them with :func:`bind_options`, which fills in ``f``'s defaults:
the defaults live in one signature only.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from typing import Any

__all__ = ["bind_options"]


def bind_options(
    function: Callable[..., Any],
    options: Mapping[str, Any],
    *,
    what: str,
    leading: int = 0,
    exclude: Collection[str] = (),
) -> dict[str, Any]:
    """Every keyword option of ``function`` from ``options``, its defaults filled in.

    Parameters
    ----------
    function
        The function whose signature holds the options and their defaults.
    options
        The options given, by name.
    what
        What the options are, for the error message ("market sizing", "segment table").
    leading
        How many leading parameters of ``function`` are not options (its data, its date, ...).
    exclude
        Further parameters of ``function`` that are not part of the shared options.

    Returns
    -------
    dict
        Option name -> value, for every option of ``function``.

    Raises
    ------
    TypeError
        An option ``function`` does not take, with the list of the ones it does.

    Examples
    --------
    >>> def f(data, *, size=3, colour="red"):
    ...     return data
    >>> bind_options(f, {"size": 5}, what="example", leading=1)
    {'size': 5, 'colour': 'red'}
    >>> bind_options(f, {"sise": 5}, what="example", leading=1)
    Traceback (most recent call last):
    ...
    TypeError: unknown example option 'sise'; the options are: size, colour
    """
    parameters = list(inspect.signature(function).parameters.values())[leading:]
    defaults = {p.name: p.default for p in parameters if p.name not in exclude}
    unknown = [n for n in options if n not in defaults]
    if unknown:
        raise TypeError(
            f"unknown {what} option {unknown[0]!r}; the options are: {', '.join(defaults)}"
        )
    missing = [n for n, d in defaults.items() if d is inspect.Parameter.empty and n not in options]
    if missing:
        raise TypeError(f"missing {what} option {missing[0]!r}")
    return {**defaults, **options}
