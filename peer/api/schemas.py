"""JSON Schemas (draft 2020-12) of every route's request and responses, keyed by (method, path).

:data:`SCHEMAS` has one :class:`RouteSchema` per line of the route table (a unit test proves the
keys are exactly the table's); :mod:`peer.api.openapi` turns both into the OpenAPI description.
Shared objects live in :data:`COMPONENTS` and are referenced as ``#/components/schemas/<Name>``.

Error statuses: every route may answer 403 (Host, Origin, secret, session, CLI-only) and 500; a
state-changing route also 400 ``bad_json``, 413 (body over the JSON limit) and 415; the rest are
listed per route. Unless a route overrides it, an error answer has the body ``Error`` whose
``code`` is one of :func:`error_codes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from peer.api.errors import ERROR_TABLE
from peer.events import NOTIFICATION_TYPES, PUBLISH_STAGES, WALLET_ACTIONS

Schema = dict[str, Any]

# Codes the HTTP layer raises itself (ApiError, the 503 "<service>_unavailable" of missing
# services, aiohttp's HTTP exceptions); the domain codes come from ERROR_TABLE. A unit test
# proves every code literal in peer/api is listed.
API_CODES = (
    "forbidden_host",
    "forbidden_origin",
    "missing_secret",
    "missing_session",
    "cli_only",
    "path_in_data_dir",
    "unsupported_media_type",
    "internal",
    "bad_json",
    "bad_request",
    "bad_limit",
    "bad_tab",
    "bad_post_id",
    "bad_comment_id",
    "bad_text",
    "unknown_comment",
    "bad_address",
    "bad_amount",
    "unknown_token",
    "bad_side",
    "bad_name",
    "bad_avatar",
    "bad_tag",
    "bad_link",
    "unknown_post",
    "unknown_job",
    "not_your_post",
    "not_your_comment",
    "manifest_too_large",
    "confirmation_required",
    "locked",
    "field_too_large",
    "upload_too_large",
    "method_not_allowed",
    "not_found",
    "request_entity_too_large",
    "p2p_unavailable",
    "feed_unavailable",
    "chain_unavailable",
    "store_unavailable",
    "gating_unavailable",
    "publish_unavailable",
    "wallet_unavailable",
)


def error_codes() -> list[str]:
    """Every machine code an error body may carry, sorted."""
    return sorted({*API_CODES, *(row.code for row in ERROR_TABLE)})


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: Mapping[str, Schema], optional: Mapping[str, Schema] | None = None) -> Schema:
    """A closed object: exactly these keys (the ``optional`` ones may be absent)."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NAT: Schema = {"type": "integer", "minimum": 0}
BOOL: Schema = {"type": "boolean"}
NUM: Schema = {"type": "number"}
EMPTY: Schema = {"type": "object", "description": "an empty JSON object ({}); keys are ignored"}
BIG = ref("BigInt")
ADDRESS = ref("Address")
POST_ID = ref("PostId")
STRS = array(STR)
COUNTS: Schema = {"type": "object", "additionalProperties": NAT}

_BITSWAP = obj(
    {
        "peers": NAT,
        "wanted": NAT,
        "client": obj(
            {
                "blocks_received": NAT,
                "bytes_received": NAT,
                "duplicate_blocks": NAT,
                "rejected_blocks": NAT,
                "timeouts": NAT,
                "want_haves_sent": NAT,
                "want_blocks_sent": NAT,
                "cancels_sent": NAT,
                "broadcasts": NAT,
            }
        ),
        "server": obj({"blocks_sent": NAT, "bytes_sent": NAT, "dont_haves_sent": NAT}),
        "bad_peers": NAT,
    }
)

_ERROR_DETAIL = obj({"code": {"type": "string", "enum": error_codes()}, "message": STR})

COMPONENTS: dict[str, Schema] = {
    "BigInt": {
        "description": "A non-negative integer as a decimal string (base units, 18 decimals)",
        "type": "string",
        "pattern": "^[0-9]+$",
    },
    "Address": {
        "description": "A 0x-prefixed EVM address",
        "type": "string",
        "pattern": "^0x[0-9a-fA-F]{40}$",
    },
    "PostId": {
        "description": "0x + 32 bytes of hex",
        "type": "string",
        "pattern": "^0x[0-9a-f]{64}$",
    },
    "Error": {"description": "The body of every error answer", **obj({"error": _ERROR_DETAIL})},
    "Locked": {
        "description": "A locked premium clip: the error and what unlocking takes",
        **obj({"error": _ERROR_DETAIL, "requirements": ref("Requirements")}),
    },
    "Health": obj(
        {"ready": BOOL, "services": {"type": "object", "additionalProperties": STR}},
        {"not_ready": STRS},
    ),
    "Status": obj(
        {
            "version": STR,
            "peer_id": nullable(STR),
            "p2p_addrs": STRS,
            "reachability": nullable(ref("Reachability")),
            "data_dir": STR,
            "ui_url": STR,
            "content_url": STR,
            "ports": obj({"p2p": nullable(NAT), "ui": NAT, "content": NAT}),
            "notices": STRS,
            "uptime_s": NUM,
            "chain": obj(
                {"mode": {"enum": ["devnet", "rpc", "off"]}},
                {
                    "rpc_url": nullable(STR),
                    "chain_id": nullable(INT),
                    "tok": nullable(ADDRESS),
                    "factory": nullable(ADDRESS),
                    "healthy": BOOL,
                    "problem": nullable(STR),
                    "devnet_restarts": NAT,
                },
            ),
            "wallet": ref("WalletState"),
            "wallet_address": nullable(ADDRESS),
            "storage": obj({"backend": {"enum": ["embedded", "kubo"]}}),
            "bitswap": nullable(_BITSWAP),
            "services": {"type": "object", "additionalProperties": STR},
            "ready": BOOL,
        }
    ),
    "Reachability": {
        "description": (
            "Whether other peers can dial this peer, learnt from AutoNAT dial-backs only: "
            "summary is 'reachable', 'behind NAT, via relay <addr>', 'behind NAT, "
            "unreachable' or 'not known yet'; reason says why when it is not reachable"
        ),
        **obj(
            {
                "state": {"enum": ["unknown", "public", "private"]},
                "summary": STR,
                "relay": nullable(STR),
                "reason": nullable(STR),
                "announced": STRS,
                "circuits": STRS,
                "dialbacks": {"type": "object", "additionalProperties": BOOL},
                "dialbacks_served": NAT,
                "observed": STRS,
                "connections": {
                    "type": "object",
                    "additionalProperties": {"enum": ["direct", "relayed"]},
                },
                "holding_reservations": BOOL,
                "relay_service": nullable(
                    obj(
                        {
                            "reservations": NAT,
                            "relayed_bytes": NAT,
                            "circuit_bytes": NAT,
                            "refused": NAT,
                        }
                    )
                ),
            }
        ),
    },
    "WalletState": obj(
        {"address": nullable(ADDRESS), "state": {"enum": ["none", "locked", "unlocked"]}}
    ),
    "FeedItem": obj(
        {
            "id": POST_ID,
            "creator": ADDRESS,
            "creator_name": STR,
            "creator_forked": BOOL,
            "seq": NAT,
            "token": ADDRESS,
            "manifest": STR,
            "title": STR,
            "tags": STRS,
            "duration_ms": NAT,
            "created_at": INT,
            "premium": BOOL,
            "min_balance": BIG,
            "key_servers": STRS,
            "likes": NAT,
            "available": {
                **BOOL,
                "description": "false while no peer could serve the post's manifest lately",
            },
        }
    ),
    "Page": obj({"items": array(ref("FeedItem")), "next": nullable(STR)}),
    "Comment": obj(
        {
            "id": POST_ID,
            "post": POST_ID,
            "parent": {**nullable(POST_ID), "description": "null for a comment on the post"},
            "author": ADDRESS,
            "author_name": STR,
            "text": {**STR, "maxLength": 500},
            "created_at": INT,
            "hidden": {**BOOL, "description": "the post's creator hid it (only with hidden=1)"},
        }
    ),
    "CommentPage": obj(
        {
            "items": array(ref("Comment")),
            "next": nullable(STR),
            "min_balance": {
                **BIG,
                "description": "holders-only: base units of the creator's token a commenter"
                " must hold over the holding window ('0': everyone may comment)",
            },
        }
    ),
    "Clip": obj(
        {
            "post": ref("FeedItem"),
            "duration_ms": NAT,
            "premium": BOOL,
            "poster": obj({"url": STR, "width": NAT, "height": NAT}),
            "renditions": array(
                obj(
                    {
                        "name": STR,
                        "width": NAT,
                        "height": NAT,
                        "bitrate": NAT,
                        "mime": STR,
                        "codecs": STR,
                        "size": NAT,
                        "url": STR,
                    }
                )
            ),
            "locked": BOOL,
            "unplayable": nullable(obj({"code": STR, "message": STR})),
        }
    ),
    "TokenInfo": obj(
        {
            "address": ADDRESS,
            "creator": ADDRESS,
            "name": STR,
            "symbol": STR,
            "total_supply": BIG,
            "reserve": BIG,
            "spot_price": BIG,
        }
    ),
    "Creator": obj(
        {
            "address": ADDRESS,
            "name": STR,
            "posts": NAT,
            "forked": BOOL,
            "following": BOOL,
            "token": nullable(ref("TokenInfo")),
            "avatar_url": nullable(STR),
            "name_shared": {
                **BOOL,
                "description": "another creator known here shows the same display name",
            },
        }
    ),
    "Quote": {
        "oneOf": [
            obj(
                {
                    "amount": BIG,
                    side: BIG,
                    "creator_fee": BIG,
                    "protocol_fee": BIG,
                    "price_after": BIG,
                }
            )
            for side in ("cost", "refund")
        ]
    },
    "Trade": {
        "oneOf": [
            obj({"tx": STR, "amount": BIG, side: BIG, "price": BIG, "block": NAT})
            for side in ("cost", "refund")
        ]
    },
    "Job": obj(
        {
            "id": STR,
            "state": {"enum": ["running", "done", "failed"]},
            "stage": STR,
            "fraction": {"type": "number", "minimum": 0, "maximum": 1},
            "post_id": nullable(POST_ID),
            "manifest": nullable(STR),
            "error": nullable(obj({"code": STR, "message": STR})),
        }
    ),
    "JobAccepted": obj({"job": STR}),
    "WalletTransactions": obj(
        {
            "chain_id": NAT,
            "transactions": array(
                obj(
                    {
                        "from": ADDRESS,
                        "to": ADDRESS,
                        "data": STR,
                        "value": STR,
                        "chainId": STR,
                        "what": STR,
                    }
                )
            ),
        }
    ),
    "UnlockChallenge": {
        "description": (
            "The EIP-4361 text a browser wallet signs (personal_sign) for a key request, or "
            "unlocked: true when this peer holds the clip's key already"
        ),
        "oneOf": [
            obj({"post": POST_ID, "unlocked": {"const": True}}),
            obj(
                {
                    "post": POST_ID,
                    "unlocked": {"const": False},
                    "challenge": STR,
                    "message": STR,
                    "holder": ADDRESS,
                    "server": STR,
                    "expires_in": NAT,
                }
            ),
        ],
    },
    "Requirements": obj(
        {
            "post": POST_ID,
            "creator": ADDRESS,
            "token": ADDRESS,
            "minBalance": BIG,
            "balance": nullable(BIG),
            "missing": nullable(BIG),
            "quoteBuy": nullable(BIG),
            "keyServers": STRS,
        }
    ),
    "Replication": obj(
        {
            "enabled": BOOL,
            "budget_bytes": NAT,
            "used_bytes": NAT,
            "pinned_posts": NAT,
            "queued": NAT,
            "failed": NAT,
            "evicted": NAT,
            "last_error": nullable(STR),
        }
    ),
    "StorageStats": {
        "oneOf": [
            obj(
                {
                    "backend": {"const": "embedded"},
                    "root": STR,
                    "usage": obj({"blocks": NAT, "bytes": NAT, "pins": NAT}),
                    "replication": nullable(ref("Replication")),
                },
                {
                    "bitswap": _BITSWAP,
                    "providing": obj({"pending": NAT, "provided": NAT, "failed": NAT}),
                },
            ),
            obj(
                {
                    "backend": {"const": "kubo"},
                    "health": {},
                    "replication": nullable(ref("Replication")),
                },
            ),
        ]
    },
    "OpenApi": {
        "description": "This document",
        "type": "object",
        "required": ["openapi", "info", "paths", "components"],
    },
}


# ------------------------------------------------------------------------------ bus events

# The JSON ``data`` of each server-sent event on GET /api/v1/events, keyed by its ``event:``
# name: the bus events of peer/events.py (a unit test proves the keys and fields match) plus
# the stream's own ``dropped``. Served as components ``Event.<kind>`` and listed in the
# document's ``x-events``.
EVENTS: dict[str, Schema] = {
    "service.ready": obj({"service": STR}),
    "service.stopped": obj({"service": STR}),
    "post.new": obj({"post_id": POST_ID, "creator": ADDRESS, "fork": BOOL}),
    "comment.new": obj(
        {"comment_id": POST_ID, "post_id": POST_ID, "author": ADDRESS, "parent": POST_ID}
    ),
    "comment.hidden": obj({"comment_id": POST_ID, "post_id": POST_ID, "hidden": BOOL}),
    "comment.deleted": obj({"comment_id": POST_ID, "post_id": POST_ID}),
    "like.removed": obj({"post_id": POST_ID, "actor": ADDRESS}),
    "comment.policy": obj({"post_id": POST_ID, "min_balance": BIG}),
    "publish.progress": obj(
        {"job": STR, "stage": {"enum": list(PUBLISH_STAGES)}, "done": NAT, "total": NAT}
    ),
    "publish.done": obj({"job": STR, "post_id": POST_ID, "manifest": STR}),
    "publish.failed": obj({"job": STR, "code": STR, "message": STR}),
    "wallet.tx": obj(
        {"action": {"enum": list(WALLET_ACTIONS)}, "tx": STR, "token": ADDRESS, "amount": BIG}
    ),
    "token.trade": obj(
        {
            "token": ADDRESS,
            "side": {"enum": ["buy", "sell"]},
            "trader": ADDRESS,
            "amount": BIG,
            "price": BIG,
            "supply": BIG,
            "block": NAT,
        }
    ),
    "unlock.done": obj({"post_id": POST_ID}),
    "replication.pinned": obj({"post_id": POST_ID, "creator": ADDRESS, "bytes": NAT}),
    "replication.evicted": obj(
        {"post_id": POST_ID, "reason": {"enum": ["budget", "unwanted", "withdrawn"]}, "bytes": NAT}
    ),
    "replication.failed": obj({"post_id": POST_ID, "error": STR, "permanent": BOOL}),
    "like.new": obj({"post_id": POST_ID, "actor": ADDRESS}),
    "follow.new": obj({"actor": ADDRESS, "creator": ADDRESS, "on": BOOL}),
    "post.counts": obj({"post_id": POST_ID, "likes": NAT}),
    "notification.new": obj({"id": NAT, "type": {"enum": list(NOTIFICATION_TYPES)}, "unread": NAT}),
    "dropped": obj({"count": NAT}),
}


def event_component(kind: str) -> str:
    """The component name of an event's payload schema."""
    return f"Event.{kind}"


COMPONENTS.update({event_component(kind): schema for kind, schema in EVENTS.items()})


@dataclass(frozen=True)
class Param:
    """A query parameter."""

    name: str
    schema: Schema
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class RouteSchema:
    """What one route takes and answers.

    ``ok`` maps each success status to its JSON schema. ``errors`` are the error statuses beyond
    the common ones (module docstring); ``error_bodies`` overrides the ``Error`` body per status.
    ``media`` replaces JSON for the success answers (SSE, decrypted media).
    """

    ok: Mapping[int, Schema]
    errors: frozenset[int] = frozenset()
    body: Schema | None = None
    query: tuple[Param, ...] = ()
    media: tuple[str, ...] = ()
    error_bodies: Mapping[int, Schema | None] = field(default_factory=dict)


_TRADE_POINT = obj(
    {
        "block": NAT,
        "timestamp": NAT,
        "side": {"enum": ["buy", "sell"]},
        "trader": ADDRESS,
        "amount": BIG,
        "total": BIG,
        "price": BIG,
        "supply": BIG,
        "tx": STR,
    }
)
PAGE_QUERY = (
    Param("cursor", STR, "opaque cursor from the previous page's next"),
    Param("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}),
)

# Error statuses by the services a handler uses (see the error table).
NODE = frozenset({502, 503})
P2P = frozenset({400, 404, 502, 503, 504})
FEED_READ = frozenset({400, 404, 503})
FEED_WRITE = frozenset({400, 403, 404, 409, 422, 502, 503})
CHAIN = frozenset({400, 402, 404, 409, 502, 503})
GATING = frozenset({400, 402, 403, 404, 409, 502, 503, 504})
STORE = frozenset({400, 404, 503, 504})
PUBLISH = frozenset({400, 404, 409, 422, 503})

_TOGGLE = obj({}, {"on": {**BOOL, "default": True}})

# ---- the social layer (peer/api/social.py) ----------------------------------------------
_NOTIFICATION = obj(
    {
        "id": NAT,
        "type": {"enum": list(NOTIFICATION_TYPES)},
        "subject": {**STR, "description": "the post, the user, the token or the creator"},
        "count": NAT,
        "actors": {**STRS, "description": "the latest (up to 3) addresses that acted"},
        "detail": {"type": "object", "additionalProperties": STR},
        "first_at": INT,
        "last_at": INT,
        "read": BOOL,
    }
)
_NOTIFICATIONS = obj({"items": array(_NOTIFICATION), "unread": NAT})
_SUGGESTION = obj(
    {
        "address": ADDRESS,
        "name": STR,
        "avatar_url": nullable(STR),
        "posts": NAT,
        "followers": NAT,
        "likes": NAT,
        "holders": NAT,
    }
)
_TRIED = obj(
    {"addr": STR, "state": {"enum": ["refused", "unreachable", "connected"]}, "reason": STR}
)
SOCIAL_SCHEMAS: dict[tuple[str, str], RouteSchema] = {
    ("POST", "/api/v1/profile/avatar"): RouteSchema(
        {200: obj({"cid": STR, "url": STR})},
        STORE,
        obj({"image": {**STR, "description": "base64 (or a data: URL) of a JPEG or PNG"}}),
    ),
    ("GET", "/api/v1/notifications"): RouteSchema(
        {200: _NOTIFICATIONS},
        FEED_READ,
        query=(
            Param("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 30}),
            Param("before", NAT, "only notifications with a smaller id"),
        ),
    ),
    ("POST", "/api/v1/notifications/read"): RouteSchema(
        {200: obj({"unread": NAT})},
        FEED_READ,
        obj({}, {"ids": {**array(NAT), "maxItems": 500, "description": "none: all"}}),
    ),
    ("GET", "/api/v1/tags/{tag}"): RouteSchema({200: ref("Page")}, FEED_READ, query=PAGE_QUERY),
    ("GET", "/api/v1/trending"): RouteSchema(
        {200: ref("Page")},
        FEED_READ,
        query=(Param("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}),),
    ),
    ("GET", "/api/v1/suggested-creators"): RouteSchema(
        {200: obj({"creators": array(_SUGGESTION)})},
        FEED_READ,
        query=(Param("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 8}),),
    ),
    ("GET", "/api/v1/share"): RouteSchema(
        {200: obj({"link": STR, "hints": STRS, "own": BOOL})},
        FEED_READ | P2P,
        query=(
            Param("post", POST_ID),
            Param("creator", ADDRESS),
            Param("own", {"enum": ["true", "false"]}, "add this peer's own addresses"),
        ),
    ),
    ("POST", "/api/v1/links/open"): RouteSchema(
        {
            200: obj(
                {
                    "post": nullable(POST_ID),
                    "creator": ADDRESS,
                    "tried": array(_TRIED),
                    "found": BOOL,
                    "message": STR,
                }
            )
        },
        FEED_READ | P2P,
        obj({"link": {**STR, "maxLength": 4096}}),
    ),
}
_PEER = obj({"peer": STR})

SCHEMAS: dict[tuple[str, str], RouteSchema] = {
    ("GET", "/healthz"): RouteSchema(
        {200: ref("Health")}, frozenset({503}), error_bodies={503: ref("Health")}
    ),
    ("GET", "/api/v1/status"): RouteSchema({200: ref("Status")}),
    ("GET", "/api/v1/openapi.json"): RouteSchema({200: ref("OpenApi")}),
    ("GET", "/api/v1/events"): RouteSchema(
        {200: {"type": "string", "description": "server-sent events; payloads in x-events"}},
        media=("text/event-stream",),
    ),
    ("GET", "/api/v1/peers"): RouteSchema(
        {200: obj({"peers": array(obj({"peer_id": STR, "addrs": STRS, "score": NUM}))})},
        NODE,
        query=(
            Param(
                "topic",
                STR,
                "only the peers this node knows to be subscribed to this gossipsub topic",
            ),
        ),
    ),
    ("POST", "/api/v1/login-links"): RouteSchema(
        {200: obj({"url": STR, "expires_in_s": NAT})}, frozenset(), EMPTY
    ),
    ("POST", "/api/v1/peers/connect"): RouteSchema(
        {200: obj({"peer_id": STR})}, P2P, obj({"multiaddr": STR})
    ),
    ("GET", "/api/v1/feed"): RouteSchema(
        {200: ref("Page")},
        FEED_READ,
        query=(Param("tab", {"enum": ["for_you", "following"], "default": "for_you"}), *PAGE_QUERY),
    ),
    ("GET", "/api/v1/search"): RouteSchema(
        {200: ref("Page")},
        FEED_READ,
        query=(Param("q", STR, "words; the last one matches as a prefix"), *PAGE_QUERY),
    ),
    ("GET", "/api/v1/posts/{post_id}"): RouteSchema({200: ref("FeedItem")}, FEED_READ),
    ("GET", "/api/v1/posts/{post_id}/clip"): RouteSchema(
        {200: ref("Clip")}, FEED_READ | STORE | {502}
    ),
    ("POST", "/api/v1/posts/{post_id}/like"): RouteSchema(
        {200: obj({"likes": NAT})}, FEED_WRITE, EMPTY
    ),
    ("POST", "/api/v1/posts/{post_id}/unlike"): RouteSchema(
        {200: obj({"likes": NAT})}, FEED_WRITE, EMPTY
    ),
    ("POST", "/api/v1/posts/{post_id}/delete"): RouteSchema(
        {200: obj({"deleted": {"const": True}})}, FEED_WRITE, EMPTY
    ),
    ("GET", "/api/v1/posts/{post_id}/comments"): RouteSchema(
        {200: ref("CommentPage")},
        FEED_READ,
        query=(
            *PAGE_QUERY,
            Param("hidden", {"enum": ["0", "1"], "default": "0"}, "1: include hidden comments"),
        ),
    ),
    ("POST", "/api/v1/posts/{post_id}/comments"): RouteSchema(
        {200: obj({"id": POST_ID})},
        FEED_WRITE | {402},
        obj(
            {"text": {**STR, "minLength": 1, "maxLength": 500}},
            {"parent": {**nullable(POST_ID), "description": "the comment this one answers"}},
        ),
    ),
    ("POST", "/api/v1/posts/{post_id}/comment-policy"): RouteSchema(
        {200: obj({"post": POST_ID, "min_balance": BIG})},
        FEED_WRITE,
        obj({"min_balance": {**BIG, "description": "base units; '0': everyone may comment"}}),
    ),
    ("POST", "/api/v1/comments/{comment_id}/hide"): RouteSchema(
        {200: obj({"id": POST_ID, "post": POST_ID, "hidden": BOOL})},
        FEED_WRITE,
        obj({}, {"hidden": {**BOOL, "default": True}}),
    ),
    ("POST", "/api/v1/comments/{comment_id}/delete"): RouteSchema(
        {200: obj({"id": POST_ID, "post": POST_ID, "deleted": {"const": True}})},
        FEED_WRITE,
        EMPTY,
    ),
    ("GET", "/api/v1/creators/{address}"): RouteSchema({200: ref("Creator")}, CHAIN | FEED_READ),
    ("GET", "/api/v1/creators/{address}/posts"): RouteSchema(
        {200: ref("Page")}, FEED_READ, query=PAGE_QUERY
    ),
    ("POST", "/api/v1/creators/{address}/follow"): RouteSchema(
        {200: obj({"following": BOOL})}, FEED_WRITE, _TOGGLE
    ),
    ("POST", "/api/v1/creators/{address}/mute"): RouteSchema(
        {200: obj({"muted": BOOL})}, FEED_WRITE, _TOGGLE
    ),
    ("POST", "/api/v1/creators/{address}/block"): RouteSchema(
        {200: obj({"blocked": BOOL})}, FEED_WRITE, _TOGGLE
    ),
    ("POST", "/api/v1/publish"): RouteSchema({202: ref("JobAccepted")}, PUBLISH),
    ("POST", "/api/v1/publish/file"): RouteSchema(
        {202: ref("JobAccepted")},
        PUBLISH,
        obj(
            {"path": {**STR, "description": "absolute path on this machine"}, "title": STR},
            {
                "tags": STRS,
                "premium": BOOL,
                "min_balance": {
                    "anyOf": [NAT, {"type": "string", "pattern": "^[0-9]*$"}],
                    "description": "whole tokens",
                },
            },
        ),
    ),
    ("GET", "/api/v1/publish/{job}"): RouteSchema({200: ref("Job")}, frozenset({404, 503})),
    ("GET", "/api/v1/tokens/{token}"): RouteSchema({200: ref("TokenInfo")}, CHAIN),
    ("GET", "/api/v1/tokens/{token}/quote"): RouteSchema(
        {200: ref("Quote")},
        CHAIN,
        query=(
            Param("side", {"enum": ["buy", "sell"], "default": "buy"}),
            Param("amount", STR, "whole tokens, e.g. 1.5", required=True),
        ),
    ),
    ("GET", "/api/v1/tokens/{token}/history"): RouteSchema(
        {200: obj({"start_price": BIG, "points": array(_TRADE_POINT)})}, CHAIN
    ),
    ("GET", "/api/v1/tokens/{token}/holders"): RouteSchema(
        {200: obj({"holders": array(obj({"address": ADDRESS, "balance": BIG}))})}, CHAIN
    ),
    ("POST", "/api/v1/tokens/{token}/buy"): RouteSchema(
        {200: ref("Trade")},
        CHAIN,
        obj({"amount": STR}, {"max_cost": BIG, "confirm": BOOL}),
    ),
    ("POST", "/api/v1/tokens/{token}/sell"): RouteSchema(
        {200: ref("Trade")},
        CHAIN,
        obj({"amount": STR}, {"min_refund": BIG, "confirm": BOOL}),
    ),
    ("POST", "/api/v1/tokens/{token}/buy/transactions"): RouteSchema(
        {200: ref("WalletTransactions")},
        CHAIN,
        obj({"amount": STR, "holder": ADDRESS, "max_cost": BIG}),
    ),
    ("POST", "/api/v1/tokens/{token}/sell/transactions"): RouteSchema(
        {200: ref("WalletTransactions")},
        CHAIN,
        obj({"amount": STR, "holder": ADDRESS, "min_refund": BIG}),
    ),
    ("GET", "/api/v1/transactions/{tx}"): RouteSchema(
        {
            200: obj(
                {
                    "tx": STR,
                    "ok": BOOL,
                    "block": NAT,
                    "token": nullable(ADDRESS),
                    "trader": nullable(ADDRESS),
                    "trade": nullable(ref("Trade")),
                }
            )
        },
        CHAIN,
    ),
    ("POST", "/api/v1/token"): RouteSchema(
        {200: ref("TokenInfo")},
        CHAIN,
        obj(
            {
                "name": {**STR, "minLength": 1, "maxLength": 25},
                "symbol": {**STR, "minLength": 1, "maxLength": 5},
            }
        ),
    ),
    ("GET", "/api/v1/dashboard"): RouteSchema(
        {
            200: obj(
                {
                    "creator": ADDRESS,
                    "followers": NAT,
                    "likes": NAT,
                    "comments": NAT,
                    "token": nullable(ref("TokenInfo")),
                    "holders": array(obj({"address": ADDRESS, "balance": BIG})),
                    "holder_count": NAT,
                    "earnings": obj(
                        {
                            "total": BIG,
                            "per_day": array(obj({"day": STR, "fees": BIG})),
                            "trades": NAT,
                            "own_trades": NAT,
                        }
                    ),
                    "clips": array(
                        obj({"post_id": POST_ID, "title": STR, "buys": NAT, "paid": BIG})
                    ),
                }
            )
        },
        CHAIN,
    ),
    ("GET", "/api/v1/portfolio"): RouteSchema(
        {
            200: obj(
                {
                    "address": ADDRESS,
                    "tok_balance": BIG,
                    "positions": array(
                        obj(
                            {
                                "token": ADDRESS,
                                "creator": ADDRESS,
                                "name": STR,
                                "symbol": STR,
                                "price": BIG,
                                "balance": BIG,
                                "value": nullable(BIG),
                                "cost_basis": BIG,
                                "gain": {"type": "string", "pattern": "^-?[0-9]+$"},
                                "realized": {"type": "string", "pattern": "^-?[0-9]+$"},
                                "unpriced": BIG,
                                "trades": NAT,
                            }
                        )
                    ),
                    "total_value": BIG,
                    "total_cost_basis": BIG,
                }
            )
        },
        CHAIN,
    ),
    ("GET", "/api/v1/wallet"): RouteSchema(
        {
            200: obj(
                {
                    "address": nullable(ADDRESS),
                    "state": {"enum": ["none", "locked", "unlocked"]},
                    "tok_balance": nullable(BIG),
                }
            )
        },
        CHAIN,
    ),
    ("GET", "/api/v1/clips/{post_id}/media/{rendition}"): RouteSchema(
        {200: STR, 206: STR},
        GATING | {402, 416},
        media=("video/*", "audio/*"),
        error_bodies={402: ref("Locked"), 416: None},
    ),
    ("GET", "/api/v1/clips/{post_id}/requirements"): RouteSchema(
        {200: ref("Requirements")},
        GATING,
        query=(Param("holder", ADDRESS, "a browser wallet's address (default: the peer's)"),),
    ),
    ("GET", "/api/v1/clips/{post_id}/buy-plan"): RouteSchema(
        {
            200: nullable(
                obj(
                    {"token": ADDRESS, "amount": BIG, "quote": BIG, "maxCost": BIG, "max_cost": BIG}
                )
            )
        },
        GATING,
        query=(
            Param("slippage", NAT, "basis points"),
            Param("holder", ADDRESS, "a browser wallet's address (default: the peer's wallet)"),
        ),
    ),
    ("POST", "/api/v1/clips/{post_id}/unlock"): RouteSchema(
        {
            200: obj(
                {
                    "post": POST_ID,
                    "unlocked": {"const": True},
                    "bought": nullable(obj({"amount": BIG, "maxCost": BIG})),
                }
            )
        },
        GATING,
        obj({}, {"buy": BOOL, "max_cost": BIG}),
    ),
    ("POST", "/api/v1/clips/{post_id}/unlock/challenge"): RouteSchema(
        {200: ref("UnlockChallenge")},
        GATING,
        obj({"holder": ADDRESS}, {"wait": BOOL}),
    ),
    ("POST", "/api/v1/clips/{post_id}/unlock/signature"): RouteSchema(
        {
            200: {
                "oneOf": [
                    obj({"post": POST_ID, "unlocked": {"const": True}}),
                    obj(
                        {
                            "post": POST_ID,
                            "unlocked": {"const": False},
                            "next": ref("UnlockChallenge"),
                        }
                    ),
                ]
            }
        },
        GATING,
        obj(
            {
                "challenge": {**STR, "minLength": 1, "maxLength": 64},
                "signature": {"type": "string", "pattern": "^0x[0-9a-fA-F]{130}$"},
            }
        ),
    ),
    ("POST", "/api/v1/creators/{address}/unlock"): RouteSchema(
        {
            200: obj(
                {
                    "results": array(
                        obj(
                            {
                                "post": POST_ID,
                                "unlocked": BOOL,
                                "error": nullable(STR),
                                "code": nullable(STR),
                            }
                        )
                    )
                }
            )
        },
        GATING,
        EMPTY,
    ),
    ("POST", "/api/v1/gating/delegate"): RouteSchema(
        {200: obj({"delegated": NAT, "imported": NAT})}, GATING | FEED_WRITE, _PEER
    ),
    ("POST", "/api/v1/gating/revoke"): RouteSchema(
        {200: obj({"key_servers": STRS})}, FEED_WRITE, _PEER
    ),
    ("GET", "/api/v1/storage"): RouteSchema({200: ref("StorageStats")}, STORE),
    ("POST", "/api/v1/storage/add"): RouteSchema(
        {200: obj({"cid": STR, "size": NAT, "pinned": BOOL})},
        STORE,
        obj({"path": STR}, {"cid_version": {"enum": [0, 1]}, "pin": BOOL}),
    ),
    ("POST", "/api/v1/storage/pin"): RouteSchema(
        {200: obj({"cid": STR, "kind": {"enum": ["recursive", "direct"]}})},
        STORE,
        obj({"cid": STR}, {"recursive": BOOL}),
    ),
    ("POST", "/api/v1/storage/unpin"): RouteSchema(
        {200: obj({"cid": STR})}, STORE, obj({"cid": STR})
    ),
    ("POST", "/api/v1/storage/gc"): RouteSchema(
        {200: obj({"removed_blocks": NAT, "freed_bytes": NAT})}, STORE, EMPTY
    ),
    ("GET", "/api/v1/profile"): RouteSchema(
        {
            200: obj(
                {
                    "address": ADDRESS,
                    "name": STR,
                    "token": nullable(ADDRESS),
                    "avatar": STR,
                    "avatar_url": nullable(STR),
                }
            )
        },
        CHAIN | FEED_READ,
    ),
    ("POST", "/api/v1/profile"): RouteSchema(
        {200: obj({"address": ADDRESS, "name": STR, "avatar": STR})},
        FEED_WRITE,
        obj(
            {"name": {**STR, "minLength": 1, "maxLength": 64}},
            {"avatar": {**STR, "description": "a CID from POST /profile/avatar, or '' for none"}},
        ),
    ),
    **SOCIAL_SCHEMAS,
}

UPLOAD_FORM: Schema = obj(
    {
        "file": {
            "type": "string",
            "contentMediaType": "application/octet-stream",
            "description": "the clip; streamed to disk, capped at storage.max_upload_mb",
        }
    },
    {
        "title": STR,
        "tags": {**STR, "description": "comma-separated"},
        "premium": {"enum": ["true", "false"]},
        "min_balance": {"type": "string", "pattern": "^[0-9]*$", "description": "whole tokens"},
    },
)
