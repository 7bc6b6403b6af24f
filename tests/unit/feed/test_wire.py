"""The strict wire codec: vectors, every rejection rule, and fuzzing (only DecodeError escapes)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peer.feed.errors import DecodeError, EncodeError, OversizeError
from peer.feed.records import SCHEMAS, Follow, Like, Post, Profile, Record, Tombstone
from peer.feed.wire import MAX_RECORD_BYTES, Envelope, decode, encode


def _wire(vectors: dict[str, Any], index: int = 0) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(vectors["posts"][index]["wire"])
    return obj


def _bytes(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def test_vector_wire_decodes_and_reencodes_byte_for_byte(vectors: dict[str, Any]) -> None:
    for vector in vectors["posts"]:
        envelope = decode(vector["wire"].encode())
        assert isinstance(envelope.record, Post)
        assert envelope.record.title == vector["message"]["title"]
        assert envelope.record.min_balance == vector["message"]["minBalance"]
        assert envelope.signature.hex() == vector["signature"][2:]
        assert encode(envelope) == vector["wire"].encode()


def test_type_strings_are_the_normative_ones() -> None:
    assert SCHEMAS[Post].type_string == (
        "Post(address creator,address token,uint64 seq,bytes32 prev,string manifest,"
        "string title,string[] tags,uint64 durationMs,uint64 createdAt,bool premium,"
        "uint256 minBalance,string[] keyServers)"
    )
    assert SCHEMAS[Profile].type_string == (
        "Profile(address creator,string name,string avatar,address token,"
        "string[] keyServers,uint64 version,uint64 createdAt)"
    )
    assert SCHEMAS[Follow].type_string == (
        "Follow(address actor,address creator,bool on,uint64 createdAt)"
    )
    assert SCHEMAS[Like].type_string == "Like(address actor,bytes32 post,uint64 createdAt)"
    assert SCHEMAS[Tombstone].type_string == (
        "Tombstone(address creator,bytes32 post,uint64 createdAt)"
    )


def test_key_order_and_whitespace_do_not_matter(vectors: dict[str, Any]) -> None:
    obj = _wire(vectors)
    pretty = json.dumps(obj, indent=2, sort_keys=False).encode()
    assert encode(decode(pretty)) == vectors["posts"][0]["wire"].encode()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("post", "seq"), "1", "JSON numbers"),
        (("post", "seq"), 1.0, "non-integer"),
        (("post", "seq"), True, "expected an integer"),
        (("post", "seq"), -1, "out of JSON number range"),
        (("post", "seq"), 2**53 + 1, "out of JSON number range"),
        (("post", "seq"), str(2**64), "does not fit uint64"),
        (("post", "minBalance"), "05000000000000000000", "leading zero"),
        (("post", "minBalance"), "+9007199254740993", "decimal digits"),
        (("post", "minBalance"), str(2**256), "does not fit uint256"),
        (("post", "premium"), 0, "true or false"),
        (("post", "creator"), "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266", "checksummed"),
        (("post", "creator"), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb9226", "hex of 20"),
        (("post", "prev"), "0x" + "AB" * 32, "lowercase"),
        (("post", "prev"), "ab" * 32, "hex of 32"),
        (("post", "tags"), "dance", "array of strings"),
        (("post", "tags"), ["dance", 1], "expected a string"),
        (("post", "title"), None, "expected a string"),
        (("sig",), "0x" + "00" * 64, "hex of 65"),
        (("v",), 2, "wire version"),
        (("v",), True, "wire version"),
    ],
)
def test_field_with_wrong_shape_is_rejected(
    vectors: dict[str, Any], path: tuple[str, ...], value: object, message: str
) -> None:
    obj = _wire(vectors, 1)
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DecodeError, match=message):
        decode(_bytes(obj))


def test_integer_boundary_is_two_to_the_53(vectors: dict[str, Any]) -> None:
    obj = _wire(vectors, 1)
    obj["post"]["minBalance"] = 2**53
    assert decode(_bytes(obj)).record.min_balance == 2**53  # type: ignore[union-attr]
    obj["post"]["minBalance"] = str(2**53)
    with pytest.raises(DecodeError, match="JSON numbers"):
        decode(_bytes(obj))
    obj["post"]["minBalance"] = str(2**53 + 1)
    envelope = decode(_bytes(obj))
    assert envelope.record.min_balance == 2**53 + 1  # type: ignore[union-attr]
    assert b'"minBalance":"9007199254740993"' in encode(envelope)


def test_unknown_and_missing_fields_are_rejected(vectors: dict[str, Any]) -> None:
    obj = _wire(vectors)
    obj["post"]["extra"] = 1
    with pytest.raises(DecodeError, match=r"unknown \['extra'\]"):
        decode(_bytes(obj))
    obj = _wire(vectors)
    del obj["post"]["title"]
    with pytest.raises(DecodeError, match=r"missing \['title'\]"):
        decode(_bytes(obj))
    obj = _wire(vectors)
    obj["note"] = "hi"
    with pytest.raises(DecodeError, match="exactly v, sig and one kind"):
        decode(_bytes(obj))
    obj = _wire(vectors)
    obj["like"] = {}
    with pytest.raises(DecodeError, match="exactly v, sig and one kind"):
        decode(_bytes(obj))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"[1, 2]", "must be a JSON object"),
        (b"", "invalid JSON"),
        (b"\xff\xfe{}", "invalid JSON"),
        (b'{"v": 1, "v": 1}', "duplicate key"),
        (b'{"v": NaN}', "NaN is not allowed"),
        (b'{"v": 1e3}', "non-integer"),
        (b"[" * 8000 + b"]" * 8000, "invalid JSON|must be a JSON object"),
        (b'{"v":1,"post":[],"sig":"0x"}', "post must be a JSON object"),
    ],
)
def test_malformed_json_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode(data)


def test_lone_surrogate_is_rejected(vectors: dict[str, Any]) -> None:
    text = vectors["posts"][0]["wire"].replace("First clip", "\\ud800 clip")
    with pytest.raises(DecodeError, match="lone surrogate"):
        decode(text.encode())


def test_record_over_16384_bytes_is_rejected_and_cannot_be_encoded(
    vectors: dict[str, Any],
) -> None:
    obj = _wire(vectors)
    obj["post"]["title"] = ""
    base = len(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())
    obj["post"]["title"] = "x" * (MAX_RECORD_BYTES - base)
    exact = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    assert len(exact) == MAX_RECORD_BYTES
    envelope = decode(exact)
    assert encode(envelope) == exact
    obj["post"]["title"] += "x"
    with pytest.raises(OversizeError):
        decode(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())
    record = envelope.record
    assert isinstance(record, Post)
    bigger = Envelope(
        Post(**{**{f: getattr(record, f) for f in Post.__slots__}, "title": record.title + "é"}),
        envelope.signature,
    )
    with pytest.raises(EncodeError, match="limit is 16384"):
        encode(bigger)


def test_every_kind_round_trips(creator_a: str, creator_b: str) -> None:
    sig = bytes(64) + b"\x1b"
    records: list[Record] = [
        Profile(creator_a, "Ann ✨", "", "0x" + "00" * 20, ("peer1",), 3, 1),
        Follow(creator_b, creator_a, True, 2),
        Like(creator_b, bytes(range(32)), 3),
        Tombstone(creator_a, bytes(range(32)), 4),
    ]
    for record in records:
        envelope = Envelope(record, sig)
        assert decode(encode(envelope)) == envelope


def test_encoder_refuses_out_of_range_values(creator_a: str) -> None:
    sig = bytes(64) + b"\x1b"
    with pytest.raises(EncodeError, match="uint64"):
        encode(Envelope(Like(creator_a, bytes(32), 2**64), sig))
    with pytest.raises(EncodeError, match="32 bytes"):
        encode(Envelope(Like(creator_a, bytes(31), 1), sig))
    with pytest.raises(EncodeError, match="bad address"):
        encode(Envelope(Like(creator_a.lower(), bytes(32), 1), sig))
    with pytest.raises(EncodeError, match="65 bytes"):
        encode(Envelope(Like(creator_a, bytes(32), 1), bytes(64)))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_only_raise_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode(data)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["seq", "prev", "tags", "creator", "minBalance", "premium", "title"]),
    _json_values,
)
def test_mutated_field_values_only_raise_decode_error(field: str, value: object) -> None:
    obj = {
        "v": 1,
        "post": {
            "createdAt": 1764460800,
            "creator": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
            "durationMs": 15000,
            "keyServers": [],
            "manifest": "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe",
            "minBalance": 0,
            "premium": False,
            "prev": "0x" + "00" * 32,
            "seq": 1,
            "tags": [],
            "title": "t",
            "token": "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be",
        },
        "sig": "0x" + "11" * 65,
    }
    obj["post"][field] = value  # type: ignore[index]
    try:
        envelope = decode(json.dumps(obj).encode())
    except DecodeError:
        return
    assert encode(envelope)  # anything accepted can be re-encoded


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=8), st.integers(min_value=0, max_value=556))
def test_corrupted_vector_bytes_only_raise_decode_error(junk: bytes, at: int) -> None:
    wire = (
        b'{"post":{"createdAt":1764460800,"creator":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",'
        b'"durationMs":15000,"keyServers":[],"manifest":"bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshn'
        b'wphhnu7ohx4pqaxxipe","minBalance":0,"premium":false,"prev":"0x0000000000000000000000000'
        b'000000000000000000000000000000000000000","seq":1,"tags":["dance","intro"],"title":"First'
        b' clip","token":"0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"},"sig":"0x6e7266b8c4d4831b4'
        b"11bdbbdf2000ef6e7f768f87f26f8b32424c8cf5f821fc85889682799020c034a750a82af3f0e452796afe98"
        b'49c4754b6cda8296e5fea261b","v":1}'
    )
    data = wire[:at] + junk + wire[at + len(junk) :]
    with contextlib.suppress(DecodeError):
        decode(data)


_texts = st.text(max_size=30)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1, max_value=2**64 - 1),
    st.binary(min_size=32, max_size=32),
    _texts,
    st.lists(_texts, max_size=4),
    st.integers(min_value=0, max_value=2**256 - 1),
    st.booleans(),
)
def test_valid_posts_round_trip(
    seq: int, prev: bytes, title: str, tags: list[str], balance: int, premium: bool
) -> None:
    title = title.encode("utf-8", "replace").decode("utf-8", "replace")
    tags = [t.encode("utf-8", "replace").decode("utf-8", "replace") for t in tags]
    post = Post(
        "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
        "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be",
        seq,
        prev,
        "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe",
        title,
        tuple(tags),
        0,
        1,
        premium,
        balance,
        (),
    )
    envelope = Envelope(post, b"\x01" * 65)
    canonical = encode(envelope)
    assert decode(canonical) == envelope
    assert decode(canonical).wire == canonical
    # the same record sent escaped, indented and unsorted carries the canonical bytes too
    loose = json.dumps(json.loads(canonical), indent=1, ensure_ascii=True).encode()
    assert decode(loose).wire == canonical


def test_a_decoded_record_keeps_its_canonical_bytes_until_it_is_changed(
    vectors: dict[str, Any],
) -> None:
    wire = vectors["posts"][0]["wire"].encode()
    envelope = decode(wire)
    assert envelope.wire == wire
    assert encode(envelope) is envelope.wire, "no second encoding"
    assert isinstance(envelope.record, Post)
    changed = replace(envelope, record=replace(envelope.record, title="another title"))
    assert changed.wire is None
    assert b"another title" in encode(changed)
