"""Bitswap against serving peers in their own processes that vanish mid-transfer (SIGKILL)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.storage_net import NodeFactory, pattern

from storage.bitswap import BitswapOptions, ClientOptions
from storage.errors import ContentUnavailableError

pytestmark = pytest.mark.integration

SERVING_PEER = Path(__file__).resolve().parent / "serving_peer.py"
SIZE = 12 * 1024 * 1024


class Server:
    def __init__(self, seed: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVING_PEER), "--size", str(SIZE), "--seed", seed],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.addr: str = info["addr"]
        self.root: str = info["root"]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.kill()


async def test_provider_killed_mid_transfer_is_replaced_by_another(
    make_node: NodeFactory, servers: list[Server]
) -> None:
    servers += [Server("twin"), Server("twin")]
    assert servers[0].root == servers[1].root
    ours = await make_node(BitswapOptions(client=ClientOptions(block_timeout=2, fetch_timeout=20)))
    for server in servers:
        await ours.host.connect(server.addr)
    victim = servers[0]

    def kill_at_one_mb(done: int, total: int | None) -> None:
        if done >= 1024 * 1024:
            victim.kill()

    result = await ours.bitswap.fetch(servers[0].root, progress=kill_at_one_mb)
    assert victim.proc.returncode is not None  # it really died during the fetch
    assert result.fetched_bytes >= SIZE
    assert ours.local.read_range(result.root, 0, SIZE) == pattern(SIZE, "twin")
    assert ours.local.is_pinned(result.root)


async def test_sole_provider_killed_mid_transfer_gives_the_typed_error(
    make_node: NodeFactory, servers: list[Server]
) -> None:
    servers.append(Server("alone"))
    ours = await make_node(BitswapOptions(client=ClientOptions(block_timeout=1, fetch_timeout=3)))
    await ours.host.connect(servers[0].addr)

    def kill_at_one_mb(done: int, total: int | None) -> None:
        if done >= 1024 * 1024:
            servers[0].kill()

    with pytest.raises(ContentUnavailableError):
        await ours.bitswap.fetch(servers[0].root, progress=kill_at_one_mb)
    assert ours.local.pins() == []
