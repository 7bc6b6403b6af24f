"""Yamux receive credit goes back in one WINDOW_UPDATE per half window read, as go-yamux does,
not one per read (peer/p2p/libp2p_host.py): many small messages cost the reader no frames
back, and a transfer several windows long still completes (no stall)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
from libp2p.custom_types import TProtocol
from libp2p.peer.peerinfo import info_from_p2p_addr
from libp2p.stream_muxer.yamux.yamux import YamuxStream
from multiaddr import Multiaddr

from peer.p2p.identity import load_or_create_identity
from peer.p2p.libp2p_host import build_libp2p_host
from peer.p2p.options import HostOptions

pytestmark = pytest.mark.integration
PROTOCOL = TProtocol("/toktok/test-credit/1")
SMALL, SMALL_SIZE, BIG = 300, 200, 3 << 20  # BIG: 12 of py-libp2p's 256 KiB windows


def test_small_reads_send_no_window_update_and_big_transfer_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    updates: list[int] = []
    original = YamuxStream.send_window_update

    async def counted(self: YamuxStream, increment: int, *args: Any, **kwargs: Any) -> None:
        updates.append(increment)
        await original(self, increment, *args, **kwargs)

    monkeypatch.setattr(YamuxStream, "send_window_update", counted)
    received: dict[str, int] = {}

    async def scenario() -> None:
        opts = [HostOptions(identity_path=tmp_path / f"{n}.key") for n in ("a", "b")]
        a, b = (build_libp2p_host(load_or_create_identity(o.identity_path), o) for o in opts)
        done = trio.Event()

        async def reader(stream: Any) -> None:
            small = 0
            while small < SMALL * SMALL_SIZE:
                small += len(await stream.read(SMALL_SIZE))
            received["small"], received["updates_after_small"] = small, len(updates)
            big = 0
            while big < BIG:
                big += len(await stream.read(1 << 16))
            received["big"] = big
            done.set()

        b.set_stream_handler(PROTOCOL, reader)
        listen = [Multiaddr("/ip4/127.0.0.1/tcp/0")]
        async with a.run(listen), b.run(listen):
            await a.connect(info_from_p2p_addr(b.get_addrs()[0]))
            stream = await a.new_stream(b.get_id(), [PROTOCOL])
            for _ in range(SMALL):
                await stream.write(b"s" * SMALL_SIZE)
            chunk = b"b" * (1 << 16)
            for _ in range(BIG // len(chunk)):
                await stream.write(chunk)
            with trio.fail_after(60):
                await done.wait()
            await a.close()
            await b.close()

    trio.run(scenario)
    assert received["small"] == SMALL * SMALL_SIZE
    assert received["updates_after_small"] <= 1, "60 KB read in 300 reads: at most one update"
    assert received["big"] == BIG, "a transfer of 12 windows completed"
    assert 6 <= len(updates) <= 40, f"about one update per half window, got {len(updates)}"
