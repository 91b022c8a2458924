"""The environment variables segwork reads, in one place.

``segwork app`` and ``segwork report`` hand the data, its export format, its base currency and
the as-of date to the notebooks' kernels through the environment, so notebooks are never edited
to change them.  Every name is defined here and read through :func:`env`.
"""

from __future__ import annotations

import os

__all__ = [
    "AS_OF_ENV",
    "CURRENCY_ENV",
    "DATA_ENV",
    "FORMAT_ENV",
    "IOPUB_TIMEOUT_SECONDS",
    "env",
]

#: The data a notebook opens when its ``data`` parameter is empty (``segwork app --data``).
DATA_ENV = "SEGWORK_DATA"
#: The export format of ``SEGWORK_DATA`` (``--format``).
FORMAT_ENV = "SEGWORK_FORMAT"
#: The base currency of ``SEGWORK_DATA`` (``--base-currency``).
CURRENCY_ENV = "SEGWORK_BASE_CURRENCY"
#: The as-of date of the pages (``segwork app --as-of``); default: the data's last date.
AS_OF_ENV = "SEGWORK_AS_OF"

#: Seconds the app's pages (Voila) and the reports (papermill) wait for a cell's outputs after
#: its reply (nbclient's ``iopub_timeout``, default 4): past it the output is dropped, and with
#: it a page's widget, which a busy machine sends late.
IOPUB_TIMEOUT_SECONDS = 60


def env(name: str) -> str | None:
    """The value of the environment variable ``name``, stripped; None when unset or empty.

    >>> import os
    >>> os.environ["SEGWORK_FORMAT"] = " stripe "
    >>> env(FORMAT_ENV)
    'stripe'
    >>> del os.environ["SEGWORK_FORMAT"]
    >>> print(env(FORMAT_ENV))
    None
    """
    value = os.environ.get(name, "").strip()
    return value or None
