"""Bitswap between real py-libp2p hosts on loopback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.storage_net import NodeFactory, pattern

from peer.p2p import HostOptions, P2PHost
from peer.p2p.ports import P2PStream
from storage.bitswap import BitswapOptions, ClientOptions
from storage.bitswap.wire import PROTOCOLS, FrameReader, WantEntry, WantType, decode_message

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


async def test_a_silent_peer_is_cancelled_while_the_answering_one_serves(
    make_node: NodeFactory, tmp_path: Path
) -> None:
    """A connected peer that speaks bitswap but never answers (a stalled or overloaded peer)
    gets the want-have for the root like every peer, and a cancel once another peer delivered:
    the fetch never waits for it (the asker's block timeout is 30 s; it never fires)."""
    silent = P2PHost(HostOptions(identity_path=tmp_path / "silent" / "identity.key"))
    await silent.start()
    entries: asyncio.Queue[WantEntry] = asyncio.Queue()

    async def swallow(stream: P2PStream) -> None:
        reader = FrameReader()
        while data := await stream.read():
            for payload in reader.feed(data):
                for entry in decode_message(payload).wants:
                    await entries.put(entry)

    try:
        for protocol in PROTOCOLS:
            await silent.set_stream_handler(protocol, swallow)
        holder = await make_node(memory=True)
        asker = await make_node(
            BitswapOptions(client=ClientOptions(block_timeout=30, fetch_timeout=30)), memory=True
        )
        data = pattern(3 * 262_144, "silent")
        root = holder.local.import_chunks([data])
        await asker.host.connect(silent.addrs[0])
        await asker.host.connect(holder.host.addrs[0])
        result = await asker.bitswap.fetch(root)
        assert asker.local.read_range(root, 0, len(data)) == data
        assert holder.bitswap.stats().server.blocks_sent == result.fetched_blocks == 4
        other = holder.local.import_chunks([b"another file: a new session, a new broadcast"])
        await asker.bitswap.get_block(other)
        seen = [await asyncio.wait_for(entries.get(), 10)]
        while seen[-1].cid != other:  # one ordered stream: nothing sent before it is pending
            seen.append(await asyncio.wait_for(entries.get(), 10))
        kinds = [(w.cid, w.want_type, w.cancel) for w in seen]
        # asked like every peer (again at each 2 s re-broadcast), never for the block ...
        assert set(kinds[:-2]) == {(root, WantType.HAVE, False)}
        assert kinds[-2] == (root, WantType.BLOCK, True)  # ... cancelled once the holder sent it
        assert kinds[-1] == (other, WantType.HAVE, False)  # the children went to the session
        client = asker.bitswap.stats().client
        assert (client.timeouts, client.want_blocks_sent) == (0, 5)
    finally:
        await silent.stop()
