"""The Voila page a kernel serves: whether it serves one (:func:`served_by_voila`) and the
query string of its URL (:func:`page_query`), read from the environment Voila sets.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import warnings

__all__ = ["page_query", "served_by_voila"]

#: Seconds one attempt to connect to Voila's request-info socket may take.
_CONNECT_SECONDS = 5
#: Seconds a preheated kernel keeps trying to connect.  A server busy with many pages can take
#: longer than one attempt to answer; a kernel that gave up would serve the next page request
#: without its link's query, silently showing the notebook's defaults.
_CONNECT_DEADLINE_SECONDS = 120


def served_by_voila() -> bool:
    """Whether this kernel serves a Voila page (Voila sets these in its kernels' environment)."""
    return bool(os.environ.get("VOILA_KERNEL_ID")) or "QUERY_STRING" in os.environ


def page_query() -> str:
    """The query string of the Voila page this kernel serves ("" outside Voila).

    A preheated kernel ran the notebook before any page was asked for: it waits here for the
    request (:func:`wait_for_request`) and then reads the query string Voila sent.
    """
    if not served_by_voila():
        return ""
    if os.environ.get("VOILA_PREHEAT", "False") != "False":
        wait_for_request()
    return os.environ.get("QUERY_STRING", "")


def wait_for_request() -> None:
    """Block until Voila hands this preheated kernel a page request; put the request's
    environment (``QUERY_STRING``, ``SERVER_NAME``, ...) in ``os.environ``.

    What ``voila.utils.wait_for_request`` does (one message on the websocket
    ``<server>voila/query/<kernel id>``), without importing the ``voila`` package in the kernel:
    that import pulls in the Jupyter server, 2 s of CPU in every preheated kernel.  Unlike it, a
    connection refused or not answered within :data:`_CONNECT_SECONDS` is tried again, until
    :data:`_CONNECT_DEADLINE_SECONDS`.
    """
    import websockets  # a dependency of voila, which is what runs this kernel

    protocol = os.environ.get("VOILA_WS_PROTOCOL", "ws")
    ip = os.environ.get("VOILA_APP_IP", "127.0.0.1")
    port = os.environ.get("VOILA_APP_PORT", "8866")
    base = os.environ.get("VOILA_WS_BASE_URL", os.environ.get("VOILA_SERVER_URL", "/"))
    url = f"{protocol}://{ip}:{port}{base}voila/query/{os.environ.get('VOILA_KERNEL_ID', '')}"
    received: list[str | bytes] = []

    async def receive() -> None:
        deadline = time.monotonic() + _CONNECT_DEADLINE_SECONDS
        while True:
            try:
                async with websockets.connect(url, open_timeout=_CONNECT_SECONDS) as socket:
                    received.append(await socket.recv())
                return
            except (TimeoutError, OSError):  # not answered (yet): try again until the deadline
                if time.monotonic() >= deadline:
                    warnings.warn(f"Failed to connect to {url}", stacklevel=2)
                    return
                await asyncio.sleep(min(1.0, _CONNECT_SECONDS))

    # on a thread of its own: the kernel's event loop is running this cell
    thread = threading.Thread(target=lambda: asyncio.run(receive()), daemon=True)
    thread.start()
    thread.join()
    if received:
        for key, value in json.loads(received[0]).items():
            os.environ[key] = value
