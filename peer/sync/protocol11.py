"""The catch-up sync protocol ``/toktok/sync/1.1.0`` (pure: bytes in, messages or errors out).

1.1 answers every 1.0 message unchanged (``heads``, ``range``, ``profiles``: see
``peer.sync.protocol``) and adds two operations, generic over a record *kind* (the wire kind,
the envelope key: ``follow``, ``like``, ``likeV2``, ``tombstone``...). A *group* is (kind,
author), the author being the record's signer::

    {"v": 1, "op": "kind-heads", "kind": "follow"}
      -> {"v": 1, "kind": "follow", "authors": {"0xAbC...": [count, "0x<16-byte digest>"]},
          "more": false}
    {"v": 1, "op": "kind-range", "kind": "follow", "author": "0xAbC...",
     "after": "0x<32-byte record id>", "limit": 20}
      -> {"v": 1, "records": ["<wire record>", ...]}         (the 1.0 records response)

``count`` is the number of records of the group the server serves, ``digest`` the first 16
bytes of sha256 over their ids sorted ascending and concatenated; two peers holding the same
group send the same pair. ``kind-range`` answers the group's records with id > ``after`` in
ascending id order (``after`` = 32 zero bytes for the start), at most ``limit``. A kind the
server does not sync answers empty (``authors: {}``, ``records: []``), never an error, so
kinds can be added later without breaking older 1.1 peers. At most ``Limits.max_authors``
authors per kind-heads message (a random sample, ``more: true``, when the server has more).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from peer.feed.synckinds import DIGEST_BYTES
from peer.feed.wire import MAX_JSON_NUMBER
from peer.sync import protocol as sp
from peer.sync.errors import SyncProtocolError

PROTOCOL_ID: Final = "/toktok/sync/1.1.0"
MAX_KIND_CHARS: Final = 32
START: Final = bytes(32)
"""``after`` of a group's first page."""


@dataclass(frozen=True, slots=True)
class KindHeadsRequest:
    """Ask for the server's groups of ``kind``."""

    kind: str


@dataclass(frozen=True, slots=True)
class KindRangeRequest:
    """Ask for group (``kind``, ``author``)'s records with id > ``after``, at most ``limit``."""

    kind: str
    author: str
    after: bytes
    limit: int


@dataclass(frozen=True, slots=True)
class KindHeads:
    """A server's groups of one kind: ``authors[author] = (count, digest)``."""

    kind: str
    authors: dict[str, tuple[int, bytes]]
    more: bool = False


Request = sp.Request | KindHeadsRequest | KindRangeRequest


def encode_request(request: Request) -> bytes:
    """Wire bytes of a 1.1 request (1.0 requests are encoded as in 1.0)."""
    if isinstance(request, KindHeadsRequest):
        return sp.dump_json({"v": sp.VERSION, "op": "kind-heads", "kind": request.kind})
    if isinstance(request, KindRangeRequest):
        return sp.dump_json(
            {
                "v": sp.VERSION,
                "op": "kind-range",
                "kind": request.kind,
                "author": request.author,
                "after": "0x" + request.after.hex(),
                "limit": request.limit,
            }
        )
    return sp.encode_request(request)


def encode_kind_heads(heads: KindHeads) -> bytes:
    """Wire bytes of a kind-heads response."""
    authors = {a: [n, "0x" + d.hex()] for a, (n, d) in sorted(heads.authors.items())}
    return sp.dump_json(
        {"v": sp.VERSION, "kind": heads.kind, "authors": authors, "more": heads.more}
    )


def _kind(value: object, what: str) -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= MAX_KIND_CHARS
        or not value.isascii()
        or not value.isalnum()
    ):
        raise SyncProtocolError(f"{what}: a kind is 1 to {MAX_KIND_CHARS} ASCII letters/digits")
    return value


def _hex(value: object, nbytes: int, what: str) -> bytes:
    if (
        not isinstance(value, str)
        or len(value) != 2 + 2 * nbytes
        or not value.startswith("0x")
        or not sp.LOWER_HEX.issuperset(value[2:])
    ):
        raise SyncProtocolError(f"{what} must be 0x + {2 * nbytes} lowercase hex digits")
    return bytes.fromhex(value[2:])


def decode_request(data: bytes, limits: sp.Limits) -> Request:
    """Decode a 1.1 request strictly (the 1.0 operations as in 1.0)."""
    obj = sp.parse_message(data, limits.max_request_bytes, "sync request")
    op = obj.get("op")
    if op == "kind-heads":
        sp.require_keys(obj, {"v", "op", "kind"}, "kind-heads request")
        return KindHeadsRequest(_kind(obj["kind"], "kind-heads kind"))
    if op == "kind-range":
        sp.require_keys(obj, {"v", "op", "kind", "author", "after", "limit"}, "kind-range request")
        return KindRangeRequest(
            _kind(obj["kind"], "kind-range kind"),
            sp.address(obj["author"], "kind-range author"),
            _hex(obj["after"], 32, "kind-range after"),
            sp.integer(obj["limit"], 1, limits.max_page, "kind-range limit"),
        )
    return sp.decode_request(data, limits)


def decode_kind_heads(data: bytes, kind: str, limits: sp.Limits) -> KindHeads:
    """Decode a kind-heads response for ``kind`` strictly, within ``limits.max_authors``."""
    obj: dict[str, Any] = sp.parse_message(data, limits.max_kind_heads_bytes, "kind-heads response")
    sp.require_keys(obj, {"v", "kind", "authors", "more"}, "kind-heads response")
    if obj["kind"] != kind:
        raise SyncProtocolError(f"kind-heads response for {str(obj['kind'])[:40]!r}, not {kind}")
    authors_in, more = obj["authors"], obj["more"]
    if not isinstance(authors_in, dict):
        raise SyncProtocolError("kind-heads authors must be an object")
    if type(more) is not bool:
        raise SyncProtocolError("kind-heads more must be true or false")
    if len(authors_in) > limits.max_authors:
        raise SyncProtocolError(
            f"kind-heads lists {len(authors_in)} authors; the limit is {limits.max_authors}"
        )
    authors: dict[str, tuple[int, bytes]] = {}
    for author, group in authors_in.items():
        sp.address(author, "kind-heads author")
        if not isinstance(group, list) or len(group) != 2:
            raise SyncProtocolError("a group head must be [count, digest]")
        authors[author] = (
            sp.integer(group[0], 1, MAX_JSON_NUMBER, "group count"),
            _hex(group[1], DIGEST_BYTES, "group digest"),
        )
    return KindHeads(kind, authors, more)
