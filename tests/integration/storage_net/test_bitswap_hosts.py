"""Bitswap between real py-libp2p hosts on loopback."""

from __future__ import annotations

import pytest
from support.storage_net import NodeFactory, pattern

pytestmark = pytest.mark.integration


async def test_multi_block_file_is_fetched_verified_and_pinned(make_node: NodeFactory) -> None:
    a = await make_node()
    b = await make_node()
    data = pattern(5 * 262_144 + 777)
    root = a.local.import_chunks([data])
    await b.host.connect(a.host.addrs[0])
    result = await b.bitswap.fetch(root)
    assert result.fetched_blocks == result.blocks == 7
    assert b.local.read_range(root, 0, len(data)) == data
    assert b.local.is_pinned(root)
