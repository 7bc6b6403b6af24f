"""The two loopback HTTP servers: UI + JSON API, and the IPFS content origin.

:class:`HttpService` is a service of the composition root: ``start()`` binds both ports on
127.0.0.1 (0 = a free port), and only then does the Host allowlist know its port.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from aiohttp import web

import webui
from peer.api import openapi
from peer.api.auth import AUTH, ApiAuth
from peer.api.context import CONTEXT, ApiContext
from peer.api.routes import ROUTES, Route
from peer.api.schemas import SCHEMAS, RouteSchema
from peer.api.security import (
    SESSION_COOKIE,
    Handler,
    HostPolicy,
    RoutePolicy,
    api_middleware,
    content_middleware,
    host_middleware,
    page_csp,
)

LOOPBACK = "127.0.0.1"
CONTENT_ROUTES = web.AppKey("toktok_content_routes", list)
IDLE_TIMEOUT_S = 15.0
"""A connection with no request in progress is closed after this many seconds, from its
start too: one that sends nothing, or a request's head too slowly, no longer holds a slot
(aiohttp's default is 3,630 s). Responses being written (the event stream) are not idle."""
MAX_STATIC_PATH = 255


def _static_handler(root: Path) -> Handler:
    """The web UI's assets: only files present in ``root`` at start, by exact relative path
    (no traversal, no symlinks, no file-system call for a name that is not one of them)."""
    files = {
        path.relative_to(root).as_posix(): path
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink()
    }

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["filename"]
        path = files.get(name) if len(name) <= MAX_STATIC_PATH else None
        if path is None:
            raise web.HTTPNotFound(text="no such asset")
        return web.FileResponse(path)

    return static


# A browser keeps the session cookie this long (it is replaced only with the data dir's
# session.json); without Max-Age it would be lost when the browser closes.
COOKIE_MAX_AGE_S = 400 * 24 * 3600


def _with_csp(response: web.Response, content: HostPolicy) -> web.Response:
    response.headers["Content-Security-Policy"] = page_csp(
        f"http://{LOOPBACK}:{content.port}" if content.port else "'none'"
    )
    return response


def _shell_handler(auth: ApiAuth, content: HostPolicy) -> Handler:
    """``/``: the app (with the session's CSRF secret) for a logged-in browser, else a page that
    says how to log in and carries no secret."""

    async def shell(request: web.Request) -> web.Response:
        if auth.has_session_cookie(request.cookies):
            page = webui.render_shell(auth.session.secret)
            return _with_csp(web.Response(text=page, content_type="text/html"), content)
        page = webui.render_login_help()
        return _with_csp(web.Response(text=page, content_type="text/html"), content)

    return shell


def _login_handler(auth: ApiAuth, content: HostPolicy) -> Handler:
    """``/login?token=...``: trade a one-time login token for the session cookie, then redirect
    to ``/`` so the token leaves the address bar and the history."""

    async def login(request: web.Request) -> web.StreamResponse:
        token = request.query.get("token", "")
        if not token or not auth.tokens.redeem(token):
            page = webui.render_login_help(expired=bool(token))
            return _with_csp(web.Response(text=page, content_type="text/html", status=403), content)
        response = web.Response(status=303, headers={"Location": "/"})
        response.set_cookie(
            SESSION_COOKIE,
            auth.session.cookie,
            httponly=True,
            samesite="Strict",
            path="/",
            max_age=COOKIE_MAX_AGE_S,
        )
        return response

    return login


def build_ui_app(
    ctx: ApiContext,
    auth: ApiAuth,
    host_policy: HostPolicy,
    content_policy: HostPolicy,
    routes: Iterable[Route] = ROUTES,
    schemas: Mapping[tuple[str, str], RouteSchema] = SCHEMAS,
) -> web.Application:
    """The UI/API application with its security middlewares and its OpenAPI description."""
    table = list(routes)
    policy = RoutePolicy(
        cli_only={r.path for r in table if r.cli_only},
        uploads={r.path for r in table if r.upload},
    )
    app = web.Application(
        middlewares=[host_middleware(host_policy), api_middleware(auth, policy)],
        client_max_size=1024 * 1024,
    )
    app[CONTEXT] = ctx
    app[AUTH] = auth
    app[openapi.OPENAPI] = openapi.build(table, schemas)
    for route in table:
        app.router.add_route(route.method, route.path, route.handler)
    app.router.add_get("/", _shell_handler(auth, content_policy))
    app.router.add_get("/login", _login_handler(auth, content_policy))
    static = _static_handler(webui.static_dir())
    app.router.add_get(webui.STATIC_PREFIX + "{filename:.+}", static, allow_head=True)
    return app


def build_content_app(host_policy: HostPolicy) -> web.Application:
    """The content origin; ``/ipfs/<cid>`` is added by the storage gateway."""
    app = web.Application(middlewares=[content_middleware(), host_middleware(host_policy)])
    return app


class HttpService:
    """Runs both servers on loopback; a service of the composition root."""

    name = "http"

    def __init__(
        self,
        ctx: ApiContext,
        auth: ApiAuth,
        ui_port: int = 0,
        content_port: int = 0,
        routes: Iterable[Route] = ROUTES,
        content_setup: Callable[[web.Application], None] | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
    ) -> None:
        self._content_setup = content_setup
        self._ui_policy = HostPolicy()
        self._content_policy = HostPolicy()
        self.ui_app = build_ui_app(ctx, auth, self._ui_policy, self._content_policy, routes)
        self.content_app = build_content_app(self._content_policy)
        self._ui_port = ui_port
        self._content_port = content_port
        self._flexible: set[int] = set()
        self._runners: list[web.AppRunner] = []
        self.idle_timeout_s = idle_timeout_s
        self.notices: list[str] = []
        """Ports that could not be had again (a new one was picked instead)."""

    def set_ports(self, ui: int, content: int, *, flexible: bool = False) -> None:
        """Bind these ports (before ``start()``); with ``flexible``, a port that turns out to
        be taken is replaced by a free one (and a notice says so) instead of failing."""
        self._ui_port, self._content_port = ui, content
        self._flexible = {p for p in (ui, content) if p} if flexible else set()

    @property
    def ports(self) -> tuple[int, int]:
        """The bound UI and content ports (0 before ``start()``)."""
        return self._ui_policy.port or 0, self._content_policy.port or 0

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._ui_policy.port}/"

    def login_url(self) -> str:
        """A fresh one-time login URL of the UI (valid for ten minutes)."""
        return f"{self.url}login?token={self.ui_app[AUTH].tokens.issue()}"

    @property
    def content_url(self) -> str:
        return f"http://{LOOPBACK}:{self._content_policy.port}/"

    async def _serve(self, app: web.Application, port: int, policy: HostPolicy) -> None:
        # handler_cancellation: an open event stream must not hold up shutdown.
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,
            keepalive_timeout=self.idle_timeout_s,
        )
        await runner.setup()
        self._runners.append(runner)
        # SO_REUSEADDR lets a restart bind its port again while connections of the previous run
        # are in TIME_WAIT; on Linux it never lets two sockets listen on one port.
        site = web.TCPSite(runner, LOOPBACK, port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            if port not in self._flexible or exc.errno != errno.EADDRINUSE:
                raise
            self.notices.append(f"port {port} was taken meanwhile; a new one was picked")
            site = web.TCPSite(runner, LOOPBACK, 0, reuse_address=True)
            await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        policy.port = int(sockets[0].getsockname()[1])

    async def start(self) -> None:
        if self._content_setup is not None:  # services it needs are started by now
            self._content_setup(self.content_app)
        try:
            await self._serve(self.ui_app, self._ui_port, self._ui_policy)
            await self._serve(self.content_app, self._content_port, self._content_policy)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        while self._runners:
            await self._runners.pop().cleanup()
