"""``GET /api/v1/events``: the event bus as server-sent events.

Each bus event becomes ``event: <kind>`` + ``data: <JSON payload>``. A comment line is sent every
``KEEPALIVE_S`` so proxies and browsers keep the stream open; when the subscriber fell behind and
the bus dropped events, an ``event: dropped`` with the count tells the client to refresh.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from peer.api.context import context

KEEPALIVE_S = 15.0


def encode(kind: str, payload: object) -> bytes:
    data = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    return f"event: {kind}\ndata: {data}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    """Stream bus events until the client goes away or the daemon stops."""
    subscription = context(request).bus.subscribe()
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    reported = 0
    try:
        await response.write(b": connected\n\n")
        while True:
            try:
                event = await asyncio.wait_for(subscription.get(), KEEPALIVE_S)
            except TimeoutError:
                await response.write(b": keepalive\n\n")
                continue
            if subscription.dropped != reported:
                await response.write(encode("dropped", {"count": subscription.dropped - reported}))
                reported = subscription.dropped
            await response.write(encode(event.kind, event.payload()))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        subscription.close()
    return response
