"""The route table of the UI/API port: one line per route.

The security middleware, the OpenAPI description and the route-table tests all read
:data:`ROUTES`; a route exists only if it is listed here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from peer.api.errors import ApiError
from peer.bus import EventBus
from peer.p2p import Network
from peer.services import Readiness

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
StatusProvider = Callable[[], Mapping[str, Any]]


@dataclass
class ApiContext:
    """What handlers may use; built by the composition root."""

    readiness: Readiness
    bus: EventBus
    status: StatusProvider
    network: Network | None = None
    content_origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


CONTEXT = web.AppKey("toktok_api_context", ApiContext)


@dataclass(frozen=True)
class Route:
    """One route: method, path, handler and what the security layer must know."""

    method: str
    path: str
    handler: Handler
    summary: str
    sensitive: bool = False  # a GET that needs the session cookie
    upload: bool = False  # the one multipart route kind

    @property
    def state_changing(self) -> bool:
        return self.method not in {"GET", "HEAD"}


def context(request: web.Request) -> ApiContext:
    return request.app[CONTEXT]


async def healthz(request: web.Request) -> web.Response:
    """200 when every required service is ready, else 503 naming what is not."""
    readiness = context(request).readiness
    services = readiness.snapshot()
    if readiness.ready:
        return web.json_response({"ready": True, "services": services})
    not_ready = [name for name, state in services.items() if state != "ready"]
    return web.json_response(
        {"ready": False, "not_ready": not_ready, "services": services}, status=503
    )


async def status(request: web.Request) -> web.Response:
    """What the peer is and what runs in it."""
    ctx = context(request)
    body = dict(ctx.status())
    body["services"] = ctx.readiness.snapshot()
    body["ready"] = ctx.readiness.ready
    return web.json_response(body)


def network(request: web.Request) -> Network:
    net = context(request).network
    if net is None:
        raise ApiError(503, "p2p_unavailable", "the p2p host is not running")
    return net


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise ApiError(400, "bad_json", "the request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the request body must be a JSON object")
    return body


async def list_peers(request: web.Request) -> web.Response:
    """Connected peers and their addresses."""
    peers = network(request).peers()
    return web.json_response(
        {"peers": [{"peer_id": p.peer_id, "addrs": list(p.addrs)} for p in peers]}
    )


async def connect_peer(request: web.Request) -> web.Response:
    """Dial a peer by full multiaddr (with /p2p/<id>)."""
    body = await json_body(request)
    multiaddr = body.get("multiaddr")
    if not isinstance(multiaddr, str) or not multiaddr:
        raise ApiError(400, "bad_request", "'multiaddr' (a string) is required")
    peer_id = await network(request).connect(multiaddr)
    return web.json_response({"peer_id": peer_id})


ROUTES: tuple[Route, ...] = (
    Route("GET", "/healthz", healthz, "Readiness of the p2p host, the store and the chain client"),
    Route("GET", "/api/v1/status", status, "Peer identity, addresses, versions and services"),
    Route("GET", "/api/v1/peers", list_peers, "Connected peers"),
    Route("POST", "/api/v1/peers/connect", connect_peer, "Connect to a peer by multiaddr"),
)
