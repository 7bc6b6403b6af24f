"""Fixtures for storage interop: a loopback-only Helia node, a js-ipfs daemon (Kubo RPC), our hosts.

Tools come from ``scripts/setup`` (``npm ci`` installs Node 22 and Helia into node_modules);
when one is missing, ``support.tools.tool_missing`` fails the test in CI and skips it elsewhere,
saying what to run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support import vectors
from support.interop import HeliaProcess, JsIpfsDaemon, node22
from support.storage_net import Node, NodeFactory

from peer.p2p import HostOptions, P2PHost
from storage.bitswap import Bitswap
from storage.kubo import KuboContentStore, KuboOptions
from storage.local import LocalStore
from storage.ports import ContentStore


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


@pytest.fixture(scope="session")
def jsipfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsIpfsDaemon]:
    """One js-ipfs daemon for the session (it takes ~10-20 s to start)."""
    daemon = JsIpfsDaemon(tmp_path_factory.mktemp("jsipfs") / "repo")
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
async def kubo(jsipfs: JsIpfsDaemon) -> KuboContentStore:
    """The Kubo backend on the daemon, emptied first (no pins, GC'd)."""
    store = await KuboContentStore.connect(jsipfs.api, KuboOptions(read_timeout=2.0))
    for pin in await store.pins():
        await store.unpin(pin.cid)
    await store.gc()
    return store


@pytest.fixture
async def content_store(kubo: KuboContentStore) -> ContentStore:
    """What the shared ContentStore conformance suite runs against here."""
    return kubo


@pytest.fixture(scope="session")
def unixfs_vectors() -> list[dict[str, Any]]:
    return vectors.unixfs_vectors()


@pytest.fixture(scope="session")
def make_bytes() -> Callable[[int], bytes]:
    return vectors.vector_bytes
