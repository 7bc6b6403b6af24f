"""EIP-712 ids and signatures: the shared vectors, and eth-account as an independent check."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils.crypto import keccak
from support.eip712_check import eth_account_digest

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest
from peer.feed.errors import SignatureError
from peer.feed.records import (
    Comment,
    CommentPolicy,
    Follow,
    Like,
    LikeV2,
    Moderation,
    Post,
    Profile,
    Record,
    Tombstone,
)
from peer.feed.signatures import recover_signer, sign_digest
from peer.feed.wire import decode

KEY_A = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def test_vector_post_ids_and_signatures_match(vectors: dict[str, Any], domain: Domain) -> None:
    for vector in vectors["posts"]:
        envelope = decode(vector["wire"].encode())
        post_id = digest(envelope.record, domain)
        assert "0x" + post_id.hex() == vector["post_id"]
        assert "0x" + sign_digest(post_id, KEY_A).hex() == vector["signature"]
        assert recover_signer(post_id, envelope.signature) == vector["message"]["creator"]


def test_vector_chain_links_seq_2_to_seq_1(vectors: dict[str, Any]) -> None:
    assert vectors["posts"][1]["message"]["prev"] == vectors["posts"][0]["post_id"]


def test_every_record_kind_hashes_like_eth_account(
    domain: Domain, creator_a: str, creator_b: str
) -> None:
    records: list[Record] = [
        Post(
            creator_a,
            creator_b,
            7,
            bytes(range(32)),
            "bafy",
            "t ✨",
            ("a", "", "b"),
            1,
            2,
            True,
            2**200,
            ("k1", "k2"),
        ),
        Profile(creator_a, "Ann", "bafyavatar", creator_b, (), 2**63, 5),
        Profile(creator_a, "", "", creator_b, ("x",), 0, 0),
        Follow(creator_b, creator_a, False, 9),
        Like(creator_b, bytes(range(32, 64)), 10),
        LikeV2(creator_b, bytes(range(32, 64)), False, 12),
        LikeV2(creator_b, bytes(range(32, 64)), True, 2**64 - 1),
        Tombstone(creator_a, bytes(32), 11),
        Comment(creator_b, bytes(range(32)), bytes(32), "hi ✨", 12),
        Comment(creator_b, bytes(range(32)), bytes(range(1, 33)), "x" * 500, 2**64 - 1),
        Moderation(creator_a, bytes(range(32)), True, 13),
        Moderation(creator_a, bytes(32), False, 0),
        CommentPolicy(creator_a, bytes(range(32)), 2**256 - 1, 14),
    ]
    for record in records:
        assert digest(record, domain) == eth_account_digest(record, domain), record


def test_domain_fields_change_the_id(domain: Domain, creator_a: str) -> None:
    like = Like(creator_a, bytes(32), 1)
    other_chain = Domain(1, domain.verifying_contract)
    other_contract = Domain(domain.chain_id, "0x" + "11" * 20)
    ids = {digest(like, d) for d in (domain, other_chain, other_contract)}
    assert len(ids) == 3


def test_creator_log_chains_seq_and_prev(domain: Domain) -> None:
    log = CreatorLog(domain, KEY_A)
    first, first_id = log.next_post("bafy", "one", 1)
    second, second_id = log.next_post("bafy", "two", 2)
    assert isinstance(first.record, Post)
    assert isinstance(second.record, Post)
    assert (first.record.seq, first.record.prev) == (1, bytes(32))
    assert (second.record.seq, second.record.prev) == (2, first_id)
    assert recover_signer(second_id, second.signature) == log.creator


def test_sign_record_signs_social_records(domain: Domain, creator_a: str) -> None:
    envelope = sign_record(Like(creator_a, bytes(32), 5), domain, KEY_A)
    assert recover_signer(digest(envelope.record, domain), envelope.signature) == creator_a


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s[:64], "65 bytes"),
        (lambda s: s[:64] + b"\x00", "v must be 27 or 28"),
        (lambda s: s[:64] + b"\x01", "v must be 27 or 28"),
        (lambda s: bytes(32) + s[32:], "out of range"),
        (lambda s: s[:32] + bytes(32) + s[64:], "out of range"),
        (
            lambda s: (
                s[:32]
                + (N - int.from_bytes(s[32:64], "big")).to_bytes(32, "big")
                + bytes([55 - s[64]])
            ),
            "low-s",
        ),
    ],
)
def test_malformed_signatures_are_refused(mutate: Any, message: str) -> None:
    digest_ = keccak(b"x")
    signature = sign_digest(digest_, KEY_A)
    with pytest.raises(SignatureError, match=message):
        recover_signer(digest_, mutate(signature))


def test_signature_over_other_digest_recovers_another_address() -> None:
    signature = sign_digest(keccak(b"x"), KEY_A)
    assert recover_signer(keccak(b"y"), signature) != recover_signer(keccak(b"x"), signature)


def test_recovery_agrees_with_eth_keys_for_both_parities() -> None:
    from eth_keys import keys  # type: ignore[attr-defined]

    parities: set[int] = set()
    for n in range(40):
        private_key = keccak(f"key {n}".encode())
        digest_ = keccak(f"message {n}".encode())
        signature = sign_digest(digest_, private_key)
        parities.add(signature[64])
        expected = keys.PrivateKey(private_key).public_key.to_checksum_address()
        assert recover_signer(digest_, signature) == expected
        vrs = (signature[64] - 27, *(int.from_bytes(signature[i : i + 32], "big") for i in (0, 32)))
        by_eth_keys = keys.Signature(vrs=vrs).recover_public_key_from_msg_hash(digest_)
        assert recover_signer(digest_, signature) == by_eth_keys.to_checksum_address()
    assert parities == {27, 28}


def test_an_r_off_the_curve_recovers_nothing() -> None:
    # x = 5 is not the x-coordinate of any secp256k1 point (5^3 + 7 = 132 is no square mod p).
    signature = (5).to_bytes(32, "big") + (1).to_bytes(32, "big") + b"\x1b"
    with pytest.raises(SignatureError, match="does not recover"):
        recover_signer(keccak(b"x"), signature)


def test_a_digest_of_the_wrong_length_is_refused() -> None:
    signature = sign_digest(keccak(b"x"), KEY_A)
    with pytest.raises(SignatureError, match="digest must be 32 bytes"):
        recover_signer(b"short", signature)
