"""The feed rules: every Rejected and Ignored reason, Accepted cases, and forks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest
from peer.feed.records import ZERO_ADDRESS, Follow, Like, Post, Profile, Record, Tombstone
from peer.feed.testing import FakeTokenRegistry, MemoryFeedView
from peer.feed.validation import (
    Accepted,
    Ignored,
    IgnoreReason,
    Rejected,
    RejectReason,
    Validator,
    Verdict,
)
from peer.feed.wire import Envelope, encode

KEY_A = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
KEY_B = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
TOKEN_A = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
NOW = 1_764_460_800


@pytest.fixture
def registry(creator_a: str) -> FakeTokenRegistry:
    return FakeTokenRegistry({creator_a: TOKEN_A})


@pytest.fixture
def view() -> MemoryFeedView:
    return MemoryFeedView()


@pytest.fixture
def validator(domain: Domain, registry: FakeTokenRegistry, view: MemoryFeedView) -> Validator:
    return Validator(domain, registry, view)


@pytest.fixture
def log(new_log: Callable[..., CreatorLog]) -> CreatorLog:
    return new_log()


async def _check(validator: Validator, envelope: Envelope, now: int = NOW) -> Verdict:
    return await validator.validate(encode(envelope), now)


def _resign(record: Record, domain: Domain, key: bytes = KEY_A) -> Envelope:
    return sign_record(record, domain, key)


async def test_valid_post_is_accepted_with_its_id(validator: Validator, log: CreatorLog) -> None:
    envelope, post_id = log.next_post(MANIFEST, "hello", NOW)
    verdict = await _check(validator, envelope)
    assert verdict == Accepted(envelope, post_id)


async def test_vector_posts_are_accepted(validator: Validator, vectors: dict[str, object]) -> None:
    for vector in vectors["posts"]:  # type: ignore[attr-defined]
        verdict = await validator.validate(vector["wire"].encode(), NOW + 3600)
        assert isinstance(verdict, Accepted)
        assert "0x" + verdict.record_id.hex() == vector["post_id"]


async def test_garbage_is_rejected_as_undecodable(validator: Validator) -> None:
    verdict = await validator.validate(b"not json", NOW)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.UNDECODABLE


async def test_oversize_record_is_rejected(validator: Validator) -> None:
    verdict = await validator.validate(b" " * 16385, NOW)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.OVERSIZE


async def test_forged_post_is_rejected(
    validator: Validator, log: CreatorLog, domain: Domain
) -> None:
    envelope, _ = log.next_post(MANIFEST, "mine", NOW)
    forged = _resign(envelope.record, domain, KEY_B)
    verdict = await _check(validator, forged)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.BAD_SIGNATURE
    assert "not the author" in verdict.detail


async def test_tampered_post_is_rejected(validator: Validator, log: CreatorLog) -> None:
    envelope, _ = log.next_post(MANIFEST, "original", NOW)
    assert isinstance(envelope.record, Post)
    tampered = Envelope(replace(envelope.record, title="edited"), envelope.signature)
    verdict = await _check(validator, tampered)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.BAD_SIGNATURE


async def test_malformed_signature_is_rejected(validator: Validator, log: CreatorLog) -> None:
    envelope, _ = log.next_post(MANIFEST, "x", NOW)
    broken = Envelope(envelope.record, envelope.signature[:64] + b"\x05")
    verdict = await _check(validator, broken)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.BAD_SIGNATURE


async def test_post_from_more_than_300s_ahead_is_rejected(
    validator: Validator, log: CreatorLog
) -> None:
    ok, _ = log.next_post(MANIFEST, "edge", NOW + 300)
    assert isinstance(await _check(validator, ok), Accepted)
    late, _ = log.next_post(MANIFEST, "future", NOW + 301)
    verdict = await _check(validator, late)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.FUTURE


async def test_very_old_post_is_accepted(validator: Validator, log: CreatorLog) -> None:
    envelope, _ = log.next_post(MANIFEST, "2001", 978_307_200)
    assert isinstance(await _check(validator, envelope), Accepted)


async def test_post_ahead_of_local_head_is_accepted(validator: Validator, log: CreatorLog) -> None:
    for _ in range(4):
        log.next_post(MANIFEST, "not delivered", NOW)
    envelope, _ = log.next_post(MANIFEST, "seq 5", NOW)
    assert isinstance(await _check(validator, envelope), Accepted)


async def test_token_other_than_registered_is_rejected(
    validator: Validator, new_log: Callable[..., CreatorLog]
) -> None:
    envelope, _ = new_log(KEY_A, "0x" + "22" * 20).next_post(MANIFEST, "x", NOW)
    verdict = await _check(validator, envelope)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.WRONG_TOKEN


async def test_free_post_with_zero_token_of_creator_who_has_one_now_is_accepted(
    validator: Validator, new_log: Callable[..., CreatorLog]
) -> None:
    # posted before the creator created a token: valid whatever the registry says now
    envelope, _ = new_log(KEY_A, ZERO_ADDRESS).next_post(MANIFEST, "x", NOW)
    assert isinstance(await _check(validator, envelope), Accepted)


async def test_free_post_with_zero_token_needs_no_chain(
    domain: Domain, view: MemoryFeedView, new_log: Callable[..., CreatorLog]
) -> None:
    registry = FakeTokenRegistry()
    registry.down = True
    envelope, _ = new_log(KEY_A, ZERO_ADDRESS).next_post(MANIFEST, "x", NOW)
    assert isinstance(await _check(Validator(domain, registry, view), envelope), Accepted)


async def test_free_post_of_creator_without_token_is_accepted(
    validator: Validator, new_log: Callable[..., CreatorLog]
) -> None:
    envelope, _ = new_log(KEY_B, ZERO_ADDRESS).next_post(MANIFEST, "x", NOW)
    assert isinstance(await _check(validator, envelope), Accepted)


async def test_claimed_token_for_creator_without_one_is_rejected(
    validator: Validator, new_log: Callable[..., CreatorLog]
) -> None:
    envelope, _ = new_log(KEY_B, TOKEN_A).next_post(MANIFEST, "x", NOW)
    verdict = await _check(validator, envelope)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.WRONG_TOKEN


async def test_premium_post_without_token_is_rejected(
    validator: Validator, new_log: Callable[..., CreatorLog]
) -> None:
    envelope, _ = new_log(KEY_B, ZERO_ADDRESS).next_post(
        MANIFEST, "x", NOW, premium=True, min_balance=1
    )
    verdict = await _check(validator, envelope)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.PREMIUM_WITHOUT_TOKEN


async def test_premium_post_with_registered_token_is_accepted(
    validator: Validator, log: CreatorLog
) -> None:
    envelope, _ = log.next_post(
        MANIFEST, "x", NOW, premium=True, min_balance=10**18, key_servers=["12D3KooW"]
    )
    assert isinstance(await _check(validator, envelope), Accepted)


async def test_manifest_that_is_not_a_cid_is_rejected(
    validator: Validator, log: CreatorLog
) -> None:
    envelope, _ = log.next_post("https://cdn.example/clip.mp4", "x", NOW)
    verdict = await _check(validator, envelope)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.MANIFEST_NOT_CID


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"seq": 0}, "seq starts at 1"),
        ({"seq": 2}, "prev must be zero exactly for seq 1"),
        ({"prev": b"\x01" * 32}, "prev must be zero exactly for seq 1"),
        ({"min_balance": 5}, "free post"),
        ({"key_servers": ("peer",)}, "free post"),
        ({"tags": tuple(str(i) for i in range(33))}, "too many"),
    ],
)
async def test_post_breaking_a_field_rule_is_rejected(
    validator: Validator, log: CreatorLog, domain: Domain, changes: dict[str, Any], detail: str
) -> None:
    envelope, _ = log.next_post(MANIFEST, "x", NOW)
    record = replace(envelope.record, **changes)
    verdict = await _check(validator, _resign(record, domain))
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.INVALID
    assert detail in verdict.detail


async def test_stored_post_is_ignored(
    validator: Validator, log: CreatorLog, view: MemoryFeedView
) -> None:
    envelope, post_id = log.next_post(MANIFEST, "x", NOW)
    view.add(envelope.record, post_id)
    verdict = await _check(validator, envelope)
    assert isinstance(verdict, Ignored)
    assert verdict.reason is IgnoreReason.DUPLICATE


async def test_second_post_at_same_seq_is_an_accepted_fork(
    validator: Validator, new_log: Callable[..., CreatorLog], view: MemoryFeedView
) -> None:
    first, first_id = new_log().next_post(MANIFEST, "version A", NOW)
    view.add(first.record, first_id)
    second, second_id = new_log().next_post(MANIFEST, "version B", NOW)
    verdict = await _check(validator, second)
    assert verdict == Accepted(second, second_id, fork=True)


async def test_unreachable_chain_ignores_without_penalty(
    validator: Validator, log: CreatorLog, registry: FakeTokenRegistry
) -> None:
    registry.down = True
    envelope, _ = log.next_post(MANIFEST, "x", NOW)
    verdict = await _check(validator, envelope)
    assert isinstance(verdict, Ignored)
    assert verdict.reason is IgnoreReason.CHAIN_UNAVAILABLE


async def test_bad_signature_is_rejected_before_the_chain_is_asked(
    validator: Validator, log: CreatorLog, registry: FakeTokenRegistry, domain: Domain
) -> None:
    envelope, _ = log.next_post(MANIFEST, "x", NOW)
    await _check(validator, _resign(envelope.record, domain, KEY_B))
    assert registry.calls == 0


async def test_profile_rules(
    validator: Validator, domain: Domain, creator_a: str, view: MemoryFeedView
) -> None:
    good = _resign(Profile(creator_a, "Ann", "", TOKEN_A, (), 2, NOW), domain)
    verdict = await _check(validator, good)
    assert isinstance(verdict, Accepted)
    view.add(good.record, verdict.record_id)
    older = _resign(Profile(creator_a, "Ann old", "", TOKEN_A, (), 1, NOW), domain)
    stale = await _check(validator, older)
    assert isinstance(stale, Ignored)
    assert stale.reason is IgnoreReason.STALE
    wrong = _resign(Profile(creator_a, "Ann", "", ZERO_ADDRESS, (), 3, NOW), domain)
    assert (await _check(validator, wrong)) == Rejected(
        RejectReason.WRONG_TOKEN, f"token {ZERO_ADDRESS} but registry says {TOKEN_A}"
    )
    bad_avatar = _resign(Profile(creator_a, "Ann", "me.png", TOKEN_A, (), 4, NOW), domain)
    rejected = await _check(validator, bad_avatar)
    assert isinstance(rejected, Rejected)
    assert rejected.reason is RejectReason.INVALID
    forged = _resign(Profile(creator_a, "Ann", "", TOKEN_A, (), 5, NOW), domain, KEY_B)
    forged_verdict = await _check(validator, forged)
    assert isinstance(forged_verdict, Rejected)
    assert forged_verdict.reason is RejectReason.BAD_SIGNATURE


async def test_social_records_are_signed_by_the_actor(
    validator: Validator, domain: Domain, creator_a: str, creator_b: str
) -> None:
    follow = Follow(creator_b, creator_a, True, NOW)
    like = Like(creator_b, b"\x07" * 32, NOW)
    for record in (follow, like):
        assert isinstance(await _check(validator, _resign(record, domain, KEY_B)), Accepted)
        forged = await _check(validator, _resign(record, domain, KEY_A))
        assert isinstance(forged, Rejected)
        assert forged.reason is RejectReason.BAD_SIGNATURE
    future = await _check(validator, _resign(replace(like, created_at=NOW + 301), domain, KEY_B))
    assert isinstance(future, Rejected)
    assert future.reason is RejectReason.FUTURE


async def test_tombstone_for_another_creators_post_is_rejected(
    validator: Validator,
    domain: Domain,
    creator_b: str,
    log: CreatorLog,
    view: MemoryFeedView,
) -> None:
    envelope, post_id = log.next_post(MANIFEST, "A's post", NOW)
    view.add(envelope.record, post_id)
    theirs = _resign(Tombstone(creator_b, post_id, NOW), domain, KEY_B)
    verdict = await _check(validator, theirs)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.NOT_OWN_POST
    own = _resign(Tombstone(log.creator, post_id, NOW), domain, KEY_A)
    assert isinstance(await _check(validator, own), Accepted)
    unknown = _resign(Tombstone(creator_b, b"\x09" * 32, NOW), domain, KEY_B)
    assert isinstance(await _check(validator, unknown), Accepted)


async def test_stored_social_record_is_ignored(
    validator: Validator, domain: Domain, creator_a: str, creator_b: str, view: MemoryFeedView
) -> None:
    envelope = _resign(Follow(creator_b, creator_a, True, NOW), domain, KEY_B)
    view.add(envelope.record, digest(envelope.record, domain))
    verdict = await _check(validator, envelope)
    assert isinstance(verdict, Ignored)
    assert verdict.reason is IgnoreReason.DUPLICATE


async def test_wire_with_wrong_shape_is_undecodable(validator: Validator) -> None:
    data = json.dumps({"v": 1, "post": {}, "sig": "0x"}).encode()
    verdict = await validator.validate(data, NOW)
    assert isinstance(verdict, Rejected)
    assert verdict.reason is RejectReason.UNDECODABLE


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300))
def test_any_bytes_get_a_verdict_never_an_exception(data: bytes) -> None:
    domain = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
    validator = Validator(domain, FakeTokenRegistry(), MemoryFeedView())
    verdict = asyncio.run(validator.validate(data, NOW))
    assert isinstance(verdict, Rejected)
    assert verdict.reason in (RejectReason.UNDECODABLE, RejectReason.OVERSIZE)
