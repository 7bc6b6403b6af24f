"""Catch-up sync between real py-libp2p hosts: this process and a sync peer in another process.

Loopback only. The remote (``tests/support/sync_peer_proc.py``) runs P2PHost + FeedIndex +
SyncService.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.sync_peer_proc import CREATOR, DOMAIN, fill, registry, seqs

from peer.feed import validation as v
from peer.feed.index import FeedIndex, IndexOptions
from peer.p2p import HostOptions, P2PHost
from peer.p2p.testing import wait_until
from peer.sync import PeerBook, PeerBookOptions, SyncOptions, SyncService

pytestmark = pytest.mark.integration

TESTS = Path(__file__).resolve().parents[2]


@dataclass
class Remote:
    process: asyncio.subprocess.Process
    peer_id: str
    addrs: list[str]

    async def ask(self, **command: Any) -> Any:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), 20)
        return json.loads(line)["result"]

    async def close(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.write(b'{"cmd": "quit"}\n')
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@dataclass
class Local:
    host: P2PHost
    index: FeedIndex
    sync: SyncService
    data: Path


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[AsyncExitStack, Path]]:
    async with AsyncExitStack() as exits:
        yield exits, tmp_path


async def start_remote(exits: AsyncExitStack, data: Path, posts: int) -> Remote:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "support.sync_peer_proc",
        str(data),
        str(posts),
        cwd=TESTS,  # "-m support...": tests/ is the first entry of the child's sys.path
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        hello = json.loads(line)
    except BaseException:
        process.kill()
        await process.wait()
        raise
    remote = Remote(process, hello["peer_id"], hello["addrs"])
    exits.push_async_callback(remote.close)
    return remote


async def start_local(exits: AsyncExitStack, data: Path, posts: int) -> Local:
    index = FeedIndex(IndexOptions(data / "index" / "feed.sqlite"))
    await index.start()
    exits.push_async_callback(index.close)
    validator = v.Validator(DOMAIN, registry(), index.view)
    await fill(index, validator, posts)
    host = P2PHost(HostOptions(identity_path=data / "p2p" / "identity.key"))
    await host.start()
    exits.push_async_callback(host.stop)
    book = PeerBook(PeerBookOptions(data / "p2p" / "peers.json"))
    # pages of 10: the 25 posts of the catch-up test take several (the default page holds them)
    sync = SyncService(host, index.sync, validator, SyncOptions(page_size=10), peer_book=book)
    await sync.start()
    exits.push_async_callback(sync.stop)
    return Local(host, index, sync, data)


async def test_an_empty_peer_catches_up_25_posts_from_a_remote_process(
    stack: tuple[AsyncExitStack, Path],
) -> None:
    exits, tmp = stack
    remote = await start_remote(exits, tmp / "remote", 25)
    local = await start_local(exits, tmp / "local", 0)
    await local.host.connect(remote.addrs[0])

    async def caught_up() -> bool:
        return await seqs(local.index) == list(range(1, 26))

    await wait_until(caught_up, 30, "25 posts synced from the remote process")
    info = await local.index.queries.creator_info(CREATOR)
    assert info is not None
    assert info.head_seq == 25

    async def round_reported() -> bool:  # the report and the book are written as the round ends
        book_file = local.data / "p2p" / "peers.json"
        return remote.peer_id in local.sync.reports and book_file.exists()

    await wait_until(round_reported, 15, "the sync round's report")
    report = local.sync.reports[remote.peer_id]
    assert report.pages >= 2
    assert report.rejected is None
    book = json.loads((local.data / "p2p" / "peers.json").read_text())
    assert [p["peer"] for p in book["peers"]] == [remote.peer_id]
    assert all(a.endswith("/p2p/" + remote.peer_id) for a in book["peers"][0]["addrs"])


async def test_a_remote_process_that_dials_us_catches_up_on_connection(
    stack: tuple[AsyncExitStack, Path],
) -> None:
    exits, tmp = stack
    local = await start_local(exits, tmp / "local", 25)
    remote = await start_remote(exits, tmp / "remote", 0)
    assert await remote.ask(cmd="connect", addr=local.host.addrs[0]) == local.host.peer_id

    async def remote_caught_up() -> bool:
        return bool(await remote.ask(cmd="seqs") == list(range(1, 26)))

    await wait_until(remote_caught_up, 30, "the remote to sync 25 posts from us")
    assert local.sync.stats["served:range"] >= 2


async def test_a_restarted_peer_redials_the_peers_in_its_book(
    stack: tuple[AsyncExitStack, Path],
) -> None:
    exits, tmp = stack
    remote = await start_remote(exits, tmp / "remote", 3)
    async with AsyncExitStack() as first_life:
        local = await start_local(first_life, tmp / "local", 0)
        await local.host.connect(remote.addrs[0])

        async def answered() -> bool:
            report = local.sync.reports.get(remote.peer_id)
            return report is not None and report.answered

        await wait_until(answered, 30, "a first round with the remote")
    # same data dir, new process state: no explicit connect this time
    local = await start_local(exits, tmp / "local", 0)

    async def redialled_and_synced() -> bool:
        report = local.sync.reports.get(remote.peer_id)
        return report is not None and report.answered

    await wait_until(redialled_and_synced, 30, "the redial from the peer book and a round")
    assert remote.peer_id in {p.peer_id for p in local.host.peers()}
    assert await seqs(local.index) == [1, 2, 3]
