"""Social handlers: notifications, tags, trending, creators to follow, avatars and share links."""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from typing import Any, Final

from aiohttp import web
from eth_utils.address import is_address, to_checksum_address

from peer.api.context import context, feed, json_body, network, store
from peer.api.errors import ApiError
from peer.api.params import bounded_int
from peer.api.views import page_json
from peer.daemon.social import SocialService
from peer.feed.queries import Page
from peer.p2p.options import HostOptions
from peer.p2p.reachability import parse_ranges
from peer.social import discovery, links, trending
from peer.social.errors import ShareLinkError
from peer.social.notifications import Notification

MAX_AVATAR_BYTES: Final = 40 * 1024
"""Largest avatar image (the browser sends a 256x256 JPEG of ~15-25 KiB)."""
_IMAGE_MAGIC: Final = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
LINK_SYNC_TIMEOUT_S: Final = 20.0


def social(request: web.Request) -> SocialService:
    service = context(request).extra.get("social")
    if not isinstance(service, SocialService):
        raise ApiError(503, "feed_unavailable", "the social layer needs the feed and the chain")
    return service


def _notification_json(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "type": n.type,
        "subject": n.subject,
        "count": n.count,
        "actors": list(n.actors),
        "detail": {k: str(v) for k, v in n.detail.items()},
        "first_at": n.first_at,
        "last_at": n.last_at,
        "read": n.read,
    }


async def notifications(request: web.Request) -> web.Response:
    """The newest notifications (grouped) and the unread count."""
    service = social(request)
    limit = bounded_int(request.query.get("limit", "30"), "limit", 1, 100, "bad_limit")
    raw_before = request.query.get("before")
    before = None
    if raw_before:
        before = bounded_int(raw_before, "before", 1, 2**62, "bad_request")
    items = await service.store.page(limit, before)
    return web.json_response(
        {"items": [_notification_json(n) for n in items], "unread": await service.store.unread()}
    )


async def mark_read(request: web.Request) -> web.Response:
    """Mark the given notifications (``ids``) or all of them (no ``ids``) read."""
    body = await json_body(request)
    ids = body.get("ids")
    if ids is not None and (
        not isinstance(ids, list)
        or len(ids) > 500
        or not all(type(i) is int and i > 0 for i in ids)
    ):
        raise ApiError(400, "bad_request", "'ids' must be a list of up to 500 notification ids")
    service = social(request)
    await service.store.mark_read(ids if ids else None)
    return web.json_response({"unread": await service.store.unread()})


async def tag(request: web.Request) -> web.Response:
    """Posts carrying a tag, newest first."""
    name = request.match_info["tag"].strip().lstrip("#")
    if not name or len(name) > discovery.MAX_TAG:
        raise ApiError(400, "bad_tag", f"a tag is 1 to {discovery.MAX_TAG} characters")
    cursor = request.query.get("cursor") or None
    limit = bounded_int(request.query.get("limit", "20"), "limit", 1, 50, "bad_limit")
    service = feed(request)
    page = await service.index.queries.read(lambda db: discovery.tag_page(db, name, cursor, limit))
    return web.json_response(page_json(page, service.unavailable))


async def ranked(request: web.Request, limit: int) -> Page:
    """The trending posts, best first (peer.social.trending)."""
    service, now = feed(request), int(time.time())
    candidates = await service.index.queries.read(lambda db: discovery.trending_candidates(db, now))
    extra = context(request).extra.get("social")
    trades = await extra.trades_by_token() if isinstance(extra, SocialService) else {}
    signals = [
        trending.Signals(
            c.signals.post_id, c.signals.created_at, c.signals.likes, 0, trades.get(c.token, 0)
        )
        for c in candidates
    ]
    ids = trending.rank(signals, now)[:limit]
    items = await service.index.queries.read(lambda db: discovery.items_by_id(db, ids))
    return Page(tuple(items), None)


async def trending_page(request: web.Request) -> web.Response:
    limit = bounded_int(request.query.get("limit", "20"), "limit", 1, 50, "bad_limit")
    return web.json_response(page_json(await ranked(request, limit), feed(request).unavailable))


async def suggested(request: web.Request) -> web.Response:
    """Creators to follow, from what this peer has seen."""
    service = feed(request)
    limit = bounded_int(request.query.get("limit", "8"), "limit", 1, 50, "bad_limit")
    me = service.me if service.has_wallet else None
    extra = context(request).extra.get("social")
    holders = await extra.holders_by_token() if isinstance(extra, SocialService) else {}
    found = await service.index.queries.read(
        lambda db: discovery.suggested_creators(db, me, holders, limit)
    )
    origin = context(request).content_origin()
    return web.json_response(
        {
            "creators": [
                {
                    "address": s.address,
                    "name": s.name,
                    "avatar_url": f"{origin}/ipfs/{s.avatar}" if s.avatar else None,
                    "posts": s.posts,
                    "followers": s.followers,
                    "likes": s.likes,
                    "holders": s.holders,
                }
                for s in found
            ]
        }
    )


async def avatar(request: web.Request) -> web.Response:
    """Add an avatar image (base64 JPEG or PNG, resized by the browser) to the store."""
    body = await json_body(request)
    text = body.get("image")
    if not isinstance(text, str):
        raise ApiError(400, "bad_avatar", "'image' (base64 of a JPEG or PNG) is required")
    try:
        data = base64.b64decode(text.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "bad_avatar", "'image' is not valid base64") from None
    if len(data) > MAX_AVATAR_BYTES:
        raise ApiError(400, "bad_avatar", f"an avatar is at most {MAX_AVATAR_BYTES} bytes")
    if not data.startswith(_IMAGE_MAGIC):
        raise ApiError(400, "bad_avatar", "an avatar must be a JPEG or PNG image")
    cid = await store(request).store.add_bytes(data, pin=True)
    return web.json_response(
        {"cid": str(cid), "url": f"{context(request).content_origin()}/ipfs/{cid}"}
    )


# ---- share links ------------------------------------------------------------------------


def _p2p_options(request: web.Request) -> HostOptions:
    options = context(request).extra.get("p2p_options")
    if not isinstance(options, HostOptions):
        raise ApiError(503, "p2p_unavailable", "the p2p host is not running")
    return options


async def share(request: web.Request) -> web.Response:
    """A share link for a post (``post``) or a creator (``creator``); ``own=true`` adds this
    peer's own addresses to the relay and bootstrap hints."""
    options = _p2p_options(request)
    post_text = request.query.get("post", "").lower()
    creator_text = request.query.get("creator", "")
    own = request.query.get("own", "false") == "true"
    hints = [*options.relays, *options.bootstrap]
    if own:
        net = network(request)
        hints += [f"{a}/p2p/{net.peer_id}" if "/p2p/" not in a else a for a in net.addrs]
    if post_text:
        try:
            item = await feed(request).index.queries.post(
                bytes.fromhex(post_text.removeprefix("0x"))
            )
        except ValueError:
            item = None
        if item is None:
            raise ApiError(404, "unknown_post", "this peer has not seen that post")
        link = links.ShareLink(item.creator, post_text, tuple(hints))
    else:
        if not creator_text:
            raise ApiError(400, "bad_request", "name a 'post' or a 'creator'")
        if not is_address(creator_text):
            raise ApiError(400, "bad_address", "not an Ethereum address")
        link = links.ShareLink(str(to_checksum_address(creator_text)), None, tuple(hints))
    return web.json_response(
        {"link": link.format(), "hints": list(link.hints[: links.MAX_HINTS]), "own": own}
    )


async def _has(request: web.Request, link: links.ShareLink) -> bool:
    index = feed(request).index
    if link.post is not None:
        return await index.queries.post(bytes.fromhex(link.post[2:])) is not None
    info = await index.queries.creator_info(link.creator)
    return info is not None and info.head_seq > 0


async def open_link(request: web.Request) -> web.Response:
    """Find what a share link names: known already, or synced from the hinted peers."""
    body = await json_body(request)
    text = body.get("link")
    if not isinstance(text, str):
        raise ApiError(400, "bad_link", "'link' (a web+toktok: URL) is required")
    try:
        link = links.parse(text)
    except ShareLinkError as exc:
        raise ApiError(400, "bad_link", str(exc)) from exc
    answer: dict[str, Any] = {
        "post": link.post,
        "creator": link.creator,
        "tried": [],
    }
    if await _has(request, link):
        return web.json_response({**answer, "found": True, "message": "Already on this peer."})
    options = _p2p_options(request)
    net = network(request)
    sync = context(request).extra.get("sync")
    ranges = parse_ranges(options.public_ranges)
    tried: list[dict[str, str]] = answer["tried"]
    reached: list[str] = []
    for hint in link.hints:
        reason = links.dialable(hint, options.listen_addrs, ranges)
        if reason:
            tried.append({"addr": hint, "state": "refused", "reason": reason})
            continue
        try:
            peer_id = await asyncio.wait_for(net.connect(hint), options.dial_timeout)
        except Exception as exc:
            tried.append({"addr": hint, "state": "unreachable", "reason": str(exc)[:200]})
            continue
        reached.append(peer_id)
        tried.append({"addr": hint, "state": "connected", "reason": ""})
    service = getattr(sync, "service", None)
    if service is not None:
        peers = reached or [p.peer_id for p in net.peers()]
        rounds = [service.sync_peer(p) for p in dict.fromkeys(peers)]
        if rounds:
            await asyncio.wait(
                [asyncio.ensure_future(r) for r in rounds], timeout=LINK_SYNC_TIMEOUT_S
            )
    found = await _has(request, link)
    what = "clip" if link.post else "creator"
    if found:
        message = f"Found the {what}."
    elif not link.hints:
        message = f"The link carries no peer address, and no connected peer has this {what}."
    elif not reached and all(t["state"] == "refused" for t in tried):
        message = "This peer may not dial any address the link carries (network hygiene)."
    elif not reached:
        message = "None of the peers the link names could be reached."
    else:
        message = f"The peers the link names did not have this {what}."
    return web.json_response({**answer, "found": found, "message": message})
