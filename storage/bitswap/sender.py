"""Outbound bitswap messages: long-lived streams WE open to each peer.

Kubo, Helia and js-ipfs read blocks only from a stream the responder opens (stock py-libp2p
answered on the requester's stream, and Helia never received the blocks). So every message we
send, wantlists and block answers alike, goes out on our own outbound streams to that peer,
opened on first use and re-opened once if one broke.

A peer gets several *lanes* (streams): lane 0 carries wantlists, so wants and cancels keep
their order; the server's workers send blocks on lanes 1..n in parallel. Parallel lanes matter
on py-libp2p: a yamux stream starts with a 256 KiB window that its auto-tuning rarely grows on
loopback, and a writer that exhausts it polls for the update every 10 ms, which caps one
stream near 25 MB/s. Writes on one lane are serialised so messages never interleave; wantlist
entries queued in the same event-loop turn are merged into one message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from storage.bitswap.ports import BitswapNetwork, BitswapStream
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


class _Lane:
    def __init__(self) -> None:
        self.stream: BitswapStream | None = None
        self.lock = asyncio.Lock()


class PeerSender:
    """The outbound streams to one peer."""

    def __init__(self, network: BitswapNetwork, peer: str) -> None:
        self._network = network
        self.peer = peer
        self._lanes: dict[int, _Lane] = {}
        self._pending: list[WantEntry] = []
        self._flush: asyncio.Task[None] | None = None
        self.closed = False

    async def send(self, msg: BitswapMessage, lane: int = 0) -> None:
        """Write one message; raise :class:`PeerSendError` if the peer cannot be reached."""
        await self.send_raw(frame(encode_message(msg)), lane)

    async def send_raw(self, data: bytes, lane: int = 0) -> None:
        """Write pre-framed bytes (one or more messages) on a lane."""
        state = self._lanes.setdefault(lane, _Lane())
        async with state.lock:
            for attempt in (1, 2):
                if self.closed:
                    raise PeerSendError(f"sender to {self.peer} is closed")
                try:
                    if state.stream is None:
                        state.stream = await self._network.open_stream(self.peer, PROTOCOLS)
                    await state.stream.write(data)
                    return
                except asyncio.CancelledError:
                    await self._drop_stream(state)
                    raise
                except Exception as exc:
                    await self._drop_stream(state)
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

    @staticmethod
    async def _drop_stream(state: _Lane) -> None:
        stream, state.stream = state.stream, None
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
        for state in list(self._lanes.values()):
            async with state.lock:
                stream, state.stream = state.stream, None
            if stream is not None:
                with contextlib.suppress(Exception):
                    await stream.close()
