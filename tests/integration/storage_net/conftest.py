"""Fixtures: real py-libp2p hosts (each in its own trio thread) with a store and bitswap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.storage_net import Node, NodeFactory

from peer.p2p import HostOptions, P2PHost
from storage.bitswap import Bitswap, BitswapOptions
from storage.local import LocalStore


@pytest.fixture
async def make_node(tmp_path: Path) -> AsyncIterator[NodeFactory]:
    nodes: list[Node] = []

    async def make(options: BitswapOptions | None = None, memory: bool = False) -> Node:
        index = len(nodes)
        host = P2PHost(HostOptions(identity_path=tmp_path / f"n{index}" / "identity.key"))
        await host.start()
        local = (
            LocalStore.memory()
            if memory
            else LocalStore.open(tmp_path / f"n{index}" / "store", fsync=False)
        )
        bitswap = Bitswap(host, local, options)
        await bitswap.start()
        node = Node(host, local, bitswap)
        nodes.append(node)
        return node

    yield make
    for node in reversed(nodes):
        await node.bitswap.stop()
        await node.host.stop()
