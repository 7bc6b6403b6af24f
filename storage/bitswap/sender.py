"""Outbound bitswap messages: one long-lived stream WE open to each peer.

Kubo, Helia and js-ipfs read blocks only from a stream the responder opens (stock py-libp2p
answered on the requester's stream, and Helia never received the blocks). So every message we
send, wantlists and block answers alike, goes out on our own outbound stream to that peer,
opened on first use and re-opened once if it broke. Writes to one peer are serialised so
messages never interleave; wantlist entries queued in the same event-loop turn are merged
into one message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from storage.bitswap.network import BitswapNetwork, BitswapStream
from storage.bitswap.wire import (
    PROTOCOLS,
    BitswapMessage,
    WantEntry,
    encode_message,
    frame,
)

logger = logging.getLogger(__name__)


class PeerSendError(Exception):
    """Internal: a message could not be delivered to a peer (stream failed twice)."""


class PeerSender:
    """The outbound stream to one peer."""

    def __init__(self, network: BitswapNetwork, peer: str) -> None:
        self._network = network
        self.peer = peer
        self._stream: BitswapStream | None = None
        self._lock = asyncio.Lock()
        self._pending: list[WantEntry] = []
        self._flush: asyncio.Task[None] | None = None
        self.closed = False

    async def send(self, msg: BitswapMessage) -> None:
        """Write one message; raise :class:`PeerSendError` if the peer cannot be reached."""
        await self.send_raw(frame(encode_message(msg)))

    async def send_raw(self, data: bytes) -> None:
        """Write pre-framed bytes (one or more messages)."""
        async with self._lock:
            for attempt in (1, 2):
                if self.closed:
                    raise PeerSendError(f"sender to {self.peer} is closed")
                try:
                    if self._stream is None:
                        self._stream = await self._network.open_stream(self.peer, PROTOCOLS)
                    await self._stream.write(data)
                    return
                except asyncio.CancelledError:
                    await self._drop_stream()
                    raise
                except Exception as exc:
                    await self._drop_stream()
                    if attempt == 2:
                        raise PeerSendError(f"cannot send to {self.peer}: {exc}") from exc

    def queue_wants(
        self, entries: list[WantEntry], on_error: Callable[[str, list[WantEntry]], None]
    ) -> None:
        """Queue wantlist entries; they are sent together at the next loop turn.

        ``on_error(peer, entries)`` is called if they cannot be delivered.
        """
        self._pending.extend(entries)
        if self._flush is None or self._flush.done():
            self._flush = asyncio.get_running_loop().create_task(self._flush_wants(on_error))

    async def _flush_wants(self, on_error: Callable[[str, list[WantEntry]], None]) -> None:
        await asyncio.sleep(0)
        while self._pending:
            batch, self._pending = self._pending[:4096], self._pending[4096:]
            try:
                await self.send(BitswapMessage(wants=tuple(batch)))
            except PeerSendError as exc:
                logger.debug("%s", exc)
                on_error(self.peer, [e for e in batch if not e.cancel])

    async def _drop_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.reset()

    async def close(self) -> None:
        """Half-close the stream and stop sending."""
        self.closed = True
        if self._flush is not None:
            self._flush.cancel()
            with contextlib.suppress(BaseException):
                await self._flush
        async with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                await stream.close()
