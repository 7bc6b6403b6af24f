"""The sync wire protocol: round trips, strict decoding, caps, hostile inputs."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from peer.feed.wire import MAX_RECORD_BYTES
from peer.sync import protocol as sp
from peer.sync.errors import SyncProtocolError

ADDR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ADDR2 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PID = bytes(range(32))
LIMITS = sp.Limits()


def j(obj: object) -> bytes:
    return json.dumps(obj).encode()


@pytest.mark.parametrize(
    "request_",
    [
        sp.HeadsRequest(),
        sp.RangeRequest(ADDR, 1, 20),
        sp.RangeRequest(ADDR, 2**53, 100),
        sp.ProfilesRequest((ADDR, ADDR2)),
    ],
)
def test_requests_round_trip(request_: sp.Request) -> None:
    assert sp.decode_request(sp.encode_request(request_), LIMITS) == request_


def test_heads_round_trip() -> None:
    heads = sp.Heads({ADDR: (25, PID), ADDR2: (1, bytes(32))}, {ADDR: 3, ADDR2: 0}, more=True)
    assert sp.decode_heads(sp.encode_heads(heads), LIMITS) == heads


def test_heads_with_forks_round_trip_and_heads_without_forks_keep_the_original_format() -> None:
    forked = sp.Heads({ADDR: (25, PID), ADDR2: (4, PID)}, {}, forks={ADDR: 7})
    assert sp.decode_heads(sp.encode_heads(forked), LIMITS) == forked
    plain = sp.Heads({ADDR: (25, PID)}, {ADDR: 1})
    assert set(json.loads(sp.encode_heads(plain))) == {"v", "posts", "profiles", "more"}


def test_records_round_trip_keeps_bytes_exactly() -> None:
    records = sp.Records((b'{"v":1,"x":"\xc3\xa9\\"q"}', b"{}"))
    assert sp.decode_records(sp.encode_records(records), 5, LIMITS) == records


def test_largest_page_of_worst_case_records_fits_the_response_cap() -> None:
    worst = ('"' * MAX_RECORD_BYTES).encode()  # every byte doubles when quoted
    data = sp.encode_records(sp.Records((worst,) * LIMITS.max_page))
    assert len(data) <= LIMITS.max_records_bytes
    assert len(sp.decode_records(data, LIMITS.max_page, LIMITS).records) == LIMITS.max_page


def test_largest_heads_message_fits_the_heads_cap() -> None:
    addrs = [f"0x{i:040x}" for i in range(LIMITS.max_creators)]
    from peer.feed.wire import checksum_address

    checks = [checksum_address(bytes.fromhex(a[2:])) for a in addrs]
    heads = sp.Heads(
        {a: (2**53, PID) for a in checks},
        {a: 2**53 for a in checks},
        True,
        {a: 2**53 for a in checks},
    )
    data = sp.encode_heads(heads)
    assert len(data) <= LIMITS.max_heads_bytes
    assert sp.decode_heads(data, LIMITS) == heads


BAD_REQUESTS = [
    b"",
    b"not json",
    b"\xff\xfe",
    b"[]",
    b"null",
    j({"op": "heads"}),
    j({"v": 2, "op": "heads"}),
    j({"v": True, "op": "heads"}),
    j({"v": 1.0, "op": "heads"}),
    j({"v": 1, "op": "heads", "extra": 1}),
    j({"v": 1, "op": "nope"}),
    j({"v": 1, "op": ["heads"]}),
    b'{"v":1,"op":"heads","op":"heads"}',
    j({"v": 1, "op": "range", "creator": ADDR.lower(), "from": 1, "limit": 1}),
    j({"v": 1, "op": "range", "creator": ADDR[:-1], "from": 1, "limit": 1}),
    j({"v": 1, "op": "range", "creator": "0x" + "g" * 40, "from": 1, "limit": 1}),
    j({"v": 1, "op": "range", "creator": ADDR, "from": 0, "limit": 1}),
    j({"v": 1, "op": "range", "creator": ADDR, "from": -1, "limit": 1}),
    j({"v": 1, "op": "range", "creator": ADDR, "from": 2**53 + 1, "limit": 1}),
    j({"v": 1, "op": "range", "creator": ADDR, "from": "1", "limit": 1}),
    j({"v": 1, "op": "range", "creator": ADDR, "from": True, "limit": 1}),
    j({"v": 1, "op": "range", "creator": ADDR, "from": 1, "limit": 0}),
    j({"v": 1, "op": "range", "creator": ADDR, "from": 1, "limit": 101}),
    j({"v": 1, "op": "range", "creator": ADDR, "from": 1}),
    b'{"v":1,"op":"range","creator":"' + ADDR.encode() + b'","from":1.5,"limit":1}',
    b'{"v":1,"op":"range","creator":"' + ADDR.encode() + b'","from":NaN,"limit":1}',
    j({"v": 1, "op": "profiles", "creators": []}),
    j({"v": 1, "op": "profiles", "creators": [ADDR, ADDR]}),
    j({"v": 1, "op": "profiles", "creators": ADDR}),
    j({"v": 1, "op": "profiles", "creators": [ADDR] * 101}),
    j({"v": 1, "op": "profiles", "creators": [1]}),
    b"[" * 100000,
    b" " * (LIMITS.max_request_bytes + 1),
]


@pytest.mark.parametrize("data", BAD_REQUESTS)
def test_malformed_requests_are_refused(data: bytes) -> None:
    with pytest.raises(SyncProtocolError):
        sp.decode_request(data, LIMITS)


def heads_json(
    posts: object = None, profiles: object = None, more: object = False, **extra: object
) -> bytes:
    return j(
        {
            "v": 1,
            "posts": {ADDR: [3, "0x" + PID.hex()]} if posts is None else posts,
            "profiles": {} if profiles is None else profiles,
            "more": more,
            **extra,
        }
    )


BAD_HEADS = [
    heads_json(posts=[]),
    heads_json(profiles=[]),
    heads_json(more=0),
    heads_json(posts={ADDR: [0, "0x" + PID.hex()]}),
    heads_json(posts={ADDR: [2**53 + 1, "0x" + PID.hex()]}),
    heads_json(posts={ADDR: [10**30, "0x" + PID.hex()]}),
    heads_json(posts={ADDR: [1, "0x" + PID.hex().upper()]}),
    heads_json(posts={ADDR: [1, "0x" + PID.hex()[:-2]]}),
    heads_json(posts={ADDR: [1]}),
    heads_json(posts={ADDR: {"seq": 1}}),
    heads_json(posts={ADDR.lower(): [1, "0x" + PID.hex()]}),
    heads_json(profiles={ADDR: -1}),
    heads_json(profiles={ADDR: "1"}),
    heads_json(profiles={"bob": 1}),
    j({"v": 1, "posts": {}, "profiles": {}}),
    heads_json(forks=[]),
    heads_json(forks={ADDR: 0}),
    heads_json(forks={ADDR: 4}),  # above the creator's head seq (3)
    heads_json(forks={ADDR: "1"}),
    heads_json(forks={ADDR2: 1}),  # a creator without a post head
    heads_json(forks={ADDR.lower(): 1}),
    heads_json(other={}),
]


@pytest.mark.parametrize("data", BAD_HEADS)
def test_malformed_heads_are_refused(data: bytes) -> None:
    with pytest.raises(SyncProtocolError):
        sp.decode_heads(data, LIMITS)


def test_heads_with_more_creators_than_the_cap_are_refused() -> None:
    small = sp.Limits(max_creators=2)
    posts = {a: [1, "0x" + PID.hex()] for a in (ADDR, ADDR2, "0x" + "1" * 40)}
    with pytest.raises(SyncProtocolError, match="more than 2 creators"):
        sp.decode_heads(heads_json(posts=posts), small)


def test_oversized_heads_response_is_refused_before_parsing() -> None:
    data = b" " * (LIMITS.max_heads_bytes + 1)
    with pytest.raises(SyncProtocolError, match="limit"):
        sp.decode_heads(data, LIMITS)


def test_records_response_with_more_records_than_asked_is_refused() -> None:
    data = sp.encode_records(sp.Records((b"{}",) * 3))
    with pytest.raises(SyncProtocolError, match="at most 2"):
        sp.decode_records(data, 2, LIMITS)


@pytest.mark.parametrize(
    "data",
    [
        j({"v": 1, "records": "x"}),
        j({"v": 1, "records": [1]}),
        j({"v": 1, "records": [None]}),
        j({"v": 1, "records": [], "x": 1}),
        j({"v": 1, "records": ["a" * (MAX_RECORD_BYTES + 1)]}),
        b'{"v":1,"records":["\\ud800"]}',
    ],
)
def test_malformed_records_responses_are_refused(data: bytes) -> None:
    with pytest.raises(SyncProtocolError):
        sp.decode_records(data, 10, LIMITS)


def only_protocol_errors(data: bytes) -> None:
    """Each decoder either returns its message type or raises SyncProtocolError."""
    for decode, kind in (
        (lambda: sp.decode_request(data, LIMITS), (sp.HeadsRequest, sp.RangeRequest)),
        (lambda: sp.decode_heads(data, LIMITS), (sp.Heads,)),
        (lambda: sp.decode_records(data, 5, LIMITS), (sp.Records,)),
    ):
        with contextlib.suppress(SyncProtocolError):
            assert isinstance(decode(), (*kind, sp.ProfilesRequest))


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_another_error(data: bytes) -> None:
    only_protocol_errors(data)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=50),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(["v", "op", "creator", "from", "limit", "posts", "records"]),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
def test_arbitrary_json_never_escapes_as_another_error(value: object) -> None:
    data = j(value)
    only_protocol_errors(data)
