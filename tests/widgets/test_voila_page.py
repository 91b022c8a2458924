"""How a kernel learns the page it serves (segwork.widgets.voila_page): outside Voila, served
without preheating, and preheated (it waits for Voila's request message on a websocket)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import threading

import pytest

from segwork.widgets.voila_page import page_query, served_by_voila

VOILA_VARS = ("VOILA_KERNEL_ID", "QUERY_STRING", "VOILA_PREHEAT", "VOILA_APP_PORT",
              "VOILA_APP_IP", "VOILA_WS_BASE_URL", "VOILA_SERVER_URL", "SERVER_NAME")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Voila variable before the test, and none left after it (page_query sets the
    request's variables itself; setenv records that they were absent)."""
    for name in VOILA_VARS:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def test_outside_voila_there_is_no_query() -> None:
    assert not served_by_voila() and page_query() == ""


def test_a_kernel_started_for_its_page_reads_the_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOILA_KERNEL_ID", "k1")
    monkeypatch.setenv("QUERY_STRING", "by=%5B%22plan%22%5D")
    assert served_by_voila() and page_query() == "by=%5B%22plan%22%5D"


def test_a_preheated_kernel_waits_for_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    """Voila sends the request's environment as one JSON message on
    ``ws://<ip>:<port><base>voila/query/<kernel id>``; the kernel waits for it, then reads it
    (without importing the voila package, whose import costs a kernel 2 s)."""
    websockets = pytest.importorskip("websockets")
    from websockets.asyncio.server import serve

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    paths: list[str] = []
    ready = threading.Event()
    message = {"QUERY_STRING": "by=%5B%22region%22%5D", "SERVER_NAME": "example"}

    async def handler(ws: websockets.asyncio.server.ServerConnection) -> None:
        paths.append(ws.request.path)
        await ws.send(json.dumps(message))

    async def main() -> None:
        async with serve(handler, "127.0.0.1", port):
            ready.set()
            while not paths:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)

    server = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    server.start()
    assert ready.wait(30)
    for name, value in {"VOILA_KERNEL_ID": "abc", "VOILA_PREHEAT": "True",
                        "VOILA_APP_IP": "127.0.0.1", "VOILA_APP_PORT": str(port),
                        "VOILA_SERVER_URL": "/"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(sys.modules, "voila", None)  # an import of voila would fail
    assert page_query() == "by=%5B%22region%22%5D"
    assert paths == ["/voila/query/abc"]
    assert os.environ["SERVER_NAME"] == "example"
    server.join(30)


def test_a_preheated_kernel_tries_again_until_the_server_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Voila server busy with many pages may answer the request-info socket late (or not be
    listening yet): the kernel tries again, so the page it serves gets its link's query instead
    of the notebook's defaults (seen with ten sessions at once on two cores)."""
    websockets = pytest.importorskip("websockets")
    from websockets.asyncio.server import serve

    import segwork.widgets.voila_page as voila_page

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    asked = threading.Event()

    async def handler(ws: websockets.asyncio.server.ServerConnection) -> None:
        await ws.send(json.dumps({"QUERY_STRING": "by=%5B%22plan%22%5D"}))
        asked.set()

    async def main() -> None:
        await asyncio.sleep(1.5)  # nothing listens yet: the first attempts are refused
        async with serve(handler, "127.0.0.1", port):
            while not asked.is_set():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)

    server = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    server.start()
    for name, value in {"VOILA_KERNEL_ID": "abc", "VOILA_PREHEAT": "True",
                        "VOILA_APP_IP": "127.0.0.1", "VOILA_APP_PORT": str(port),
                        "VOILA_SERVER_URL": "/"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(voila_page, "_CONNECT_SECONDS", 0.2)
    monkeypatch.setitem(sys.modules, "voila", None)
    assert page_query() == "by=%5B%22plan%22%5D"
    server.join(30)
