"""A scripted peer, in-process (:class:`ScriptedPeer`) or as a child process driven over
JSON lines (:class:`WorkerProcess`); used by the conformance suite and ``scripts/bench p2p``.

Both classes have the same async methods, so a test can run against fake peers and against
real hosts in separate processes unchanged. The scripted validator looks at the payload:
``reject...`` -> Reject, ``ignore...`` -> Ignore, anything else -> Accept. Scripted request
handlers: ``echo``, ``error`` (raises), ``slow`` (never answers in time), ``big`` (answers
``int(request)`` bytes); raw stream handlers: ``stream-echo`` echoes until EOF,
``stream-sink`` reads until EOF and answers the byte count.

Run as ``python -m peer.p2p.worker --identity PATH [--options JSON]``; one JSON object per
line each way: ``{"id": 1, "cmd": "publish", "args": {...}}`` ->
``{"id": 1, "ok": true, "result": ...}`` or ``{"id": 1, "ok": false, "error": "ClassName",
"message": "..."}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from . import errors
from .host import P2PHost
from .options import GossipOptions, HostOptions
from .ports import (
    Accept,
    Ignore,
    Message,
    Network,
    P2PStream,
    Reject,
    Routing,
    ValidationResult,
)


async def scripted_validator(message: Message) -> ValidationResult:
    if message.data.startswith(b"reject"):
        return Reject("scripted reject")
    if message.data.startswith(b"ignore"):
        return Ignore("scripted ignore")
    return Accept()


class ScriptedPeer:
    """Drives one ``Network`` with scripted behaviour; every method is JSON-friendly."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self._received: dict[str, list[dict[str, Any]]] = {}
        self._events: list[dict[str, str]] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def start_watching(self) -> None:
        stream = self.network.watch_connections()

        async def pump() -> None:
            async for event in stream:
                self._events.append({"kind": event.kind, "peer": event.peer})

        self._tasks.append(asyncio.create_task(pump()))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def info(self) -> dict[str, Any]:
        reachability = getattr(self.network, "reachability", None)  # the real host only
        return {
            "peer_id": self.network.peer_id,
            "addrs": self.network.addrs,
            "reachability": reachability() if callable(reachability) else None,
        }

    async def connect(self, addr: str) -> str:
        return await self.network.connect(addr)

    async def disconnect(self, peer: str) -> None:
        await self.network.disconnect(peer)

    async def peers(self) -> list[str]:
        return [p.peer_id for p in self.network.peers()]

    async def events(self) -> list[dict[str, str]]:
        out, self._events = self._events, []
        return out

    async def subscribe(self, topic: str, echo_to: str = "") -> None:
        """Subscribe with the scripted validator; with ``echo_to``, republish every message."""
        sub = await self.network.subscribe(topic, scripted_validator)
        inbox = self._received.setdefault(topic, [])

        async def pump() -> None:
            async for message in sub:
                if echo_to:
                    await self.network.publish(echo_to, message.data)
                    continue
                inbox.append(
                    {
                        "from_peer": message.from_peer,
                        "received_from": message.received_from,
                        "data": message.data.hex(),
                        "topic": message.topic,
                    }
                )

        self._tasks.append(asyncio.create_task(pump()))

    async def received(self, topic: str) -> list[dict[str, Any]]:
        out = list(self._received.get(topic, []))
        self._received.get(topic, []).clear()
        return out

    async def publish(self, topic: str, data: str) -> None:
        await self.network.publish(topic, bytes.fromhex(data))

    async def topic_peers(self, topic: str) -> list[str]:
        return await self.network.topic_peers(topic)

    async def score(self, peer: str, topic: str) -> float:
        return await self.network.peer_score(peer, topic)

    async def serve(self, protocol: str, behaviour: str) -> None:
        if behaviour == "stream-echo":
            await self.network.set_stream_handler(protocol, _stream_echo)
            return
        if behaviour == "stream-sink":
            await self.network.set_stream_handler(protocol, _stream_sink)
            return

        async def handler(peer: str, request: bytes) -> bytes:
            if behaviour == "error":
                raise ValueError("handler exploded")
            if behaviour == "slow":
                await asyncio.sleep(60)
            if behaviour == "big":
                return b"x" * int(request)
            return request

        await self.network.serve(protocol, handler)

    async def request(self, peer: str, protocol: str, data: str, timeout: float = 5.0) -> str:  # noqa: ASYNC109
        response = await self.network.request(peer, protocol, bytes.fromhex(data), timeout)
        return response.hex()

    async def publish_burst(self, topic: str, count: int, size: int) -> float:
        """Publish ``count`` messages of ``size`` bytes as fast as possible; seconds taken."""
        start = time.perf_counter()
        for index in range(count):
            await self.network.publish(topic, index.to_bytes(8, "big") + b"\0" * (size - 8))
        return time.perf_counter() - start

    async def count_received(self, topic: str) -> int:
        return len(self._received.get(topic, []))

    # DHT (keys as hex) -------------------------------------------------------------------

    async def provide(self, key: str) -> int:
        return await cast(Routing, self.network).provide(bytes.fromhex(key))

    async def find_providers(self, key: str, limit: int = 5) -> list[dict[str, Any]]:
        found = await cast(Routing, self.network).find_providers(bytes.fromhex(key), limit)
        return [{"peer_id": p.peer_id, "addrs": list(p.addrs)} for p in found]

    async def find_peer(self, peer: str) -> dict[str, Any] | None:
        found = await cast(Routing, self.network).find_peer(peer)
        return None if found is None else {"peer_id": found.peer_id, "addrs": list(found.addrs)}


async def _stream_sink(stream: P2PStream) -> None:
    """Read until EOF, then answer the number of bytes read (ASCII)."""
    total = 0
    while chunk := await stream.read(1 << 20):
        total += len(chunk)
    await stream.write(str(total).encode())


async def _stream_echo(stream: P2PStream) -> None:
    while chunk := await stream.read():
        await stream.write(chunk)


class WorkerProcess:
    """A :class:`ScriptedPeer` around a real ``P2PHost`` in a child process."""

    def __init__(self, identity: Path, options: dict[str, Any] | None = None) -> None:
        self._identity = identity
        self._options = options or {}
        self._proc: asyncio.subprocess.Process | None = None
        self._ids = 0
        self._lock = asyncio.Lock()
        self.peer_id = ""
        self.addrs: list[str] = []

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "peer.p2p.worker",
            "--identity",
            str(self._identity),
            "--options",
            json.dumps(self._options),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=16 * 1024 * 1024,
        )
        info = await self.call("info", timeout=30)
        self.peer_id, self.addrs = info["peer_id"], info["addrs"]

    async def stop(self) -> None:
        proc = self._proc
        if proc is None:
            return
        waiter = _waitpid_thread(proc.pid)
        with contextlib.suppress(Exception):
            await self.call("stop", timeout=10)
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        if waiter is not None:
            # asyncio's threaded child watcher resolves wait() just BEFORE its thread ends;
            # a caller counting threads right after stop() would see it (it ends at once)
            waiter.join(timeout=2)
        self._proc = None

    async def call(self, cmd: str, timeout: float = 30.0, **args: Any) -> Any:  # noqa: ASYNC109
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise errors.HostNotRunningError("the worker process")
        async with self._lock:
            self._ids += 1
            line = json.dumps({"id": self._ids, "cmd": cmd, "args": args}) + "\n"
            proc.stdin.write(line.encode())
            await proc.stdin.drain()
            raw = await asyncio.wait_for(proc.stdout.readline(), timeout)
        if not raw:
            raise errors.P2PError(f"the worker process exited (code {proc.returncode})")
        reply = json.loads(raw)
        if reply.get("ok"):
            return reply.get("result")
        cls = getattr(errors, reply.get("error", ""), None)
        if isinstance(cls, type) and issubclass(cls, errors.P2PError):
            exc = cls.__new__(cls)
            Exception.__init__(exc, reply.get("message", ""))
            raise exc
        raise errors.P2PError(f"{reply.get('error')}: {reply.get('message')}")

    # the ScriptedPeer surface, forwarded --------------------------------------------------

    async def info(self) -> dict[str, Any]:
        return dict(await self.call("info"))

    async def connect(self, addr: str) -> str:
        return str(await self.call("connect", addr=addr))

    async def disconnect(self, peer: str) -> None:
        await self.call("disconnect", peer=peer)

    async def peers(self) -> list[str]:
        return list(await self.call("peers"))

    async def events(self) -> list[dict[str, str]]:
        return list(await self.call("events"))

    async def subscribe(self, topic: str, echo_to: str = "") -> None:
        await self.call("subscribe", topic=topic, echo_to=echo_to)

    async def received(self, topic: str) -> list[dict[str, Any]]:
        return list(await self.call("received", topic=topic))

    async def publish(self, topic: str, data: str) -> None:
        await self.call("publish", topic=topic, data=data)

    async def topic_peers(self, topic: str) -> list[str]:
        return list(await self.call("topic_peers", topic=topic))

    async def score(self, peer: str, topic: str) -> float:
        return float(await self.call("score", peer=peer, topic=topic))

    async def serve(self, protocol: str, behaviour: str) -> None:
        await self.call("serve", protocol=protocol, behaviour=behaviour)

    async def request(self, peer: str, protocol: str, data: str, timeout: float = 5.0) -> str:  # noqa: ASYNC109
        return str(
            await self.call(
                "request", timeout=timeout + 10, peer=peer, protocol=protocol, data=data
            )
        )

    async def publish_burst(self, topic: str, count: int, size: int) -> float:
        return float(await self.call("publish_burst", topic=topic, count=count, size=size))

    async def count_received(self, topic: str) -> int:
        return int(await self.call("count_received", topic=topic))

    async def provide(self, key: str) -> int:
        return int(await self.call("provide", timeout=60, key=key))

    async def find_providers(self, key: str, limit: int = 5) -> list[dict[str, Any]]:
        return list(await self.call("find_providers", timeout=60, key=key, limit=limit))

    async def find_peer(self, peer: str) -> dict[str, Any] | None:
        found = await self.call("find_peer", timeout=60, peer=peer)
        return None if found is None else dict(found)


def _waitpid_thread(pid: int) -> threading.Thread | None:
    """The thread asyncio's ThreadedChildWatcher runs to wait for ``pid`` (Python 3.11 on
    Linux; newer versions wait on a pidfd without a thread), if any."""
    for thread in threading.enumerate():
        args: tuple[Any, ...] = tuple(getattr(thread, "_args", ()))
        if thread.name.startswith("asyncio-waitpid") and args[1:2] == (pid,):
            return thread
    return None


def options_from_json(identity: Path, raw: dict[str, Any]) -> HostOptions:
    """HostOptions from a JSON object (``gossip`` nested); loopback-exempt for test peers."""
    gossip_fields = dict(raw.pop("gossip", {}))
    gossip_fields.setdefault("exempt_loopback_from_colocation", True)
    gossip = GossipOptions(**gossip_fields)
    for key in ("listen_addrs", "announce_addrs", "bootstrap"):
        if key in raw:
            raw[key] = tuple(raw[key])
    return replace(HostOptions(identity_path=identity, gossip=gossip), **raw)


async def _serve_stdio(peer: ScriptedPeer, host: P2PHost) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = os.fdopen(sys.stdout.fileno(), "w", buffering=1, closefd=False)
    while line := await reader.readline():
        request = json.loads(line)
        reply: dict[str, Any] = {"id": request.get("id")}
        cmd = request.get("cmd", "")
        if cmd == "stop":
            reply.update(ok=True, result=None)
            out.write(json.dumps(reply) + "\n")
            return
        method = getattr(peer, cmd, None) if not cmd.startswith("_") else None
        try:
            if method is None:
                raise errors.P2PError(f"unknown command {cmd!r}")
            reply.update(ok=True, result=await method(**request.get("args", {})))
        except Exception as exc:
            reply.update(ok=False, error=type(exc).__name__, message=str(exc))
        out.write(json.dumps(reply) + "\n")


async def _main(identity: Path, raw_options: dict[str, Any]) -> None:
    host = P2PHost(options_from_json(identity, raw_options))
    async with host:
        peer = ScriptedPeer(host)
        await peer.start_watching()
        try:
            await _serve_stdio(peer, host)
        finally:
            await peer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identity", type=Path, required=True)
    parser.add_argument("--options", default="{}")
    args = parser.parse_args()
    asyncio.run(_main(args.identity, json.loads(args.options)))


if __name__ == "__main__":
    main()
