"""Interop: a js-libp2p 3 node with @libp2p/gossipsub 17 (tests/interop/p2p/js_peer.mjs, from
the root package.json) exchanges gossipsub messages with our host in both directions, on
loopback, over tcp + noise + yamux."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.tools import tool_missing

from peer.p2p import Accept, GossipOptions, HostOptions, Ignore, Message, P2PHost, Reject
from peer.p2p.ports import Subscription, ValidationResult

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("js_peer.mjs")
TOPIC = "toktok/test/interop"


def node_binary() -> str:
    if not (ROOT / "node_modules" / "libp2p" / "package.json").exists():
        tool_missing("node_modules/libp2p is missing: run scripts/setup (npm ci)")
    local = ROOT / "node_modules" / ".bin" / "node"
    found = str(local) if local.exists() else shutil.which("node")
    if found is None:
        tool_missing("no node binary: install Node >= 20 (scripts/setup checks for it)")
    return found


class JsPeer:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self._proc = proc
        self._ids = 0

    async def call(self, cmd: str, **args: Any) -> Any:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        self._ids += 1
        self._proc.stdin.write(
            (json.dumps({"id": self._ids, "cmd": cmd, "args": args}) + "\n").encode()
        )
        await self._proc.stdin.drain()
        line = await asyncio.wait_for(self._proc.stdout.readline(), 30)
        assert line, f"the js peer exited (code {self._proc.returncode})"
        reply = json.loads(line)
        assert reply["ok"], f"js peer {cmd} failed: {reply.get('message')}"
        return reply["result"]


@pytest.fixture
async def js_peer() -> AsyncIterator[JsPeer]:
    proc = await asyncio.create_subprocess_exec(
        node_binary(),
        str(SCRIPT),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    peer = JsPeer(proc)
    try:
        yield peer
    finally:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(peer.call("stop"), 10)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[P2PHost]:
    options = HostOptions(
        identity_path=tmp_path / "identity.key",
        gossip=GossipOptions(exempt_loopback_from_colocation=True),
    )
    async with P2PHost(options) as running:
        yield running


async def validator(message: Message) -> ValidationResult:
    if message.data.startswith(b"reject"):
        return Reject("scripted")
    if message.data.startswith(b"ignore"):
        return Ignore("scripted")
    return Accept()


async def eventually(check: Any, what: str, timeout: float = 20.0) -> Any:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_js_libp2p_and_our_host_exchange_pubsub_messages_both_ways(
    host: P2PHost, js_peer: JsPeer
) -> None:
    js = await js_peer.call("info")
    sub = await host.subscribe(TOPIC, validator)
    await js_peer.call("subscribe", topic=TOPIC)
    assert await host.connect(js["addrs"][0]) == js["peer_id"]

    async def subscribed_both_ways() -> bool:
        return js["peer_id"] in await host.topic_peers(TOPIC) and host.peer_id in (
            await js_peer.call("topic_peers", topic=TOPIC)
        )

    await eventually(subscribed_both_ways, "both sides to see the other's subscription")

    # py -> js (retry: the first publishes may precede the mesh)
    async def js_got_ours() -> list[dict[str, str]]:
        await host.publish(TOPIC, b"hello from python")
        got = await js_peer.call("received", topic=TOPIC)
        return [m for m in got if m["data"] == b"hello from python".hex()]

    from_py = await eventually(js_got_ours, "the js peer to receive our message")
    assert from_py[0]["from_peer"] == host.peer_id

    # js -> py
    await js_peer.call("publish", topic=TOPIC, data=b"hello from js".hex())
    message = await asyncio.wait_for(_next_with(sub, b"hello from js"), 20)
    assert message.from_peer == js["peer_id"]
    assert message.topic == TOPIC

    # our validator applies to js messages too: a rejected one is dropped and penalised
    before = await host.peer_score(js["peer_id"], TOPIC)
    await js_peer.call("publish", topic=TOPIC, data=b"reject this".hex())
    await js_peer.call("publish", topic=TOPIC, data=b"after the reject".hex())
    message = await asyncio.wait_for(
        _next_with(sub, b"after the reject", forbid=b"reject this"), 20
    )
    assert message.from_peer == js["peer_id"]
    assert await host.peer_score(js["peer_id"], TOPIC) <= before - 5


async def _next_with(sub: Subscription, data: bytes, forbid: bytes | None = None) -> Message:
    async for message in sub:
        assert message.data != forbid, "a rejected message was delivered"
        if message.data == data:
            return message
    raise AssertionError("subscription ended")
