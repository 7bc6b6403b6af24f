"""Value types and the facade interface shared by the real host and the in-memory fake.

Pure module: no trio, no libp2p, no I/O. Services above ``peer.p2p`` depend on
:class:`Network` (a ``typing.Protocol``), never on a concrete host class.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from storage.cid import CID


@dataclass(frozen=True, slots=True)
class Message:
    """A pubsub message as the subscriber sees it.

    ``from_peer`` is the origin (the signer of the gossipsub message), ``received_from`` the
    neighbour that forwarded it to us (equal to ``from_peer`` for a direct delivery).
    """

    from_peer: str
    data: bytes
    topic: str
    received_from: str = ""
    seqno: bytes = b""


@dataclass(frozen=True, slots=True)
class Accept:
    """Deliver the message to the subscriber and forward it on gossip."""


@dataclass(frozen=True, slots=True)
class Reject:
    """Drop the message, do not forward it, and penalise the peer that sent it (score P4)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Ignore:
    """Drop the message without forwarding it and without penalising anybody."""

    reason: str


ValidationResult = Accept | Reject | Ignore
"""What a topic validator returns."""

TopicValidator = Callable[[Message], Awaitable[ValidationResult]]
"""An async topic validator. It runs on the caller's asyncio loop; it must not block.

A validator that raises counts as ``Ignore`` (a local bug must not punish a remote peer); one
that exceeds the host's validation timeout counts as ``Ignore`` too.
"""

RequestHandler = Callable[[str, bytes], Awaitable[bytes]]
"""A request/response handler: ``(remote peer id, request bytes) -> response bytes``.

If it raises, the requester gets :class:`~peer.p2p.errors.RemoteHandlerError` with the text of
the exception (keep messages free of secrets)."""


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """A peer became connected (first connection) or disconnected (last connection closed)."""

    kind: Literal["connected", "disconnected"]
    peer: str


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """A connected peer and the addresses we know for it."""

    peer_id: str
    addrs: tuple[str, ...]


class Subscription(Protocol):
    """An async iterator of :class:`Message` for one topic; ``close()`` unsubscribes.

    Messages published by this host itself are never yielded. The queue between the network
    and the consumer is bounded (``HostOptions.subscription_queue``); when the consumer falls
    behind, the oldest queued messages are dropped and counted in ``dropped``.
    """

    topic: str

    @property
    def dropped(self) -> int: ...

    def __aiter__(self) -> AsyncIterator[Message]: ...

    async def __anext__(self) -> Message: ...

    async def get(self) -> Message:
        """Wait for the next message (raises ``StopAsyncIteration`` once closed)."""
        ...

    async def close(self) -> None: ...


class EventStream(Protocol):
    """An async iterator of :class:`ConnectionEvent`; ``close()`` stops it."""

    def __aiter__(self) -> AsyncIterator[ConnectionEvent]: ...

    async def __anext__(self) -> ConnectionEvent: ...

    async def get(self) -> ConnectionEvent: ...

    async def close(self) -> None: ...


class P2PStream(Protocol):
    """A raw bidirectional libp2p stream (the block-exchange hook; bitswap is built on it)."""

    @property
    def peer(self) -> str: ...

    @property
    def protocol(self) -> str: ...

    async def read(self, max_bytes: int = 65536) -> bytes:
        """Up to ``max_bytes`` bytes; ``b""`` once the remote closed its side."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None:
        """Close our writing side (half-close); the remote still may send."""
        ...

    async def reset(self) -> None:
        """Abort the stream in both directions."""
        ...


StreamHandler = Callable[[P2PStream], Awaitable[None]]
"""Handles one inbound stream; the stream is reset if the handler raises, closed otherwise."""


class Network(Protocol):
    """The asyncio facade of a libp2p host. ``P2PHost`` and ``fake.FakeHost`` implement it."""

    @property
    def peer_id(self) -> str: ...

    @property
    def addrs(self) -> list[str]: ...

    async def connect(self, multiaddr: str) -> str:
        """Dial ``multiaddr`` (which must end in ``/p2p/<id>``); returns the peer id."""
        ...

    async def disconnect(self, peer: str) -> None: ...

    def peers(self) -> list[PeerInfo]: ...

    def watch_connections(self) -> EventStream: ...

    async def publish(self, topic: str, data: bytes) -> None: ...

    async def subscribe(
        self, topic: str, validator: TopicValidator | None = None
    ) -> Subscription: ...

    async def peer_score(self, peer: str, topic: str) -> float:
        """This host's gossipsub score of ``peer`` on ``topic`` (0.0 for an unknown peer)."""
        ...

    async def topic_peers(self, topic: str) -> list[str]:
        """Connected peers known to be subscribed to ``topic``."""
        ...

    async def serve(self, protocol: str, handler: RequestHandler) -> None: ...

    async def unserve(self, protocol: str) -> None: ...

    async def request(
        self,
        peer: str,
        protocol: str,
        payload: bytes,
        timeout: float | None = None,  # noqa: ASYNC109
        max_response: int | None = None,
    ) -> bytes: ...

    async def set_stream_handler(self, protocol: str, handler: StreamHandler) -> None: ...

    async def remove_stream_handler(self, protocol: str) -> None: ...

    async def open_stream(self, peer: str, protocols: Sequence[str]) -> P2PStream: ...


class Routing(Protocol):
    """DHT operations of a host (``P2PHost`` and ``fake.FakeHost``); see ``peer.p2p.dht``.

    Keys are raw multihashes (the content-routing adapter ``peer.p2p.routing`` turns CIDs into
    them). Every method raises :class:`~peer.p2p.errors.DhtUnavailableError` when the host
    runs no DHT."""

    @property
    def dht_mode(self) -> str:
        """``"off"``, ``"client"`` or ``"server"``."""
        ...

    async def provide(self, key: bytes) -> int:
        """Announce that we hold ``key``; returns how many peers stored the record (0: none
        reachable, only our own table has it)."""
        ...

    async def find_providers(self, key: bytes, limit: int) -> list[PeerInfo]:
        """Up to ``limit`` providers of ``key`` other than us; each address is a full
        multiaddr ending in ``/p2p/<peer id>``. ``[]`` when nobody reachable has it."""
        ...

    async def find_peer(self, peer: str) -> PeerInfo | None:
        """Full multiaddrs of ``peer`` (ours, known, or found through the DHT), or None."""
        ...


class ContentRoutingPort(Protocol):
    """``storage.bitswap.ports.ContentRouting`` (restated: peer.p2p does not depend on
    bitswap)."""

    async def provide(self, cid: CID) -> None: ...

    async def find_providers(self, cid: CID, limit: int) -> list[str]: ...
