"""The web server behind ``segwork app``: Voila with a guard in front of every request.

``segwork app`` runs ``python -m segwork.server <options>``: Voila's own server, its options
(``--Voila.ip``, ``--port``, ...) unchanged, plus :class:`Guard`, which sees every request before
Voila does and refuses

- a ``Host`` header that is not the address served (DNS rebinding: a foreign web page whose name
  resolves to 127.0.0.1 must not read the pages), with 403, over HTTP and websocket alike;
- a page request made by another site's page that is not a navigation (an ``<img>``, a script
  or a fetch: each would start a kernel), with 403;
- a page view past ``max_sessions`` kernels in use, with a friendly 503 "busy" page (and
  ``Retry-After``), so page views cannot grow the kernels and their memory without bound;
- paths with a NUL byte, ``/login``, ``/logout`` and the folder listings, with 404 (``/``
  redirects to the landing page).

It also makes the browser's shutdown-on-close work: the page's unload beacon sends the
``_xsrf`` cookie, which Voila never set, so the shutdown was refused (403) and the kernel lived
until the idle cull; :class:`PageHandler` sets the cookie.  The notebooks are served read-only.
"""

from __future__ import annotations

import html
import inspect
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tornado.web
from jupyter_server.services.contents.largefilemanager import LargeFileManager
from tornado.httputil import HTTPServerRequest, split_host_and_port
from traitlets import Int, List, Unicode
from voila.app import Voila
from voila.tornado.handler import TornadoVoilaHandler

__all__ = [
    "BUSY_RETRY_SECONDS",
    "Guard",
    "PageHandler",
    "SegworkVoila",
    "main",
    "template_root",
]

#: Seconds a visitor refused as busy is asked to wait (``Retry-After``; the page reloads then).
BUSY_RETRY_SECONDS = 60
#: Host names that always mean this machine (answered with the port served).
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")
RENDER_PATH = re.compile(r"^/voila/render/")
#: Marks a page request counted by :meth:`Guard.admit`.
ADMITTED = "segwork_admitted"
NOT_SERVED = re.compile(r"^/(login|logout|voila/tree)(/|$)")

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:5rem auto;color:#222}}
h1{{font-size:1.4rem}}</style></head>
<body><h1>{title}</h1><p>{message}</p></body></html>
"""


def _page(title: str, message: str, head: str = "") -> str:
    return _PAGE.format(title=html.escape(title), message=message, head=head)


class RefusedHandler(tornado.web.RequestHandler):
    """Answers any request with ``status`` and a short page (nothing else runs)."""

    def initialize(self, status: int, title: str, message: str, retry_after: int = 0) -> None:
        self.status, self.title, self.message, self.retry_after = (
            status,
            title,
            message,
            retry_after,
        )

    def prepare(self) -> None:
        self.set_status(self.status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        head = ""
        if self.retry_after:
            self.set_header("Retry-After", str(self.retry_after))
            head = f'<meta http-equiv="refresh" content="{self.retry_after}">'
        self.finish(_page(self.title, self.message, head))

    def check_xsrf_cookie(self) -> None:  # a refusal has nothing to protect
        return None


class Guard:
    """The rules every request passes before Voila sees it (see the module docstring).

    Parameters
    ----------
    port : int
        The port served: a loopback ``Host`` must name it.
    allow_hosts : iterable of str
        Further host names (or addresses) the app answers to, on any port (a reverse proxy's
        name, the machine's name on the network).
    max_sessions : int
        Page kernels in use at most; 0 means no bound.

    Examples
    --------
    >>> guard = Guard(port=8866, allow_hosts=["analytics.example.com"])
    >>> [guard.host_allowed(h) for h in ("127.0.0.1:8866", "localhost:8866", "[::1]:8866")]
    [True, True, True]
    >>> [guard.host_allowed(h) for h in ("evil.example:8866", "127.0.0.1:9999", "")]
    [False, False, False]
    >>> guard.host_allowed("analytics.example.com")
    True
    """

    def __init__(self, port: int, allow_hosts: Iterable[str] = (), max_sessions: int = 0) -> None:
        self.port = port
        self.allow_hosts = {h.lower().strip() for h in allow_hosts if h.strip()}
        self.max_sessions = max_sessions
        #: page requests admitted and not finished (their kernel may not be counted yet)
        self.rendering = 0

    def host_allowed(self, host: str) -> bool:
        """Whether a request's ``Host`` header names this app."""
        host = host.lower().strip()
        if not host:
            return False
        name, port = split_host_and_port(host)
        if name in self.allow_hosts or host in self.allow_hosts:
            return True
        return name in LOOPBACK_NAMES and port == self.port

    def admit(self, request: HTTPServerRequest) -> None:
        """Count a page request served from now until :meth:`release` (its kernel may not be
        started yet; counting at admission keeps a burst of requests within the bound)."""
        if RENDER_PATH.match(request.path) and not getattr(request, ADMITTED, False):
            setattr(request, ADMITTED, True)
            self.rendering += 1

    def release(self, request: HTTPServerRequest) -> None:
        """The page request is answered (or its connection closed): no longer rendering."""
        if getattr(request, ADMITTED, False):
            setattr(request, ADMITTED, False)
            self.rendering -= 1

    @staticmethod
    def cross_site_subresource(request: HTTPServerRequest) -> bool:
        """A request another site's page made without navigating (``<img>``, script, fetch)."""
        site = request.headers.get("Sec-Fetch-Site", "")
        mode = request.headers.get("Sec-Fetch-Mode", "")
        return site in ("cross-site", "same-site") and mode not in ("navigate", "")

    def refusal(self, request: HTTPServerRequest, sessions: int) -> dict[str, Any] | None:
        """The refusal (``RefusedHandler`` arguments) for ``request``, or None to serve it.

        ``sessions`` is the number of page kernels in use now.
        """
        path = request.path
        if not self.host_allowed(request.host or ""):
            return {
                "status": 403,
                "title": "Forbidden",
                "message": "This app answers only to the address it is served on.",
            }
        if "\x00" in path or "%00" in path.lower() or NOT_SERVED.match(path):
            return {"status": 404, "title": "Not found", "message": "There is no such page."}
        if RENDER_PATH.match(path):
            if self.cross_site_subresource(request):
                return {
                    "status": 403,
                    "title": "Forbidden",
                    "message": "Pages of this app open only as pages, not from another site.",
                }
            if self.max_sessions and sessions + self.rendering >= self.max_sessions:
                return {
                    "status": 503,
                    "title": "The app is busy",
                    "message": (
                        "Every session this app can hold is in use. Try again in a minute: this "
                        "page reloads itself then."
                    ),
                    "retry_after": BUSY_RETRY_SECONDS,
                }
        return None


class GuardedApplication(tornado.web.Application):
    """Voila's tornado application with :class:`Guard` in front of every handler."""

    guard: Guard
    voila: SegworkVoila

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any) -> Any:
        # the kernels are counted only for a page request (the only one the bound applies to),
        # not for each static file, websocket message or API call
        page = RENDER_PATH.match(request.path) is not None
        refusal = self.guard.refusal(request, self.voila.page_sessions() if page else 0)
        if refusal is not None:
            log = self.voila.log.info if refusal["status"] == 404 else self.voila.log.warning
            log(
                "segwork: %s %s (Host %r) refused with %s",
                request.method,
                request.path,
                request.host,
                refusal["status"],
            )
            return self.get_handler_delegate(request, RefusedHandler, refusal)
        self.guard.admit(request)
        return super().find_handler(request, **kwargs)


class PageHandler(TornadoVoilaHandler):
    """Voila's page handler that sets the ``_xsrf`` cookie and releases its admission.

    The page's ``beforeunload`` beacon (``POST /voila/api/shutdown/<kernel>``) sends the
    ``_xsrf`` cookie's value; Voila never set that cookie, so the shutdown was refused and the
    kernel of a closed page lived until the idle cull.
    """

    async def prepare(self, *args: Any, **kwargs: Any) -> None:
        result = super().prepare(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
        self.xsrf_token  # noqa: B018 (reading it sets the cookie)

    def on_finish(self) -> None:
        self.application.guard.release(self.request)
        super().on_finish()

    def on_connection_close(self) -> None:
        self.application.guard.release(self.request)
        super().on_connection_close()


class ReadOnlyContents(LargeFileManager):
    """The notebooks' contents, marked read-only (nothing here writes; the flag says so)."""

    def get(self, path: Any, *args: Any, **kwargs: Any) -> Any:
        model = super().get(path, *args, **kwargs)
        _read_only(model)
        return model


def _read_only(model: Any) -> None:
    if isinstance(model, dict):
        model["writable"] = False
        if isinstance(model.get("content"), list):
            for child in model["content"]:
                _read_only(child)


class SegworkVoila(Voila):
    """Voila serving the segwork notebooks behind :class:`Guard`."""

    max_sessions = Int(
        0, help="Page kernels in use at most (0: no bound); past it a page view gets 'busy'."
    ).tag(config=True)
    allow_hosts = List(
        Unicode(), help="Host names the app answers to besides the loopback address served."
    ).tag(config=True)

    def page_sessions(self) -> int:
        """Kernels serving pages now: every kernel but the preheated ones waiting in the pool."""
        km = getattr(self, "kernel_manager", None)
        if km is None:
            return 0
        pooled = set()
        # Voila's pool of preheated kernels is not public API; a kernel whose start is still under
        # way is not a kernel yet, so only finished starts are set aside.
        for pool in getattr(km, "_pools", {}).values():
            for task in pool:
                if task.done() and not task.cancelled() and task.exception() is None:
                    pooled.add(task.result().get("kernel_id"))
        return sum(1 for kid in km.list_kernel_ids() if kid not in pooled)

    def init_settings(self) -> dict[str, Any]:
        settings: dict[str, Any] = super().init_settings()
        self.contents_manager = ReadOnlyContents(parent=self)
        settings["contents_manager"] = self.contents_manager
        return settings

    def init_handlers(self) -> list[Any]:
        handlers = []
        for rule in super().init_handlers():
            pattern, handler = rule[0], rule[1]
            if handler is TornadoVoilaHandler:
                rule = (pattern, PageHandler, *rule[2:])
            handlers.append(rule)
        # "/" opens the landing page instead of listing the folder (not a permanent redirect:
        # browsers would remember it past a change of landing page)
        root = self.server_url.rstrip("/")
        landing = {"url": root + "/voila/render/index.ipynb", "permanent": False}
        handlers.insert(0, (root + "/?", tornado.web.RedirectHandler, landing))
        return handlers

    def start(self) -> None:  # Voila.start, with the guarded application
        import tempfile

        self.connection_dir = tempfile.mkdtemp(prefix="voila_", dir=self.connection_dir_root)
        self.log.info("Storing connection files in %s.", self.connection_dir)
        settings = self.init_settings()
        self.app = GuardedApplication(**settings)
        self.app.guard = Guard(self.port, self.allow_hosts_served(), self.max_sessions)
        self.app.voila = self
        self.app.settings.update(self.tornado_settings)
        self.app.add_handlers(".*$", self.init_handlers())
        self.listen()

    def allow_hosts_served(self) -> list[str]:
        """``allow_hosts`` plus the address bound when it is a specific one."""
        hosts = list(self.allow_hosts)
        if self.ip not in ("", "0.0.0.0", "::", "127.0.0.1", "localhost", "::1"):
            hosts.append(f"[{self.ip}]" if ":" in self.ip else self.ip)
        return hosts


def template_root() -> str:
    """The Jupyter data folder holding segwork's Voila template (``voila/templates/segwork``:
    Voila's lab template without CDN links, with the pages' navigation bar)."""
    return str(Path(__file__).resolve().parent / "share")


def main(argv: list[str] | None = None) -> None:
    """Run the server (``python -m segwork.server <voila options>``).

    segwork's template folder goes first on ``JUPYTER_PATH``, so ``--VoilaConfiguration.template
    =segwork`` finds it wherever segwork is installed.
    """
    paths = [template_root(), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(paths)
    SegworkVoila.launch_instance(argv=sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
