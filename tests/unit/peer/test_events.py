"""The SSE stream carries bus events to a client holding the session cookie."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from support.http import SECRETS, Servers

from peer.api.security import SESSION_COOKIE
from peer.events import ServiceReady


async def read_event(content: aiohttp.StreamReader) -> tuple[str, dict[str, object]]:
    kind, data = "", ""
    while True:
        line = (await asyncio.wait_for(content.readline(), 5)).decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data: "):
            data = line[len("data: ") :]
        elif line == "" and kind:
            return kind, json.loads(data)


async def test_bus_events_arrive_as_server_sent_events(servers: Servers) -> None:
    cookie = {"Cookie": f"{SESSION_COOKIE}={SECRETS.cookie}"}
    response = await servers.ui.get("/api/v1/events", headers=cookie)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/event-stream"
    assert await response.content.readline() == b": connected\n"
    servers.bus.publish(ServiceReady("p2p"))
    assert await read_event(response.content) == ("service.ready", {"service": "p2p"})
    response.close()


async def test_event_stream_needs_the_session_cookie(servers: Servers) -> None:
    response = await servers.ui.get("/api/v1/events")
    assert response.status == 403
