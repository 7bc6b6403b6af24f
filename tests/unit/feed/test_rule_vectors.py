"""The feed-rule vectors in tests/vectors/feed_rules.json (docs/ARCHITECTURE.md, Feed rules)."""

from __future__ import annotations

from typing import Any

import pytest
from support.vectors import feed_rule_vectors

from peer.feed.eip712 import Domain
from peer.feed.gossip import TOPIC_POSTS, topic_problem, topics_for
from peer.feed.testing import FakeTokenRegistry, MemoryFeedView
from peer.feed.validation import Accepted, Ignored, Validator
from peer.feed.wire import decode

DATA = feed_rule_vectors()


@pytest.mark.parametrize("case", DATA["cases"], ids=lambda c: str(c["name"]))
async def test_rule_vector(case: dict[str, Any]) -> None:
    domain = Domain(DATA["domain"]["chainId"], DATA["domain"]["verifyingContract"])
    validator = Validator(domain, FakeTokenRegistry(case["registry"]), MemoryFeedView())
    wire = case["wire"].encode()
    verdict = await validator.validate(wire, case["now"])
    kind, _, reason = case["verdict"].partition(":")
    if kind == "accept":
        assert isinstance(verdict, Accepted)
        assert "0x" + verdict.record_id.hex() == case["post_id"]
        assert topics_for(decode(wire)) == case["topics"]
        assert TOPIC_POSTS not in case["topics"]
        assert topic_problem(TOPIC_POSTS, decode(wire)) is not None, "refused on the posts topic"
    else:
        assert isinstance(verdict, Ignored)
        assert verdict.reason == reason
