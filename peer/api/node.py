"""Handlers of the peer itself: health, status, peers."""

from __future__ import annotations

from aiohttp import web

from peer.api.auth import AUTH, LOGIN_TOKEN_TTL_S
from peer.api.context import context, json_body, network
from peer.api.errors import ApiError
from peer.feed.gossip import TOPIC_POSTS


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


async def list_peers(request: web.Request) -> web.Response:
    """Connected peers, their addresses and their gossipsub score on the posts topic; with
    ``?topic=``, only those this node knows to be subscribed to that gossipsub topic."""
    net = network(request)
    topic = request.query.get("topic")
    subscribed = set(await net.topic_peers(topic)) if topic else None
    rows = []
    for p in net.peers():
        if subscribed is not None and p.peer_id not in subscribed:
            continue
        score = await net.peer_score(p.peer_id, TOPIC_POSTS)
        rows.append({"peer_id": p.peer_id, "addrs": list(p.addrs), "score": score})
    return web.json_response({"peers": rows})


async def connect_peer(request: web.Request) -> web.Response:
    """Dial a peer by full multiaddr (with /p2p/<id>)."""
    body = await json_body(request)
    multiaddr = body.get("multiaddr")
    if not isinstance(multiaddr, str) or not multiaddr:
        raise ApiError(400, "bad_request", "'multiaddr' (a string) is required")
    peer_id = await network(request).connect(multiaddr)
    return web.json_response({"peer_id": peer_id})


async def login_link(request: web.Request) -> web.Response:
    """A one-time login URL for a browser (``toktok open``); CLI credential only."""
    token = request.app[AUTH].tokens.issue()
    host = request.headers["Host"]  # one of the loopback names the Host middleware allows
    return web.json_response(
        {"url": f"http://{host}/login?token={token}", "expires_in_s": int(LOGIN_TOKEN_TTL_S)}
    )
