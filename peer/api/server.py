"""The two loopback HTTP servers: UI + JSON API, and the IPFS content origin.

:class:`HttpService` is a service of the composition root: ``start()`` binds both ports on
127.0.0.1 (0 = a free port), and only then does the Host allowlist know its port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from aiohttp import web

import webui
from peer.api import openapi
from peer.api.context import CONTEXT, ApiContext
from peer.api.routes import ROUTES, Route
from peer.api.schemas import SCHEMAS, RouteSchema
from peer.api.security import (
    SESSION_COOKIE,
    Handler,
    HostPolicy,
    LaunchSecrets,
    RoutePolicy,
    api_middleware,
    content_middleware,
    host_middleware,
    page_csp,
)

LOOPBACK = "127.0.0.1"
CONTENT_ROUTES = web.AppKey("toktok_content_routes", list)


def _shell_handler(secrets: LaunchSecrets, csp: HostPolicy) -> Handler:
    async def shell(request: web.Request) -> web.Response:
        response = web.Response(text=webui.render_shell(secrets.secret), content_type="text/html")
        response.set_cookie(
            SESSION_COOKIE, secrets.cookie, httponly=True, samesite="Strict", path="/"
        )
        response.headers["Content-Security-Policy"] = page_csp(
            f"http://{LOOPBACK}:{csp.port}" if csp.port else "'none'"
        )
        return response

    return shell


def build_ui_app(
    ctx: ApiContext,
    secrets: LaunchSecrets,
    host_policy: HostPolicy,
    content_policy: HostPolicy,
    routes: Iterable[Route] = ROUTES,
    schemas: Mapping[tuple[str, str], RouteSchema] = SCHEMAS,
) -> web.Application:
    """The UI/API application with its security middlewares and its OpenAPI description."""
    table = list(routes)
    policy = RoutePolicy(
        sensitive={r.path for r in table if r.sensitive},
        uploads={r.path for r in table if r.upload},
    )
    app = web.Application(
        middlewares=[host_middleware(host_policy), api_middleware(secrets, policy)],
        client_max_size=1024 * 1024,
    )
    app[CONTEXT] = ctx
    app[openapi.OPENAPI] = openapi.build(table, schemas)
    for route in table:
        app.router.add_route(route.method, route.path, route.handler)
    shell = _shell_handler(secrets, content_policy)
    app.router.add_get("/", shell)
    app.router.add_static(webui.STATIC_PREFIX, webui.static_dir(), follow_symlinks=False)
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
        secrets: LaunchSecrets,
        ui_port: int = 0,
        content_port: int = 0,
        routes: Iterable[Route] = ROUTES,
        content_setup: Callable[[web.Application], None] | None = None,
    ) -> None:
        self._content_setup = content_setup
        self._ui_policy = HostPolicy()
        self._content_policy = HostPolicy()
        self.ui_app = build_ui_app(ctx, secrets, self._ui_policy, self._content_policy, routes)
        self.content_app = build_content_app(self._content_policy)
        self._ui_port = ui_port
        self._content_port = content_port
        self._runners: list[web.AppRunner] = []

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._ui_policy.port}/"

    @property
    def content_url(self) -> str:
        return f"http://{LOOPBACK}:{self._content_policy.port}/"

    async def _serve(self, app: web.Application, port: int, policy: HostPolicy) -> None:
        # handler_cancellation: an open event stream must not hold up shutdown.
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, handler_cancellation=True
        )
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, LOOPBACK, port, reuse_address=False)
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
