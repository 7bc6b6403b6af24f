"""Content-store handlers for CLI commands while the daemon owns the store."""

from __future__ import annotations

import asyncio
import dataclasses

from aiohttp import web

from peer.api.context import context, json_body, local_path, store
from peer.api.errors import ApiError


def _cid(body: dict[str, object]) -> str:
    cid = body.get("cid")
    if not isinstance(cid, str) or not cid:
        raise ApiError(400, "bad_request", "'cid' is required")
    return cid


async def stats(request: web.Request) -> web.Response:
    out = dict(await store(request).status())
    replication = context(request).extra.get(
        "replication"
    )  # ReplicationRunner (peer/daemon/app.py)
    out["replication"] = None if replication is None else replication.status()
    return web.json_response(out)


async def add(request: web.Request) -> web.Response:
    """Add a local file (absolute path) and pin it unless ``pin`` is false."""
    body = await json_body(request)
    version, pin = body.get("cid_version", 1), body.get("pin", True)
    path = await local_path(request, body.get("path"))
    if version not in (0, 1) or not isinstance(pin, bool):
        raise ApiError(400, "bad_request", "'cid_version' is 0 or 1; 'pin' is true or false")
    if not await asyncio.to_thread(path.is_file):
        raise ApiError(400, "bad_request", f"{path} is not a file")
    content = store(request).store
    cid = await content.add_file(path, cid_version=version, pin=pin)
    size = (await content.stat(cid)).size
    return web.json_response({"cid": str(cid), "size": size, "pinned": pin})


async def pin(request: web.Request) -> web.Response:
    body = await json_body(request)
    recursive = body.get("recursive", True)
    if not isinstance(recursive, bool):
        raise ApiError(400, "bad_request", "'recursive' is true or false")
    cid = _cid(body)
    await store(request).store.pin(cid, recursive=recursive)
    return web.json_response({"cid": cid, "kind": "recursive" if recursive else "direct"})


async def unpin(request: web.Request) -> web.Response:
    cid = _cid(await json_body(request))
    await store(request).store.unpin(cid)
    return web.json_response({"cid": cid})


async def gc(request: web.Request) -> web.Response:
    result = await store(request).store.gc()
    return web.json_response(dataclasses.asdict(result))
