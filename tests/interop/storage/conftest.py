"""Fixtures for storage interop: a loopback-only Helia node and our own hosts.

Tools come from ``scripts/setup`` (``npm ci`` installs Node 22 and Helia into node_modules);
when they are missing the tests FAIL with a message saying what to run, never skip.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "integration" / "storage_net"))

from interop_support import HeliaProcess, node22
from storage_net_support import Node, NodeFactory

from peer.p2p import HostOptions, P2PHost
from storage.bitswap import Bitswap
from storage.local import LocalStore


@pytest.fixture
async def helia() -> AsyncIterator[HeliaProcess]:
    process = HeliaProcess(node22())
    await process.start()
    try:
        yield process
    finally:
        await process.stop()


@pytest.fixture
async def make_node(tmp_path: Path) -> AsyncIterator[NodeFactory]:
    nodes: list[Node] = []

    async def make() -> Node:
        index = len(nodes)
        host = P2PHost(HostOptions(identity_path=tmp_path / f"n{index}" / "identity.key"))
        await host.start()
        local = LocalStore.open(tmp_path / f"n{index}" / "store", fsync=False)
        bitswap = Bitswap(host, local)
        await bitswap.start()
        node = Node(host, local, bitswap)
        nodes.append(node)
        return node

    yield make
    for node in reversed(nodes):
        await node.bitswap.stop()
        await node.host.stop()
