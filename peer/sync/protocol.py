"""The catch-up sync protocol ``/toktok/sync/1.0.0`` (pure: bytes in, messages or errors out).

One request/response exchange per message, UTF-8 JSON, decoded strictly (exact key sets, no
duplicate keys, no floats, exact types, EIP-55 addresses, caps on every count and size):

Requests::

    {"v": 1, "op": "heads"}
    {"v": 1, "op": "range", "creator": "0xAbC...", "from": 7, "limit": 20}
    {"v": 1, "op": "profiles", "creators": ["0xAbC...", ...]}

Responses::

    heads:             {"v": 1, "posts": {"0xAbC...": [seq, "0x<post id>"]},
                        "profiles": {"0xAbC...": version}, "more": false,
                        "forks": {"0xAbC...": seq}}        ("forks" only when not empty)
    range / profiles:  {"v": 1, "records": ["<wire record>", ...]}

``heads`` lists, per creator, the highest stored ``seq`` and its post id, and the stored profile
version; ``more`` says the server had more creators than fit in one message (it sends a
different subset next time). ``forks`` names, for creators listed in ``posts``, the lowest seq
at which the server holds two different posts (a fork): a peer whose head is the same as ours
cannot otherwise tell that it holds the other side, since forks are not forwarded on gossip.
The key is left out when there are none, so such a heads message is the original format.
``range`` returns the creator's posts with ``seq >= from`` in ascending seq order, both sides
of a fork included, at most ``limit``. ``profiles`` returns the
stored profile records of the named creators (absent ones are skipped). Records are the feed's
wire records (JSON text) as strings; the receiver runs each through the feed validator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

from peer.feed.wire import MAX_JSON_NUMBER, MAX_RECORD_BYTES, checksum_address
from peer.sync.errors import SyncProtocolError
from storage import untrusted
from storage.errors import UntrustedJsonError

PROTOCOL_ID: Final = "/toktok/sync/1.0.0"
VERSION: Final = 1
_HEX: Final = frozenset("0123456789abcdefABCDEF")
LOWER_HEX: Final = frozenset("0123456789abcdef")
MAX_DEPTH: Final = 4
"""Deepest nesting of any sync message (a heads response nests 3 levels)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps both sides enforce; a message beyond them is a protocol error."""

    max_creators: int = 1000
    """Most creators in one heads message (posts and profiles counted separately)."""
    max_page: int = 100
    """Largest ``limit`` of a range request, and most records in one response."""
    max_profiles: int = 100
    """Most creators named in one profiles request."""
    max_request_bytes: int = 16 * 1024
    """Largest request accepted (a profiles request of 100 creators is about 4.6 KB)."""
    max_authors: int = 1000
    """Most authors in one sync 1.1 kind-heads message."""

    @property
    def max_heads_bytes(self) -> int:
        """Largest heads response accepted: per creator at most 133 bytes of post head
        (``"0x<40>":[2^53,"0x<64>"],``) and 62 each of profile version and fork seq, plus
        slack for the frame."""
        return 260 * self.max_creators + 256

    @property
    def max_kind_heads_bytes(self) -> int:
        """Largest kind-heads response (sync 1.1) accepted: per author at most 101 bytes
        (``"0x<40>":[2^53,"0x<32>"],``), plus slack for the frame and the kind."""
        return 104 * self.max_authors + 256

    def records_bytes(self, count: int) -> int:
        """Largest response to a request for ``count`` records: each record may double when
        quoted as a string (20 records: 655,696 bytes)."""
        return count * (2 * MAX_RECORD_BYTES + 4) + 256

    @property
    def max_records_bytes(self) -> int:
        """Largest records response for the largest page or profiles request."""
        return self.records_bytes(max(self.max_page, self.max_profiles))


@dataclass(frozen=True, slots=True)
class HeadsRequest:
    """Ask for the server's heads."""


@dataclass(frozen=True, slots=True)
class RangeRequest:
    """Ask for ``creator``'s posts with ``seq >= from_seq``, at most ``limit``."""

    creator: str
    from_seq: int
    limit: int


@dataclass(frozen=True, slots=True)
class ProfilesRequest:
    """Ask for the stored profiles of ``creators``."""

    creators: tuple[str, ...]


Request = HeadsRequest | RangeRequest | ProfilesRequest


@dataclass(frozen=True, slots=True)
class Heads:
    """A peer's heads: ``posts[creator] = (seq, post id)``, ``profiles[creator] = version``,
    ``forks[creator] = lowest forked seq`` (creators of ``posts`` only, seq <= their head)."""

    posts: dict[str, tuple[int, bytes]]
    profiles: dict[str, int]
    more: bool = False
    forks: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Records:
    """Wire records in a range or profiles response."""

    records: tuple[bytes, ...]


# ---- encoding ------------------------------------------------------------------------------


def dump_json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def encode_request(request: Request) -> bytes:
    """Wire bytes of a request."""
    if isinstance(request, HeadsRequest):
        return dump_json({"v": VERSION, "op": "heads"})
    if isinstance(request, RangeRequest):
        return dump_json(
            {
                "v": VERSION,
                "op": "range",
                "creator": request.creator,
                "from": request.from_seq,
                "limit": request.limit,
            }
        )
    return dump_json({"v": VERSION, "op": "profiles", "creators": list(request.creators)})


def encode_heads(heads: Heads) -> bytes:
    """Wire bytes of a heads response."""
    posts = {c: [seq, "0x" + pid.hex()] for c, (seq, pid) in sorted(heads.posts.items())}
    obj: dict[str, Any] = {
        "v": VERSION,
        "posts": posts,
        "profiles": dict(sorted(heads.profiles.items())),
        "more": heads.more,
    }
    if heads.forks:
        obj["forks"] = dict(sorted(heads.forks.items()))
    return dump_json(obj)


def encode_records(records: Records) -> bytes:
    """Wire bytes of a range or profiles response."""
    return dump_json({"v": VERSION, "records": [r.decode("utf-8") for r in records.records]})


# ---- decoding ------------------------------------------------------------------------------


def parse_message(data: bytes, limit: int, what: str) -> dict[str, Any]:
    try:
        obj = untrusted.loads(
            data, max_bytes=limit, max_depth=MAX_DEPTH, integers_only=True, what=what
        )
    except UntrustedJsonError as exc:
        raise SyncProtocolError(str(exc)) from exc
    if not isinstance(obj, dict):
        raise SyncProtocolError(f"{what} must be a JSON object")
    if type(obj.get("v")) is not int or obj["v"] != VERSION:
        raise SyncProtocolError(f"{what}: unsupported version {obj.get('v')!r}; expected 1")
    return obj


def require_keys(obj: dict[str, Any], expected: set[str], what: str) -> None:
    if set(obj) != expected:
        raise SyncProtocolError(f"{what} must have exactly {sorted(expected)}; got {sorted(obj)}")


def address(value: object, what: str) -> str:
    if (
        not isinstance(value, str)
        or len(value) != 42
        or not value.startswith("0x")
        or not _HEX.issuperset(value[2:])
    ):
        raise SyncProtocolError(f"{what}: not an address")
    if checksum_address(bytes.fromhex(value[2:])) != value:
        raise SyncProtocolError(f"{what}: address {value} is not EIP-55 checksummed")
    return value


def integer(value: object, low: int, high: int, what: str) -> int:
    if type(value) is not int or not low <= value <= high:
        raise SyncProtocolError(f"{what} must be an integer in [{low}, {high}]")
    return value


def _post_id(value: object, what: str) -> bytes:
    if (
        not isinstance(value, str)
        or len(value) != 66
        or not value.startswith("0x")
        or not LOWER_HEX.issuperset(value[2:])
    ):
        raise SyncProtocolError(f"{what}: post id must be 0x + 64 lowercase hex digits")
    return bytes.fromhex(value[2:])


def decode_request(data: bytes, limits: Limits) -> Request:
    """Decode a request strictly; ``SyncProtocolError`` on any deviation or cap."""
    obj = parse_message(data, limits.max_request_bytes, "sync request")
    op = obj.get("op")
    if op == "heads":
        require_keys(obj, {"v", "op"}, "heads request")
        return HeadsRequest()
    if op == "range":
        require_keys(obj, {"v", "op", "creator", "from", "limit"}, "range request")
        return RangeRequest(
            address(obj["creator"], "range creator"),
            integer(obj["from"], 1, MAX_JSON_NUMBER, "range from"),
            integer(obj["limit"], 1, limits.max_page, "range limit"),
        )
    if op == "profiles":
        require_keys(obj, {"v", "op", "creators"}, "profiles request")
        creators = obj["creators"]
        if not isinstance(creators, list) or not 1 <= len(creators) <= limits.max_profiles:
            raise SyncProtocolError(f"profiles request needs 1 to {limits.max_profiles} creators")
        names = tuple(address(c, "profiles creator") for c in creators)
        if len(set(names)) != len(names):
            raise SyncProtocolError("profiles request names a creator twice")
        return ProfilesRequest(names)
    raise SyncProtocolError(f"unknown sync op {str(op)[:30]!r}")


def decode_heads(data: bytes, limits: Limits) -> Heads:
    """Decode a heads response strictly, within ``limits.max_creators`` per map."""
    obj = parse_message(data, limits.max_heads_bytes, "heads response")
    base = {"v", "posts", "profiles", "more"}
    require_keys(obj, base | {"forks"} if "forks" in obj else base, "heads response")
    posts_in, profiles_in, more = obj["posts"], obj["profiles"], obj["more"]
    if not isinstance(posts_in, dict) or not isinstance(profiles_in, dict):
        raise SyncProtocolError("heads posts and profiles must be objects")
    if type(more) is not bool:
        raise SyncProtocolError("heads more must be true or false")
    if len(posts_in) > limits.max_creators or len(profiles_in) > limits.max_creators:
        raise SyncProtocolError(
            f"heads lists more than {limits.max_creators} creators "
            f"({len(posts_in)} posts, {len(profiles_in)} profiles)"
        )
    posts: dict[str, tuple[int, bytes]] = {}
    for creator, head in posts_in.items():
        address(creator, "heads creator")
        if not isinstance(head, list) or len(head) != 2:
            raise SyncProtocolError("a post head must be [seq, post id]")
        posts[creator] = (
            integer(head[0], 1, MAX_JSON_NUMBER, "head seq"),
            _post_id(head[1], "head"),
        )
    profiles = {
        address(c, "heads profile creator"): integer(ver, 0, MAX_JSON_NUMBER, "profile version")
        for c, ver in profiles_in.items()
    }
    return Heads(posts, profiles, more, _forks(obj.get("forks", {}), posts))


def _forks(forks_in: object, posts: dict[str, tuple[int, bytes]]) -> dict[str, int]:
    if not isinstance(forks_in, dict):
        raise SyncProtocolError("heads forks must be an object")
    forks: dict[str, int] = {}
    for creator, seq in forks_in.items():
        if creator not in posts:
            raise SyncProtocolError("heads forks names a creator without a post head")
        forks[creator] = integer(seq, 1, posts[creator][0], "fork seq (at most the head seq)")
    return forks


def decode_records(data: bytes, max_count: int, limits: Limits) -> Records:
    """Decode a records response of at most ``max_count`` records, each within the wire cap."""
    obj = parse_message(data, limits.records_bytes(max_count), "records response")
    require_keys(obj, {"v", "records"}, "records response")
    items = obj["records"]
    if not isinstance(items, list) or len(items) > max_count:
        raise SyncProtocolError(f"records must be a list of at most {max_count}")
    out: list[bytes] = []
    for item in items:
        if not isinstance(item, str):
            raise SyncProtocolError("a record must be a string (the wire JSON)")
        try:
            raw = item.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise SyncProtocolError("a record is not valid Unicode") from exc
        if len(raw) > MAX_RECORD_BYTES:
            raise SyncProtocolError(
                f"a record is {len(raw)} bytes; the limit is {MAX_RECORD_BYTES}"
            )
        out.append(raw)
    return Records(tuple(out))
