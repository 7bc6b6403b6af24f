"""Premium clips: decrypted playback with Range, unlock requirements, unlocking, delegation."""

from __future__ import annotations

from aiohttp import web
from eth_utils.address import is_address, to_checksum_address

from peer.api.context import feed, gating, json_body
from peer.api.errors import ApiError
from peer.api.feed import address, post_id
from peer.api.params import base_units, bounded_int
from peer.gating.errors import LockedError
from peer.gating.http import media_response


async def media(request: web.Request) -> web.StreamResponse:
    """Decrypted bytes of a premium rendition; 402 with the requirements while locked."""
    try:
        decrypted = await gating(request).service.media(
            post_id(request), request.match_info["rendition"]
        )
    except LockedError as exc:
        body = {
            "error": {"code": "locked", "message": str(exc)},
            "requirements": exc.requirements.to_json(),
        }
        return web.json_response(body, status=402)
    return await media_response(request, decrypted)


def _holder(request: web.Request) -> str | None:
    """``?holder=``: a browser wallet's address (absent: the peer's own wallet)."""
    raw = request.query.get("holder")
    if raw is None or raw == "":
        return None
    if not is_address(raw):
        raise ApiError(400, "bad_address", "'holder' must be an Ethereum address")
    return str(to_checksum_address(raw))


async def requirements(request: web.Request) -> web.Response:
    result = await gating(request).service.requirements(post_id(request), _holder(request))
    return web.json_response(result.to_json())


async def unlock(request: web.Request) -> web.Response:
    """Fetch the key from the creator's key servers; with ``buy``, buy the missing amount
    first within ``max_cost`` (base units, from the requirements' quote)."""
    body = await json_body(request)
    buy = body.get("buy", False)
    if not isinstance(buy, bool):
        raise ApiError(400, "bad_request", "'buy' must be true or false")
    raw = body.get("max_cost", body.get("maxCost"))
    max_cost = None if raw is None else base_units(raw, "max_cost")
    result = await gating(request).service.unlock(post_id(request), buy=buy, max_cost=max_cost)
    return web.json_response(result)


async def unlock_creator(request: web.Request) -> web.Response:
    results = await gating(request).service.unlock_creator(address(request))
    return web.json_response({"results": results})


async def delegate(request: web.Request) -> web.Response:
    body = await json_body(request)
    peer = body.get("peer")
    if not isinstance(peer, str) or not peer:
        raise ApiError(400, "bad_request", "'peer' (a multiaddr with /p2p/) is required")
    count = await gating(request).service.delegate(peer)
    await feed(request).update_profile(add_key_server=peer)
    return web.json_response({"delegated": count, "imported": count})


async def revoke(request: web.Request) -> web.Response:
    """Remove a key server from the profile; it keeps the keys it already holds."""
    body = await json_body(request)
    peer = body.get("peer")
    if not isinstance(peer, str) or not peer:
        raise ApiError(400, "bad_request", "'peer' is required")
    profile = await feed(request).update_profile(remove_key_server=peer)
    return web.json_response({"key_servers": list(profile.key_servers)})


async def buy_plan(request: web.Request) -> web.Response:
    """What ``unlock --buy`` would buy and pay at most (null when nothing is missing)."""
    raw = request.query.get("slippage", "")
    slippage = bounded_int(raw, "slippage", 0, 10_000, "bad_request") if raw else None
    plan = await gating(request).service.plan_buy(post_id(request), slippage, _holder(request))
    if plan is None:
        return web.json_response(None)
    return web.json_response(
        {
            "token": plan.token,
            "amount": str(plan.amount),
            "quote": str(plan.quote),
            "maxCost": str(plan.max_cost),
            "max_cost": str(plan.max_cost),
        }
    )
