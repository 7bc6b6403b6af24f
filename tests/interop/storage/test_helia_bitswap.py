"""Helia (loopback only) and our peer exchange multi-block files over bitswap, both ways."""

from __future__ import annotations

import hashlib

import pytest
from support.interop import HeliaProcess
from support.storage_net import NodeFactory, pattern

from storage import unixfs

pytestmark = pytest.mark.interop

SIZE = 3 * 1024 * 1024 + 12345  # 13 leaves (the last one short) + a root


async def test_helia_fetches_a_file_our_peer_added(
    helia: HeliaProcess, make_node: NodeFactory
) -> None:
    ours = await make_node()
    data = pattern(SIZE, "ours")
    root = ours.local.import_chunks([data])
    await ours.host.connect(helia.addrs[0])
    got = await helia.call(cmd="cat", cid=str(root), timeoutMs=60000)
    assert got["size"] == len(data)
    assert got["sha256"] == hashlib.sha256(data).hexdigest()
    assert ours.bitswap.stats().server.blocks_sent >= 14


async def test_our_peer_fetches_a_file_helia_added(
    helia: HeliaProcess, make_node: NodeFactory
) -> None:
    ours = await make_node()
    added = await helia.call(cmd="add", size=SIZE, seed="helia")
    data = pattern(SIZE, "helia")
    assert added["cid"] == str(unixfs.import_bytes(data)[0])  # same CID both sides
    await ours.host.connect(helia.addrs[0])
    result = await ours.bitswap.fetch(added["cid"])
    assert result.fetched_blocks == result.blocks == 14
    assert ours.local.read_range(result.root, 0, SIZE) == data
    assert ours.local.is_pinned(result.root)
