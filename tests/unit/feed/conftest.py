"""Fixtures of the feed unit tests: the vector file, dev keys, a domain and record factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from support.vectors import post_vectors

from peer.feed.builders import CreatorLog
from peer.feed.eip712 import Domain
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.signatures import address_of

# Well-known anvil dev keys (public test keys, no value).
KEY_A = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
KEY_B = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
TOKEN_A = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
NOW = 1_764_460_800


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return post_vectors()


@pytest.fixture
def domain(vectors: dict[str, Any]) -> Domain:
    return Domain(vectors["domain"]["chainId"], vectors["domain"]["verifyingContract"])


@pytest.fixture
def creator_a() -> str:
    return address_of(KEY_A)


@pytest.fixture
def creator_b() -> str:
    return address_of(KEY_B)


@pytest.fixture
def new_log(domain: Domain) -> Callable[..., CreatorLog]:
    def make(key: bytes = KEY_A, token: str = TOKEN_A) -> CreatorLog:
        return CreatorLog(domain, key, token)

    return make


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[FeedIndex]:
    feed_index = FeedIndex(IndexOptions(tmp_path / "index" / "feed.sqlite", for_you_window_s=1000))
    await feed_index.start()
    yield feed_index
    await feed_index.close()
