"""The like and sync 1.1 vectors (tests/vectors/like_vectors.json, sync11_vectors.json)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from support.vectors import like_vectors, sync11_vectors

from peer.feed import validation as v
from peer.feed.eip712 import Domain
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.records import SCHEMAS
from peer.feed.testing import FakeTokenRegistry
from peer.feed.wire import decode, encode
from peer.sync import protocol as sp
from peer.sync import protocol11 as p11

LIKES = like_vectors()
SYNC = sync11_vectors()
MESSAGES = {m["name"]: m["bytes"].encode() for m in SYNC["messages"]}


async def test_like_vectors_validate_and_leave_the_stated_like_state(tmp_path: Path) -> None:
    domain = Domain(LIKES["domain"]["chainId"], LIKES["domain"]["verifyingContract"])
    post = bytes.fromhex(LIKES["post"][2:])
    actor = LIKES["signer"]["address"]
    async with FeedIndex(IndexOptions(tmp_path / "feed.sqlite")) as index:
        validator = v.Validator(domain, FakeTokenRegistry({}), index.view)
        for case in LIKES["records"]:
            wire = case["wire"].encode()
            envelope = decode(wire)
            assert encode(envelope) == wire, "canonical encoding"
            assert SCHEMAS[type(envelope.record)].type_string == case["type"]
            verdict = await validator.validate(wire, 1_764_460_900)
            assert isinstance(verdict, v.Accepted), (case["name"], verdict)
            assert "0x" + verdict.record_id.hex() == case["id"]
            await index.writes.store(envelope, verdict.record_id)
            state = await index.queries.like_state(actor, post)
            assert state is not None
            assert state[0] is case["on_after"], case["name"]


def test_sync11_messages_decode_and_encode_byte_for_byte() -> None:
    limits = sp.Limits()
    for name in ("kind_heads_request", "kind_range_request", "heads_request_1_0"):
        data = MESSAGES[name]
        assert p11.encode_request(p11.decode_request(data, limits)) == data, name
    heads = p11.decode_kind_heads(MESSAGES["kind_heads_response"], "likeV2", limits)
    assert p11.encode_kind_heads(heads) == MESSAGES["kind_heads_response"]
    records = sp.decode_records(MESSAGES["kind_range_response"], 20, limits)
    assert sp.encode_records(records) == MESSAGES["kind_range_response"]


def test_the_group_digest_is_sha256_of_the_sorted_ids_cut_to_16_bytes() -> None:
    (case,) = [m for m in SYNC["messages"] if m["name"] == "kind_heads_response"]
    ids = [bytes.fromhex(i[2:]) for i in case["group_ids"]]
    expected = hashlib.sha256(b"".join(sorted(ids))).hexdigest()[:32]
    authors = json.loads(case["bytes"])["authors"]
    assert authors == {LIKES["signer"]["address"]: [2, "0x" + expected]}
    v2_ids = sorted(c["id"] for c in LIKES["records"] if c["type"].startswith("LikeV2"))
    assert sorted(case["group_ids"]) == v2_ids
