"""The feed gossip service on a real py-libp2p host, talking to a real peer in another process.

The local peer runs ``FeedGossip`` (index, validator) on a ``P2PHost``; the remote is the p2p
package's scripted worker process, which publishes raw bytes and records what it receives.
Loopback only.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain
from peer.feed.gossip import TOPIC_POSTS, FeedGossip
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.signatures import address_of
from peer.feed.testing import FakeTokenRegistry
from peer.feed.token_link import CachedTokenRegistry
from peer.feed.validation import Validator
from peer.feed.wire import encode
from peer.p2p.ports import Network
from peer.p2p.testing import PeerFactory, wait_until
from peer.p2p.worker import WorkerProcess

pytestmark = pytest.mark.integration

DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
KEY = keccak(b"integration creator")
OTHER_KEY = keccak(b"someone else")
TOKEN = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"


@dataclass
class Pair:
    gossip: FeedGossip
    index: FeedIndex
    local_id: str
    network: Network
    remote: WorkerProcess
    remote_id: str


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    factory = PeerFactory("real", tmp_path)
    index = FeedIndex(IndexOptions(tmp_path / "index" / "feed.sqlite"))
    gossip: FeedGossip | None = None
    try:
        local = await factory.local()
        remote = await factory.remote()
        assert isinstance(remote, WorkerProcess)
        await index.start()
        registry = CachedTokenRegistry(FakeTokenRegistry({address_of(KEY): TOKEN}))
        gossip = FeedGossip(local.network, Validator(DOMAIN, registry, index.view), index.writes)
        await gossip.start()
        await remote.subscribe(TOPIC_POSTS)
        remote_info = await remote.info()
        await local.network.connect(remote_info["addrs"][0])
        local_id = local.network.peer_id

        async def meshed() -> bool:
            ours = await local.network.topic_peers(TOPIC_POSTS)
            theirs = await remote.topic_peers(TOPIC_POSTS)
            return remote_info["peer_id"] in ours and local_id in theirs

        await wait_until(meshed, 20, "both peers to see each other on the posts topic")
        yield Pair(gossip, index, local_id, local.network, remote, remote_info["peer_id"])
    finally:
        if gossip is not None:
            await gossip.close()
        await factory.close()
        await index.close()


async def test_published_post_reaches_a_real_peer_byte_for_byte(pair: Pair) -> None:
    envelope, _ = CreatorLog(DOMAIN, KEY, TOKEN).next_post(MANIFEST, "over tcp", int(time.time()))
    got: list[str] = []

    async def arrived() -> bool:
        got.extend(m["data"] for m in await pair.remote.received(TOPIC_POSTS))
        if not got:
            await pair.gossip.publish(envelope)  # the mesh may need a heartbeat first
        return bool(got)

    await wait_until(arrived, 20, "the remote peer to receive the post")
    assert bytes.fromhex(got[0]) == encode(envelope)


async def test_valid_post_from_a_real_peer_is_stored(pair: Pair) -> None:
    envelope, post_id = CreatorLog(DOMAIN, KEY, TOKEN).next_post(MANIFEST, "hi", int(time.time()))
    await pair.remote.publish(TOPIC_POSTS, encode(envelope).hex())
    await wait_until(lambda: pair.index.view.has_record(post_id), 20, "the post to be stored")
    page = await pair.index.queries.search("hi")
    assert [item.id for item in page.items] == [post_id]


async def test_forged_post_from_a_real_peer_is_rejected_and_penalised(pair: Pair) -> None:
    envelope, post_id = CreatorLog(DOMAIN, KEY, TOKEN).next_post(MANIFEST, "x", int(time.time()))
    forged = sign_record(envelope.record, DOMAIN, OTHER_KEY)
    await pair.remote.publish(TOPIC_POSTS, encode(forged).hex())

    async def rejected() -> bool:
        return pair.gossip.stats["reject:bad-signature"] >= 1

    await wait_until(rejected, 20, "the forgery to be rejected")
    assert not await pair.index.view.has_record(post_id)
    assert await pair.network.peer_score(pair.remote_id, TOPIC_POSTS) < 0
