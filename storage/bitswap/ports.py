"""The ports bitswap needs: the network (raw libp2p streams plus connection events), content
routing and local block reads.

``storage`` may not import ``peer``; it declares here, as ``typing.Protocol``s, exactly the
members of the p2p facade (``peer.p2p.Network``) that bitswap uses, and the composition root
passes the libp2p host (``peer.p2p.P2PHost``) or its in-memory fake
(``peer.p2p.testing.FakeHost``). Both satisfy these protocols structurally. ``ContentRouting``
is implemented by ``peer.p2p.routing.DhtContentRouting`` (and ``routing.MemoryRouting``);
``BlockReader`` by ``storage.blockstore``'s stores.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Protocol

from storage.cid import CID


class BitswapStream(Protocol):
    """A raw bidirectional stream (``peer.p2p.P2PStream``)."""

    @property
    def peer(self) -> str: ...

    @property
    def protocol(self) -> str: ...

    async def read(self, max_bytes: int = 65536) -> bytes:
        """Up to ``max_bytes`` bytes; ``b""`` once the remote closed its side."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None:
        """Half-close: no more writes from us."""
        ...

    async def reset(self) -> None:
        """Abort in both directions."""
        ...


class ConnectionEventLike(Protocol):
    """``peer.p2p.ConnectionEvent``: ``kind`` is ``"connected"`` or ``"disconnected"``."""

    @property
    def kind(self) -> str: ...

    @property
    def peer(self) -> str: ...


class ConnectionEvents(Protocol):
    """``peer.p2p.EventStream``: an async iterator of connection events."""

    def __aiter__(self) -> AsyncIterator[ConnectionEventLike]: ...

    async def __anext__(self) -> ConnectionEventLike: ...

    async def close(self) -> None: ...


class PeerInfoLike(Protocol):
    """``peer.p2p.PeerInfo``."""

    @property
    def peer_id(self) -> str: ...


StreamHandler = Callable[[BitswapStream], Awaitable[None]]
"""Handles one inbound stream; the host resets it if the handler raises, closes it otherwise."""


class BitswapNetwork(Protocol):
    """What bitswap needs from the libp2p host (a subset of ``peer.p2p.Network``)."""

    @property
    def peer_id(self) -> str: ...

    def peers(self) -> Sequence[PeerInfoLike]: ...

    async def connect(self, multiaddr: str) -> str:
        """Dial a provider found through content routing; returns its peer id."""
        ...

    def watch_connections(self) -> ConnectionEvents: ...

    async def set_stream_handler(self, protocol: str, handler: StreamHandler) -> None: ...

    async def remove_stream_handler(self, protocol: str) -> None: ...

    async def open_stream(self, peer: str, protocols: Sequence[str]) -> BitswapStream: ...


class ContentRouting(Protocol):
    """Provider records (a DHT)."""

    async def provide(self, cid: CID) -> None:
        """Announce that we can serve ``cid``."""
        ...

    async def find_providers(self, cid: CID, limit: int) -> list[str]:
        """Up to ``limit`` providers of ``cid`` as multiaddrs ending in ``/p2p/<peer id>``."""
        ...


class BlockReader(Protocol):
    """Blocking, thread-safe block reads (``storage.blockstore.BlockStore`` fits)."""

    def has(self, cid: CID) -> bool: ...

    def get(self, cid: CID) -> bytes: ...
