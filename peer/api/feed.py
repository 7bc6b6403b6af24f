"""Feed handlers: pages, posts, creators, and the user's own social records."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web
from eth_utils.address import is_address, to_checksum_address

from peer.api import social
from peer.api.context import context, feed, json_body, store
from peer.api.errors import RELAY_LIMITED, ApiError
from peer.api.params import bounded_int
from peer.api.views import item_json, page_json, token_json
from peer.feed.queries import Page
from peer.feed.text import first_control
from peer.social.discovery import creator_extras
from peer.social.trending import mix
from storage.cid import CID, is_cid
from storage.errors import ContentUnavailableError
from storage.media.manifest import decode_manifest

MAX_PAGE = 50


def _page_args(request: web.Request) -> tuple[str | None, int]:
    cursor = request.query.get("cursor") or None
    raw = request.query.get("limit", "20")
    return cursor, bounded_int(raw, "limit", 1, MAX_PAGE, "bad_limit")


def post_id(request: web.Request) -> bytes:
    raw = request.match_info["post_id"]
    hex_part = raw.removeprefix("0x")
    if len(hex_part) != 64:
        raise ApiError(400, "bad_post_id", "a post id is 0x followed by 64 hex digits")
    try:
        return bytes.fromhex(hex_part)
    except ValueError:
        raise ApiError(400, "bad_post_id", "a post id is 0x followed by 64 hex digits") from None


def address(request: web.Request) -> str:
    raw = request.match_info["address"]
    if not is_address(raw):
        raise ApiError(400, "bad_address", "not an Ethereum address")
    return str(to_checksum_address(raw))


def _flag(body: dict[str, Any]) -> bool:
    on = body.get("on", True)
    if not isinstance(on, bool):
        raise ApiError(400, "bad_request", "'on' must be true or false")
    return on


async def feed_page(request: web.Request) -> web.Response:
    """For you (followed creators first) or following."""
    service = feed(request)
    cursor, limit = _page_args(request)
    tab = request.query.get("tab", "for_you")
    me = service.me if service.has_wallet else None
    if tab == "for_you":
        page = await service.index.queries.for_you(me, int(time.time()), cursor, limit)
        if cursor is None:  # the first page mixes in trending (peer.social.trending.mix)
            hot = await social.ranked(request, max(1, limit // 2))
            page = Page(tuple(mix(page.items, hot.items)), page.next_cursor)
    elif tab == "following":
        page = await service.index.queries.following(me, cursor, limit) if me else Page((), None)
    else:
        raise ApiError(400, "bad_tab", "tab must be 'for_you' or 'following'")
    return web.json_response(page_json(page, feed(request).unavailable))


async def search(request: web.Request) -> web.Response:
    """Posts matching every word (title, tags, creator name); the last word as a prefix."""
    cursor, limit = _page_args(request)
    text = request.query.get("q", "").strip()
    if not text:
        return web.json_response({"items": [], "next": None})
    page = await feed(request).index.queries.search(text, cursor, limit, prefix=True)
    return web.json_response(page_json(page, feed(request).unavailable))


async def post(request: web.Request) -> web.Response:
    item = await feed(request).index.queries.post(post_id(request))
    if item is None:
        raise ApiError(404, "unknown_post", "this peer has not seen that post")
    return web.json_response(item_json(item, feed(request).unavailable))


async def like(request: web.Request) -> web.Response:
    return await _like(request, True)


async def unlike(request: web.Request) -> web.Response:
    return await _like(request, False)


async def _like(request: web.Request, on: bool) -> web.Response:
    service, pid = feed(request), post_id(request)
    await service.like(pid, on)
    item = await service.index.queries.post(pid)
    return web.json_response({"likes": item.likes if item else 0})


async def delete(request: web.Request) -> web.Response:
    service, pid = feed(request), post_id(request)
    item = await service.index.queries.post(pid)
    if item is None:
        raise ApiError(404, "unknown_post", "this peer has not seen that post")
    if item.creator != service.me:
        raise ApiError(403, "not_your_post", "only the creator can delete a post")
    await service.delete(pid)
    return web.json_response({"deleted": True})


async def creator(request: web.Request) -> web.Response:
    service, who = feed(request), address(request)
    info = await service.index.queries.creator_info(who)
    following = service.has_wallet and who in await service.index.queries.followed(service.me)
    token = await service.token_info_of(who)
    avatar, name_shared = await service.index.queries.read(lambda db: creator_extras(db, who))
    return web.json_response(
        {
            "address": who,
            "name": info.name if info else "",
            "posts": info.posts if info else 0,
            "forked": info.forked if info else False,
            "following": following,
            "token": None if token is None else token_json(token),
            "avatar_url": _avatar_url(request, avatar),
            "name_shared": name_shared,
        }
    )


def _avatar_url(request: web.Request, cid: str) -> str | None:
    return f"{context(request).content_origin()}/ipfs/{cid}" if cid else None


async def creator_posts(request: web.Request) -> web.Response:
    cursor, limit = _page_args(request)
    page = await feed(request).index.queries.creator(address(request), cursor, limit)
    return web.json_response(page_json(page, feed(request).unavailable))


async def follow(request: web.Request) -> web.Response:
    on = _flag(await json_body(request))
    await feed(request).follow(address(request), on)
    return web.json_response({"following": on})


async def mute(request: web.Request) -> web.Response:
    on = _flag(await json_body(request))
    await feed(request).index.writes.mute(address(request), on)
    return web.json_response({"muted": on})


async def block(request: web.Request) -> web.Response:
    on = _flag(await json_body(request))
    await feed(request).index.writes.block(address(request), on)
    return web.json_response({"blocked": on})


async def get_profile(request: web.Request) -> web.Response:
    service = feed(request)
    me = service.me
    info = await service.index.queries.creator_info(me)
    profile = await service.current_profile()
    avatar = profile.avatar if profile else ""
    return web.json_response(
        {
            "address": me,
            "name": info.name if info else "",
            "token": await service.last_known_token_of(me),  # works while the chain is down
            "avatar": avatar,
            "avatar_url": _avatar_url(request, avatar),
        }
    )


async def set_profile(request: web.Request) -> web.Response:
    body = await json_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 64:
        raise ApiError(400, "bad_name", "'name' must be 1 to 64 characters")
    control = first_control([name])
    if control is not None:
        raise ApiError(400, "bad_name", f"'name' must not hold control characters ({control})")
    avatar = body.get("avatar")
    if avatar is not None and (not isinstance(avatar, str) or (avatar and not is_cid(avatar))):
        raise ApiError(400, "bad_avatar", "'avatar' must be a CID (from POST /profile/avatar)")
    profile = await feed(request).update_profile(name=name.strip(), avatar=avatar)
    return web.json_response(
        {"address": profile.creator, "name": profile.name, "avatar": profile.avatar}
    )


MAX_MANIFEST = 64 * 1024  # ARCHITECTURE "Replication caps"


async def clip(request: web.Request) -> web.Response:
    """The post's manifest resolved for playback: poster and rendition URLs."""
    ctx = context(request)
    pid = post_id(request)
    item = await feed(request).index.queries.post(pid)
    if item is None:
        raise ApiError(404, "unknown_post", "this peer has not seen that post")
    content = store(request).store
    unavailable = feed(request).unavailable
    try:
        stat = await content.stat(item.manifest)
        if stat.size > MAX_MANIFEST:
            raise ApiError(502, "manifest_too_large", "the clip manifest exceeds 64 KiB")
        raw_manifest = await content.read_range(item.manifest, 0, stat.size)
    except ContentUnavailableError:
        unavailable.mark(item.manifest)  # the feed shows the post as unavailable for a while
        raise
    unavailable.clear(item.manifest)
    manifest = decode_manifest(raw_manifest)
    origin = ctx.content_origin()
    post_hex = "0x" + pid.hex()

    def url(cid: str, name: str) -> str:
        if manifest.premium:
            return f"/api/v1/clips/{post_hex}/media/{name}"
        return f"{origin}/ipfs/{cid}"

    renditions = [
        {
            "name": r.name,
            "width": r.width,
            "height": r.height,
            "bitrate": r.bitrate,
            "mime": r.mime,
            "codecs": r.codecs,
            "size": r.size,
            "url": url(r.cid, r.name),
        }
        for r in sorted(manifest.renditions, key=lambda r: r.width)
    ]
    unlocked = (ctx.gating is not None and ctx.gating.has_key(item.manifest)) or not (
        manifest.premium
    )
    bitswap = store(request).bitswap
    cut = bitswap is not None and any(
        bitswap.relay_limited(CID.parse(r.cid)) for r in manifest.renditions
    )
    return web.json_response(
        {
            "post": item_json(item, unavailable),
            "duration_ms": manifest.duration_ms,
            "premium": manifest.premium,
            "poster": {
                "url": f"{origin}/ipfs/{manifest.poster.cid}",
                "width": manifest.poster.width,
                "height": manifest.poster.height,
            },
            "renditions": renditions,
            "locked": not unlocked,
            "unplayable": {"code": "relay_limited", "message": RELAY_LIMITED} if cut else None,
        }
    )
