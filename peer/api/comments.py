"""Comment handlers: a post's comments, commenting, deleting an own comment, hiding (the post's
creator) and the holders-only policy (ARCHITECTURE "Comments")."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from peer.api.context import feed, json_body
from peer.api.errors import ApiError
from peer.api.feed import MAX_PAGE, post_id
from peer.api.params import base_units, bounded_int
from peer.api.views import comment_page_json
from peer.feed.comments import MAX_COMMENT_CHARS
from peer.feed.errors import CommentRefused
from peer.feed.records import ZERO_ID
from peer.feed.text import first_control

_REFUSALS = {
    "unknown-post": (404, "unknown_post"),
    "unknown-target": (404, "unknown_comment"),
    "not-own-post": (403, "not_your_post"),
    "not-own-comment": (403, "not_your_comment"),
}


def _id(raw: object, what: str, code: str) -> bytes:
    hex_part = raw.removeprefix("0x") if isinstance(raw, str) else ""
    try:
        value = bytes.fromhex(hex_part) if len(hex_part) == 64 else b""
    except ValueError:
        value = b""
    if len(value) != 32:
        raise ApiError(400, code, f"{what} is 0x followed by 64 hex digits")
    return value


def _refused(exc: CommentRefused) -> ApiError | CommentRefused:
    mapped = _REFUSALS.get(exc.reason)
    return exc if mapped is None else ApiError(mapped[0], mapped[1], str(exc))


async def list_comments(request: web.Request) -> web.Response:
    """A post's comments, oldest first; ``hidden=1`` includes those its creator hid."""
    pid = post_id(request)
    cursor = request.query.get("cursor") or None
    limit = bounded_int(request.query.get("limit", "20"), "limit", 1, MAX_PAGE, "bad_limit")
    hidden = request.query.get("hidden", "0")
    if hidden not in ("0", "1"):
        raise ApiError(400, "bad_request", "'hidden' must be 0 or 1")
    index = feed(request).index
    if await index.queries.post(pid) is None:
        raise ApiError(404, "unknown_post", "this peer has not seen that post")
    page = await index.queries.comments(pid, cursor, limit, include_hidden=hidden == "1")
    return web.json_response(comment_page_json(page))


def _text(body: dict[str, Any]) -> str:
    text = body.get("text")
    if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_COMMENT_CHARS:
        raise ApiError(400, "bad_text", f"'text' must be 1 to {MAX_COMMENT_CHARS} characters")
    control = first_control([text])
    if control is not None:
        raise ApiError(400, "bad_text", f"'text' must not hold control characters ({control})")
    return text.strip()


async def add_comment(request: web.Request) -> web.Response:
    """Sign, store and gossip a comment (``parent``: the comment it answers)."""
    pid = post_id(request)
    body = await json_body(request)
    text = _text(body)
    raw_parent = body.get("parent")
    parent = ZERO_ID if raw_parent is None else _id(raw_parent, "parent", "bad_comment_id")
    try:
        comment_id = await feed(request).comment(pid, text, parent)
    except CommentRefused as exc:
        raise _refused(exc) from exc
    return web.json_response({"id": "0x" + comment_id.hex()})


async def hide_comment(request: web.Request) -> web.Response:
    """Hide (``hidden``: true, the default) or show again a comment on an own post."""
    cid = _id(request.match_info["comment_id"], "a comment id", "bad_comment_id")
    body = await json_body(request)
    hidden = body.get("hidden", True)
    if not isinstance(hidden, bool):
        raise ApiError(400, "bad_request", "'hidden' must be true or false")
    try:
        post = await feed(request).moderate(cid, hidden)
    except CommentRefused as exc:
        raise _refused(exc) from exc
    return web.json_response({"id": "0x" + cid.hex(), "post": "0x" + post.hex(), "hidden": hidden})


async def delete_comment(request: web.Request) -> web.Response:
    """Withdraw one of the user's own comments (its replies go with it) for every peer."""
    cid = _id(request.match_info["comment_id"], "a comment id", "bad_comment_id")
    await json_body(request)
    try:
        post = await feed(request).withdraw_comment(cid)
    except CommentRefused as exc:
        raise _refused(exc) from exc
    return web.json_response({"id": "0x" + cid.hex(), "post": "0x" + post.hex(), "deleted": True})


async def set_policy(request: web.Request) -> web.Response:
    """Holders-only comments on an own post: ``min_balance`` in base units ('0': everyone)."""
    pid = post_id(request)
    body = await json_body(request)
    if "min_balance" not in body:
        raise ApiError(400, "bad_amount", "'min_balance' (base units) is required")
    min_balance = base_units(body["min_balance"], "min_balance")
    try:
        await feed(request).set_comment_policy(pid, min_balance)
    except CommentRefused as exc:
        raise _refused(exc) from exc
    return web.json_response({"post": "0x" + pid.hex(), "min_balance": str(min_balance)})
