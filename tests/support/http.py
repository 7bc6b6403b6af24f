"""Real aiohttp UI and content servers on loopback, with test routes of every kind."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from peer.api.context import ApiContext
from peer.api.routes import ROUTES, Route
from peer.api.security import HostPolicy, LaunchSecrets
from peer.api.server import build_content_app, build_ui_app
from peer.bus import EventBus
from peer.services import Readiness

SECRETS = LaunchSecrets(secret="s3cret-header-value", cookie="c00kie-value")


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


# The skeleton's table plus one route of each kind the security layer distinguishes.
TEST_ROUTES = (
    *ROUTES,
    Route("POST", "/api/v1/test/mutate", echo, "a state-changing route"),
    Route("GET", "/api/v1/test/wallet", echo, "a sensitive GET", sensitive=True),
    Route("POST", "/api/v1/test/upload", echo, "an upload", upload=True),
)


@dataclass
class Servers:
    ui: TestClient[web.Request, web.Application]
    content: TestClient[web.Request, web.Application]
    readiness: Readiness
    bus: EventBus

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.ui.port}"


@contextlib.asynccontextmanager
async def serve_api(routes: tuple[Route, ...] = TEST_ROUTES) -> AsyncIterator[Servers]:
    """Both servers with ``routes``; the Host policies know the bound ports."""
    readiness = Readiness()
    readiness.require("http")
    bus = EventBus()
    ctx = ApiContext(readiness=readiness, bus=bus, status=lambda: {"version": "test"})
    ui_policy, content_policy = HostPolicy(), HostPolicy()
    ui = TestClient(TestServer(build_ui_app(ctx, SECRETS, ui_policy, content_policy, routes)))
    content = TestClient(TestServer(build_content_app(content_policy)))
    await ui.start_server()
    await content.start_server()
    ui_policy.port, content_policy.port = ui.port, content.port
    try:
        yield Servers(ui, content, readiness, bus)
    finally:
        await ui.close()
        await content.close()
