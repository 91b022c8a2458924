"""The Voila page a kernel serves: whether it serves one (:func:`served_by_voila`) and the
query string of its URL (:func:`page_query`), read from the environment Voila sets.
"""

from __future__ import annotations

import os

__all__ = ["page_query", "served_by_voila"]


def served_by_voila() -> bool:
    """Whether this kernel serves a Voila page (Voila sets these in its kernels' environment)."""
    return bool(os.environ.get("VOILA_KERNEL_ID")) or "QUERY_STRING" in os.environ


def page_query() -> str:
    """The query string of the Voila page this kernel serves ("" outside Voila)."""
    if not served_by_voila():
        return ""
    if os.environ.get("VOILA_PREHEAT", "False") != "False":
        from voila.utils import get_query_string  # blocks until the page is requested

        return get_query_string() or ""
    return os.environ.get("QUERY_STRING", "")
