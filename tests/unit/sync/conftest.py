"""Fixtures of the sync unit tests: fake hosts, each with a real feed index and validator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.sync_kit import (
    CREATOR,
    DOMAIN,
    OTHER,
    QUIET,
    TOKEN,
    Node,
    NodeFactory,
)

from peer.feed import validation as v
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.ingest import StoreResult
from peer.feed.testing import FakeTokenRegistry
from peer.feed.wire import Envelope
from peer.p2p.testing import FakeNetwork
from peer.sync import PeerBook, PeerBookOptions, SyncOptions, SyncService

NOW_CLOCK = 1_764_460_800.0


@pytest.fixture
async def make_node(tmp_path: Path) -> AsyncIterator[NodeFactory]:
    network = FakeNetwork()
    nodes: list[Node] = []

    async def make(
        options: SyncOptions = QUIET,
        *,
        tokens: dict[str, str] | None = None,
        book: bool = False,
        start: bool = True,
        data: Path | None = None,
    ) -> Node:
        data = data or tmp_path / f"node{len(nodes)}"
        host = network.host()
        await host.start()
        index = FeedIndex(IndexOptions(data / "index" / "feed.sqlite"))
        await index.start()
        registry = FakeTokenRegistry({CREATOR: TOKEN, OTHER: TOKEN} if tokens is None else tokens)
        validator = v.Validator(DOMAIN, registry, index.view)
        stored: list[Envelope] = []

        def on_stored(envelope: Envelope, _id: bytes, _result: StoreResult) -> None:
            stored.append(envelope)

        peer_book = PeerBook(PeerBookOptions(data / "p2p" / "peers.json")) if book else None
        sync = SyncService(
            host,
            index.sync,
            validator,
            options,
            peer_book=peer_book,
            on_stored=on_stored,
            clock=lambda: NOW_CLOCK,
        )
        node = Node(host, index, validator, registry, sync, data, stored)
        nodes.append(node)
        if start:
            await sync.start()
        return node

    yield make
    for node in nodes:
        await node.sync.stop()
        await node.host.stop()
        await node.index.close()
