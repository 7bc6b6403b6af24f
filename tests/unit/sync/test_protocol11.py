"""The sync 1.1 wire protocol: kind heads and kind ranges, strict decoding and caps."""

from __future__ import annotations

import json

import pytest

from peer.feed.wire import MAX_JSON_NUMBER
from peer.sync import protocol as sp
from peer.sync import protocol11 as p11
from peer.sync.errors import SyncProtocolError

ADDR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ADDR2 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
DIGEST = bytes(range(16))
LIMITS = sp.Limits()


def j(obj: object) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    "request_",
    [
        p11.KindHeadsRequest("follow"),
        p11.KindHeadsRequest("likeV2"),
        p11.KindRangeRequest("tombstone", ADDR, p11.START, 20),
        p11.KindRangeRequest("like", ADDR2, bytes(range(32)), 100),
        sp.HeadsRequest(),
        sp.RangeRequest(ADDR, 3, 20),
        sp.ProfilesRequest((ADDR,)),
    ],
)
def test_requests_round_trip_including_the_1_0_ones(request_: p11.Request) -> None:
    assert p11.decode_request(p11.encode_request(request_), LIMITS) == request_


def test_1_0_requests_are_byte_identical_in_1_1() -> None:
    for request in (sp.HeadsRequest(), sp.RangeRequest(ADDR, 1, 5), sp.ProfilesRequest((ADDR,))):
        assert p11.encode_request(request) == sp.encode_request(request)


def test_a_1_0_server_refuses_the_new_operations() -> None:
    with pytest.raises(SyncProtocolError, match="unknown sync op"):
        sp.decode_request(p11.encode_request(p11.KindHeadsRequest("follow")), LIMITS)


def test_kind_heads_round_trip() -> None:
    heads = p11.KindHeads("like", {ADDR: (3, DIGEST), ADDR2: (MAX_JSON_NUMBER, bytes(16))}, True)
    assert p11.decode_kind_heads(p11.encode_kind_heads(heads), "like", LIMITS) == heads


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"v": 1, "op": "kind-heads", "kind": ""}, "a kind is"),
        ({"v": 1, "op": "kind-heads", "kind": "x" * 33}, "a kind is"),
        ({"v": 1, "op": "kind-heads", "kind": "lik-e"}, "a kind is"),
        ({"v": 1, "op": "kind-heads", "kind": "likë"}, "a kind is"),
        ({"v": 1, "op": "kind-heads", "kind": 7}, "a kind is"),
        ({"v": 1, "op": "kind-heads", "kind": "like", "x": 1}, "exactly"),
        ({"v": 2, "op": "kind-heads", "kind": "like"}, "unsupported version"),
        (
            {"v": 1, "op": "kind-range", "kind": "like", "author": ADDR.lower(),
             "after": "0x" + "00" * 32, "limit": 1},
            "checksummed",
        ),
        (
            {"v": 1, "op": "kind-range", "kind": "like", "author": ADDR,
             "after": "0x" + "AB" * 32, "limit": 1},
            "lowercase hex",
        ),
        (
            {"v": 1, "op": "kind-range", "kind": "like", "author": ADDR,
             "after": "0x" + "00" * 31, "limit": 1},
            "lowercase hex",
        ),
        (
            {"v": 1, "op": "kind-range", "kind": "like", "author": ADDR,
             "after": "0x" + "00" * 32, "limit": 101},
            "limit",
        ),
        (
            {"v": 1, "op": "kind-range", "kind": "like", "author": ADDR,
             "after": "0x" + "00" * 32, "limit": 0},
            "limit",
        ),
        ({"v": 1, "op": "kind-range", "kind": "like", "author": ADDR, "limit": 1}, "exactly"),
    ],
)  # fmt: skip
def test_malformed_requests_are_refused(obj: object, message: str) -> None:
    with pytest.raises(SyncProtocolError, match=message):
        p11.decode_request(j(obj), LIMITS)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"v": 1, "kind": "follow", "authors": {}, "more": False}, "not like"),
        ({"v": 1, "kind": "like", "authors": [], "more": False}, "must be an object"),
        ({"v": 1, "kind": "like", "authors": {}, "more": 0}, "true or false"),
        ({"v": 1, "kind": "like", "authors": {ADDR: [0, "0x" + "00" * 16]}, "more": False},
         "group count"),
        ({"v": 1, "kind": "like", "authors": {ADDR: [1, "0x" + "00" * 32]}, "more": False},
         "group digest"),
        ({"v": 1, "kind": "like", "authors": {ADDR: [1]}, "more": False}, "count, digest"),
        ({"v": 1, "kind": "like", "authors": {"0x12": [1, "0x" + "00" * 16]}, "more": False},
         "not an address"),
        ({"v": 1, "kind": "like", "authors": {}, "more": False, "forks": {}}, "exactly"),
    ],
)  # fmt: skip
def test_malformed_kind_heads_are_refused(obj: object, message: str) -> None:
    with pytest.raises(SyncProtocolError, match=message):
        p11.decode_kind_heads(j(obj), "like", LIMITS)


def test_the_largest_honest_kind_heads_fits_its_cap_and_one_author_more_is_refused() -> None:
    limits = sp.Limits(max_authors=50)
    authors = {
        f"0x{n:040d}": (MAX_JSON_NUMBER, b"\xff" * 16) for n in range(limits.max_authors + 1)
    }
    # addresses of digits only are their own EIP-55 form
    full = p11.KindHeads("x" * p11.MAX_KIND_CHARS, dict(list(authors.items())[:50]), True)
    data = p11.encode_kind_heads(full)
    assert len(data) <= limits.max_kind_heads_bytes
    assert p11.decode_kind_heads(data, full.kind, limits) == full
    over = p11.encode_kind_heads(p11.KindHeads(full.kind, authors, True))
    with pytest.raises(SyncProtocolError):
        p11.decode_kind_heads(over, full.kind, limits)


def test_an_oversized_kind_heads_is_refused_before_parsing() -> None:
    data = b'{"v":1,"kind":"like","authors":{},"more":false' + b" " * 200_000 + b"}"
    with pytest.raises(SyncProtocolError, match="bytes"):
        p11.decode_kind_heads(data, "like", LIMITS)
