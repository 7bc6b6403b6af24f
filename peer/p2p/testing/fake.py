"""An in-memory network of fake hosts with the same asyncio API as ``P2PHost``.

Public product code for unit tests of the services above ``peer.p2p`` (feed, sync, key
release). No sockets, no threads: everything runs on the caller's asyncio loop. It keeps
the facade's observable contract (the conformance suite in ``tests/integration/p2p`` runs
against both): messages flood between connected subscribers, each hop runs the receiver's
validator (Reject: not forwarded, the forwarder's score drops by the P4 weight; Ignore: not
forwarded, no penalty), own messages are not delivered back, request/response enforces the
same limits and raises the same errors.

    network = FakeNetwork()
    a, b = network.host(), network.host()
    async with a, b:
        await a.connect(b.addrs[0])
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from collections.abc import Coroutine, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import (
    DhtUnavailableError,
    DialError,
    HostNotRunningError,
    InvalidMultiaddrError,
    MessageTooLargeError,
    NotConnectedError,
    PeerNotFoundError,
    ProtocolNotSupportedError,
    PublishError,
    RemoteHandlerError,
    RequestError,
    RequestTimeoutError,
    ResponseTooLargeError,
)
from ..options import HostOptions
from ..ports import (
    Accept,
    ConnectionEvent,
    EventStream,
    Ignore,
    Message,
    P2PStream,
    PeerInfo,
    Reject,
    RequestHandler,
    StreamHandler,
    Subscription,
    TopicValidator,
    ValidationResult,
)
from ..queues import EventFeed, MessageFeed

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class FakeNetwork:
    """The medium fake hosts live in (one per test)."""

    def __init__(self) -> None:
        self.hosts: dict[str, FakeHost] = {}
        self._ports = itertools.count(40000)

    def host(self, options: HostOptions | None = None) -> FakeHost:
        return FakeHost(self, options)

    def _new_identity(self) -> tuple[str, int]:
        peer_id = "12D3KooW" + "".join(secrets.choice(_B58) for _ in range(44))
        return peer_id, next(self._ports)


class FakeHost:
    """A ``Network`` living in a :class:`FakeNetwork`."""

    def __init__(self, network: FakeNetwork, options: HostOptions | None = None) -> None:
        self._network = network
        self._options = options or HostOptions(identity_path=Path("/nonexistent/fake"))
        self._peer_id, port = network._new_identity()
        self._addr = f"/ip4/127.0.0.1/tcp/{port}/p2p/{self._peer_id}"
        self._running = False
        self._connected: set[str] = set()
        self._subs: dict[str, MessageFeed] = {}
        self._validators: dict[str, TopicValidator | None] = {}
        self._seen: set[tuple[str, bytes]] = set()
        self._invalid: dict[tuple[str, str], int] = {}
        self._handlers: dict[str, RequestHandler] = {}
        self._stream_handlers: dict[str, StreamHandler] = {}
        self._watchers: set[EventFeed] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._seqno = itertools.count(1)
        # DHT model: provider records this host stores (key -> provider id -> full addr)
        self._records: dict[bytes, dict[str, str]] = {}

    # lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self._running = True
        self._network.hosts[self._peer_id] = self

    async def stop(self) -> None:
        if not self._running:
            return
        for peer in list(self._connected):
            await self.disconnect(peer)
        self._running = False
        self._network.hosts.pop(self._peer_id, None)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        for feed in self._subs.values():
            feed.end()
        for watcher in self._watchers:
            watcher.end()
        self._subs.clear()
        self._watchers.clear()

    async def __aenter__(self) -> FakeHost:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def running(self) -> bool:
        return self._running

    @property
    def peer_id(self) -> str:
        return self._peer_id

    @property
    def addrs(self) -> list[str]:
        return [self._addr]

    # connections ---------------------------------------------------------------------------

    async def connect(self, multiaddr: str) -> str:
        self._need_running()
        bare = multiaddr.removeprefix("/p2p/")
        if _looks_like_peer_id(bare):
            found = await self.find_peer(bare)
            if found is None:
                raise PeerNotFoundError(f"peer {bare} was not found through the DHT")
            multiaddr = found.addrs[0]
        head, sep, peer = multiaddr.rpartition("/p2p/")
        if not sep or not head.startswith("/") or not peer:
            raise InvalidMultiaddrError(f"{multiaddr!r} does not end in /p2p/<peer id>")
        other = self._network.hosts.get(peer)
        if other is None or other._addr != multiaddr or peer == self._peer_id:
            raise DialError(f"could not connect to {peer}: connection refused")
        if peer not in self._connected:
            self._link(other)
            other._link(self)
        await asyncio.sleep(0)
        return peer

    async def disconnect(self, peer: str) -> None:
        self._need_running()
        other = self._network.hosts.get(peer)
        self._unlink(peer)
        if other is not None:
            other._unlink(self._peer_id)
        await asyncio.sleep(0)

    def peers(self) -> list[PeerInfo]:
        return [
            PeerInfo(p, (self._network.hosts[p]._addr.rpartition("/p2p/")[0],))
            for p in sorted(self._connected)
            if p in self._network.hosts
        ]

    def watch_connections(self) -> EventStream:
        self._need_running()
        feed = EventFeed(self._options.event_queue, None)
        self._watchers.add(feed)

        async def on_close() -> None:
            self._watchers.discard(feed)

        feed._on_close = on_close
        return feed

    def _link(self, other: FakeHost) -> None:
        self._connected.add(other._peer_id)
        self._emit(ConnectionEvent("connected", other._peer_id))

    def _unlink(self, peer: str) -> None:
        if peer in self._connected:
            self._connected.discard(peer)
            self._emit(ConnectionEvent("disconnected", peer))

    def _emit(self, event: ConnectionEvent) -> None:
        for watcher in list(self._watchers):
            watcher.push(event)

    # pubsub --------------------------------------------------------------------------------

    async def publish(self, topic: str, data: bytes) -> None:
        self._need_running()
        limit = self._options.gossip.max_message_size
        if len(data) > limit:
            raise MessageTooLargeError(f"the message on {topic}", len(data), limit)
        if not topic:
            raise PublishError("the topic name is empty")
        seqno = next(self._seqno).to_bytes(8, "big")
        self._seen.add((self._peer_id, seqno))
        message = Message(self._peer_id, bytes(data), topic, self._peer_id, seqno)
        self._forward(message, exclude=set())
        await asyncio.sleep(0)

    async def subscribe(self, topic: str, validator: TopicValidator | None = None) -> Subscription:
        self._need_running()
        if not topic:
            raise PublishError("the topic name is empty")
        if topic in self._subs:
            raise PublishError(f"already subscribed to {topic}; close that subscription first")
        feed = MessageFeed(topic, self._options.subscription_queue, None)

        async def on_close() -> None:
            if self._subs.get(topic) is feed:
                del self._subs[topic]
                self._validators.pop(topic, None)

        feed._on_close = on_close
        self._subs[topic] = feed
        self._validators[topic] = validator
        await asyncio.sleep(0)
        return feed

    async def peer_score(self, peer: str, topic: str) -> float:
        gossip = self._options.gossip
        count = min(self._invalid.get((peer, topic), 0), gossip.invalid_message_cap)
        return -gossip.invalid_message_weight * count

    async def topic_peers(self, topic: str) -> list[str]:
        return sorted(p for p in self._connected if topic in self._network.hosts[p]._subs)

    def _forward(self, message: Message, exclude: set[str]) -> None:
        for peer in sorted(self._connected - exclude - {message.from_peer}):
            other = self._network.hosts.get(peer)
            if other is not None and message.topic in other._subs:
                relayed = Message(
                    message.from_peer, message.data, message.topic, self._peer_id, message.seqno
                )
                other._spawn(other._receive(relayed))

    async def _receive(self, message: Message) -> None:
        key = (message.from_peer, message.seqno)
        if key in self._seen or message.topic not in self._subs:
            return
        outcome = await self._validate(message)
        if isinstance(outcome, Reject):
            slot = (message.received_from, message.topic)
            self._invalid[slot] = self._invalid.get(slot, 0) + 1
            return
        if isinstance(outcome, Ignore):
            return
        self._seen.add(key)
        feed = self._subs.get(message.topic)
        if feed is not None:
            feed.push(message)
        self._forward(message, exclude={message.received_from})

    async def _validate(self, message: Message) -> ValidationResult:
        if len(message.data) > self._options.gossip.max_message_size:
            return Reject("over the size limit")
        validator = self._validators.get(message.topic)
        if validator is None:
            return Accept()
        timeout = self._options.gossip.validation_timeout
        try:
            result = await asyncio.wait_for(validator(message), timeout)
        except Exception as exc:  # a local validator bug must not punish the sender
            return Ignore(f"validator failed: {exc!r}")
        if not isinstance(result, Accept | Reject | Ignore):
            return Ignore(f"validator returned {result!r}")
        return result

    # request/response ----------------------------------------------------------------------

    async def serve(self, protocol: str, handler: RequestHandler) -> None:
        self._need_running()
        self._handlers[protocol] = handler

    async def unserve(self, protocol: str) -> None:
        self._handlers.pop(protocol, None)
        self._stream_handlers.pop(protocol, None)

    async def request(
        self,
        peer: str,
        protocol: str,
        payload: bytes,
        timeout: float | None = None,  # noqa: ASYNC109
        max_response: int | None = None,
    ) -> bytes:
        self._need_running()
        if len(payload) > self._options.max_request_size:
            raise MessageTooLargeError("the request", len(payload), self._options.max_request_size)
        other = self._peer(peer)
        handler = other._handlers.get(protocol)
        if handler is None:
            raise ProtocolNotSupportedError(f"{peer} does not serve {protocol}")
        if len(payload) > other._options.max_request_size:
            raise MessageTooLargeError(
                f"the request on {protocol}", len(payload), other._options.max_request_size
            )
        timeout = self._options.request_timeout if timeout is None else timeout
        limit = self._options.max_response_size if max_response is None else max_response
        task = other._spawn(_call_handler(handler, self._peer_id, bytes(payload)))
        try:
            response = await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
            raise RequestTimeoutError(
                f"{peer} did not answer {protocol} within {timeout} s"
            ) from None
        except Exception as exc:
            raise RemoteHandlerError(protocol, str(exc) or type(exc).__name__) from None
        if not isinstance(response, bytes | bytearray | memoryview):
            raise RemoteHandlerError(protocol, f"the handler returned {type(response).__name__}")
        if len(response) > limit:
            raise ResponseTooLargeError(
                f"the response to {protocol} is {len(response)} bytes, over the limit of {limit}"
            )
        return bytes(response)

    async def set_stream_handler(self, protocol: str, handler: StreamHandler) -> None:
        self._need_running()
        self._stream_handlers[protocol] = handler

    async def remove_stream_handler(self, protocol: str) -> None:
        self._stream_handlers.pop(protocol, None)

    async def open_stream(self, peer: str, protocols: Sequence[str]) -> P2PStream:
        self._need_running()
        other = self._peer(peer)
        for protocol in protocols:
            handler = other._stream_handlers.get(protocol)
            if handler is not None:
                ours, theirs = FakeStream.pair(peer, self._peer_id, protocol)
                other._spawn(_run_stream_handler(handler, theirs))
                return ours
        raise ProtocolNotSupportedError(f"{peer} does not serve {', '.join(protocols)}")

    # helpers -------------------------------------------------------------------------------

    # DHT model (peer.p2p.ports.Routing) ------------------------------------------------------
    # The fake DHT is the connected component of DHT-enabled hosts around this one: provide
    # stores the record on every server in it, a lookup reads the records of every server in
    # it, a peer is found if it is in it. Records outlive the provider (as on a real DHT).

    @property
    def dht_mode(self) -> str:
        return self._options.dht

    async def provide(self, key: bytes) -> int:
        self._need_dht()
        self._records.setdefault(bytes(key), {})[self._peer_id] = self._addr
        told = 0
        for host in self._dht_component():
            if host is not self and host.dht_mode == "server":
                host._records.setdefault(bytes(key), {})[self._peer_id] = self._addr
                told += 1
        await asyncio.sleep(0)
        return told

    async def find_providers(self, key: bytes, limit: int) -> list[PeerInfo]:
        self._need_dht()
        found: dict[str, str] = {}
        for host in self._dht_component():
            if host is self or host.dht_mode == "server":
                for peer, addr in host._records.get(bytes(key), {}).items():
                    if peer != self._peer_id:
                        found.setdefault(peer, addr)
        await asyncio.sleep(0)
        return [PeerInfo(p, (a,)) for p, a in list(found.items())[: max(limit, 0)]]

    async def find_peer(self, peer: str) -> PeerInfo | None:
        self._need_dht()
        await asyncio.sleep(0)
        for host in self._dht_component():
            if host._peer_id == peer:
                return PeerInfo(peer, (host._addr,))
        return None

    def _dht_component(self) -> list[FakeHost]:
        seen = {self._peer_id: self}
        todo = [self]
        while todo:
            host = todo.pop()
            for peer in host._connected:
                other = self._network.hosts.get(peer)
                if other is not None and other.dht_mode != "off" and peer not in seen:
                    seen[peer] = other
                    todo.append(other)
        return list(seen.values())

    def _need_dht(self) -> None:
        self._need_running()
        if self._options.dht == "off":
            raise DhtUnavailableError()

    def _peer(self, peer: str) -> FakeHost:
        other = self._network.hosts.get(peer)
        if other is None or peer not in self._connected:
            raise NotConnectedError(f"not connected to {peer}; connect to it first")
        return other

    def _need_running(self) -> None:
        if not self._running:
            raise HostNotRunningError("the fake p2p host")

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


class FakeStream:
    """One end of an in-memory stream pair."""

    def __init__(self, peer: str, protocol: str) -> None:
        self._peer = peer
        self._protocol = protocol
        self._inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._buffer = b""
        self._eof = False
        self._reset = False
        self._other: FakeStream | None = None
        self._write_closed = False

    @classmethod
    def pair(cls, remote: str, local: str, protocol: str) -> tuple[FakeStream, FakeStream]:
        ours, theirs = cls(remote, protocol), cls(local, protocol)
        ours._other, theirs._other = theirs, ours
        return ours, theirs

    @property
    def peer(self) -> str:
        return self._peer

    @property
    def protocol(self) -> str:
        return self._protocol

    async def read(self, max_bytes: int = 65536) -> bytes:
        if self._reset:
            raise RequestError(f"stream to {self._peer} was reset")
        while not self._buffer and not self._eof:
            item = await self._inbox.get()
            if self._reset:
                raise RequestError(f"stream to {self._peer} was reset")
            if item is None:
                self._eof = True
            else:
                self._buffer += item
        chunk, self._buffer = self._buffer[:max_bytes], self._buffer[max_bytes:]
        return chunk

    async def write(self, data: bytes) -> None:
        if self._reset or self._write_closed or self._other is None:
            raise RequestError(f"stream to {self._peer} is closed for writing")
        self._other._inbox.put_nowait(bytes(data))
        await asyncio.sleep(0)

    async def close(self) -> None:
        if not self._write_closed and self._other is not None:
            self._write_closed = True
            self._other._inbox.put_nowait(None)

    async def reset(self) -> None:
        for end in (self, self._other):
            if end is not None:
                end._reset = True
                end._inbox.put_nowait(None)


async def _call_handler(handler: RequestHandler, peer: str, payload: bytes) -> bytes:
    return await handler(peer, payload)


async def _run_stream_handler(handler: StreamHandler, stream: FakeStream) -> None:
    try:
        await handler(stream)
    except Exception:
        await stream.reset()
        return
    await stream.close()


def _looks_like_peer_id(text: str) -> bool:
    return (len(text) == 52 and text.startswith("12D3KooW") and all(c in _B58 for c in text)) or (
        len(text) == 46 and text.startswith("Qm") and all(c in _B58 for c in text)
    )
