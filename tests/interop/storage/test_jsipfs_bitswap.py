"""Our peer and a js-ipfs daemon exchange a multi-block file over bitswap, both directions."""

from __future__ import annotations

import pytest
from support.interop import JsIpfsDaemon
from support.storage_net import NodeFactory, pattern

from storage.kubo import KuboContentStore, KuboOptions

pytestmark = [pytest.mark.interop, pytest.mark.timeout(900)]  # first use installs js-ipfs

SIZE = 2 * 1024 * 1024 + 4321  # 9 leaves + a root


async def test_js_ipfs_fetches_a_file_our_peer_added(
    jsipfs: JsIpfsDaemon, kubo: KuboContentStore, make_node: NodeFactory
) -> None:
    ours = await make_node()
    data = pattern(SIZE, "to-js")
    root = ours.local.import_chunks([data])
    await ours.host.connect(jsipfs.swarm)
    remote = KuboContentStore(jsipfs.api, KuboOptions(read_timeout=60))
    assert await remote.read_range(root, 0, SIZE) == data  # js-ipfs fetched every block from us
    assert ours.bitswap.stats().server.blocks_sent >= 10


async def test_our_peer_fetches_a_file_js_ipfs_added(
    jsipfs: JsIpfsDaemon, kubo: KuboContentStore, make_node: NodeFactory
) -> None:
    ours = await make_node()
    data = pattern(SIZE, "from-js")
    root = await kubo.add_bytes(data)
    await ours.host.connect(jsipfs.swarm)
    result = await ours.bitswap.fetch(root)
    assert result.fetched_blocks == result.blocks == 10
    assert ours.local.read_range(root, 0, SIZE) == data
