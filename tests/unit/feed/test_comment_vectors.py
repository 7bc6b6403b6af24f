"""tests/vectors/comment_vectors.json: the comment record types, ids, signatures and rule cases
(docs/ARCHITECTURE.md, Signed records and Feed rules: Comments), comment withdrawals among them."""

from __future__ import annotations

from typing import Any

import pytest
from support.comment_vectors import build
from support.eip712_check import eth_account_digest
from support.vectors import comment_vectors

from peer.feed.eip712 import Domain, digest
from peer.feed.gossip import topic_problem
from peer.feed.records import SCHEMAS, Comment, CommentPolicy, CommentWithdrawal, Moderation
from peer.feed.signatures import recover_signer
from peer.feed.testing import FakeHoldings, FakeTokenRegistry, MemoryFeedView
from peer.feed.validation import Accepted, Ignored, Rejected, Validator
from peer.feed.wire import decode

DATA = comment_vectors()
DOMAIN = Domain(DATA["domain"]["chainId"], DATA["domain"]["verifyingContract"])


def test_the_file_is_what_the_generator_makes() -> None:
    assert build() == DATA, "regenerate: cd tests && python -m support.comment_vectors"


def test_type_strings_are_the_normative_ones() -> None:
    assert {name: t["typeString"] for name, t in DATA["types"].items()} == {
        "Comment": (
            "Comment(address author,bytes32 post,bytes32 parent,string text,uint64 createdAt)"
        ),
        "Moderation": "Moderation(address creator,bytes32 target,bool hidden,uint64 createdAt)",
        "CommentPolicy": (
            "CommentPolicy(address creator,bytes32 post,uint256 minBalance,uint64 createdAt)"
        ),
        "CommentWithdrawal": "CommentWithdrawal(address author,bytes32 target,uint64 createdAt)",
    }
    for record_type in (Comment, Moderation, CommentPolicy, CommentWithdrawal):
        assert (
            SCHEMAS[record_type].type_string
            == DATA["types"][SCHEMAS[record_type].struct]["typeString"]
        )


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: str(c["name"]))
def test_ids_and_signatures_match_eth_account(case: dict[str, Any]) -> None:
    envelope = decode(case["record"]["wire"].encode())
    record_id = digest(envelope.record, DOMAIN)
    assert "0x" + record_id.hex() == case["record"]["id"]
    assert record_id == eth_account_digest(envelope.record, DOMAIN)
    assert "0x" + envelope.signature.hex() == case["record"]["signature"]
    signer = recover_signer(record_id, envelope.signature)
    assert signer in DATA["signers"].values()
    assert topic_problem(case["topic"], envelope) is None


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: str(c["name"]))
async def test_rule_case(case: dict[str, Any]) -> None:
    view = MemoryFeedView()
    for wire in case["state"]:
        stored = decode(wire.encode())
        view.add(stored.record, digest(stored.record, DOMAIN), wire.encode())
    holdings = FakeHoldings()
    token = DATA["registry"][DATA["signers"]["creator"]]
    for holder, amount in case["holdings"].items():
        holdings.set(token, holder, amount)
    validator = Validator(DOMAIN, FakeTokenRegistry(DATA["registry"]), view, holdings=holdings)
    verdict = await validator.validate(case["record"]["wire"].encode(), case["now"])
    kind, _, reason = case["verdict"].partition(":")
    if kind == "accept":
        assert isinstance(verdict, Accepted), verdict
        assert "0x" + verdict.record_id.hex() == case["record"]["id"]
    else:
        assert isinstance(verdict, Rejected if kind == "reject" else Ignored), verdict
        assert verdict.reason == reason
