"""Request/response sessions: many exchanges on one stream (trio side).

``/toktok/rr/1.0.0`` is served beside every request/response protocol and carries the
exchanges of all of them. Opening a stream costs a yamux stream set-up, a multistream
negotiation and, with the one-stream-per-exchange protocols, a close handshake per request;
a session stream pays that once and is then reused for request after request.

On a session stream the requester writes ``varint(len) || protocol id`` then
``varint(len) || request`` (no half-close); the server answers exactly as on the protocol's
own stream (``status byte || varint(len) || body``, see ``wire.py``), with one more status:
3 = that protocol is not served here. Exchanges on one stream are strictly one after the
other; a requester with several requests in flight uses several streams. A stream is given
back to its peer's pool only after a complete exchange; any failure or timeout resets it.

Compatibility: a peer that does not serve ``/toktok/rr/1.0.0`` (older code) refuses it in
the negotiation; the requester then remembers that connection and uses the protocol's own
stream, as before. Older requesters never open sessions, and the protocols' own ids are
served unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

import trio
from libp2p.abc import IHost, INetStream
from libp2p.custom_types import TProtocol
from libp2p.host.exceptions import StreamFailure
from libp2p.network.stream.exceptions import StreamError
from libp2p.peer.id import ID
from libp2p.peer.peerstore import PeerStoreError

from storage.varint import MAX_VARINT_BYTES, decode_varint

from . import wire
from .errors import (
    MessageTooLargeError,
    ProtocolNotSupportedError,
    RemoteHandlerError,
    RequestError,
    ResponseTooLargeError,
)
from .ports import RequestHandler
from .wire import ReadStream

logger = logging.getLogger(__name__)

SESSION_PROTOCOL: Final = "/toktok/rr/1.0.0"
STATUS_UNSUPPORTED: Final = 3
MAX_PROTOCOL_ID: Final = 256
"""Longest protocol id a session frame may name."""
SERVER_IDLE_S: Final = 60.0
"""A served session stream with no request for this long is closed."""
CLIENT_IDLE_S: Final = 30.0
"""A pooled stream idle for this long is closed instead of reused (below the server's)."""
MAX_IDLE_PER_PEER: Final = 8
"""Idle streams kept per peer; more are closed after their exchange."""


class Unsupported(Exception):
    """Internal: the connection does not serve sessions."""


@dataclass(slots=True)
class _Idle:
    stream: INetStream
    since: float


@dataclass(slots=True)
class SessionPool:
    """The requester side: idle session streams per peer, and connections without sessions."""

    host: IHost
    clock: Callable[[], float] = trio.current_time
    idle: dict[ID, list[_Idle]] = field(default_factory=dict)
    legacy: dict[ID, object] = field(default_factory=dict)
    """Peer -> the connection (muxer) that refused sessions."""

    def supports(self, peer_id: ID) -> bool:
        """False when the current connection to ``peer_id`` refused sessions."""
        refused = self.legacy.get(peer_id)
        return refused is None or refused is not _current_muxer(self.host, peer_id)

    async def exchange(
        self,
        peer_id: ID,
        protocol: str,
        payload: bytes,
        max_response: int,
    ) -> bytes:
        """One request on a session stream; raises ``Unsupported`` if there are none."""
        stream, reused = await self._take(peer_id)
        try:
            status, body = await _round_trip(stream, protocol, payload, max_response)
        except (StreamError, wire.FrameError) as exc:
            await _reset(stream)
            if not reused or isinstance(exc, wire.FrameTooLarge):
                raise
            # a pooled stream the peer closed meanwhile: once more on a fresh one
            stream, _ = await self._take(peer_id, fresh=True)
            try:
                status, body = await _round_trip(stream, protocol, payload, max_response)
            except BaseException:
                await _reset(stream)
                raise
        except BaseException:
            await _reset(stream)
            raise
        if status == wire.STATUS_TOO_LARGE:
            await _close(stream)  # the server closes a stream whose request it did not read
        else:
            await self._give_back(peer_id, stream)
        return _result(protocol, payload, status, body)

    async def _take(self, peer_id: ID, fresh: bool = False) -> tuple[INetStream, bool]:
        now = self.clock()
        pool = self.idle.get(peer_id, [])
        while pool and not fresh:
            idle = pool.pop()
            if now - idle.since < CLIENT_IDLE_S and await _usable(idle.stream):
                return idle.stream, True
            await _close(idle.stream)
        muxer = _current_muxer(self.host, peer_id)
        if not _may_serve_sessions(self.host, peer_id):
            self.legacy[peer_id] = muxer  # identify says no: do not even ask
            raise Unsupported
        try:
            stream = await self.host.new_stream(peer_id, [TProtocol(SESSION_PROTOCOL)])
        except StreamFailure as exc:
            self.legacy[peer_id] = muxer
            raise Unsupported from exc
        return stream, False

    async def _give_back(self, peer_id: ID, stream: INetStream) -> None:
        pool = self.idle.setdefault(peer_id, [])
        if len(pool) < MAX_IDLE_PER_PEER:
            pool.append(_Idle(stream, self.clock()))
        else:
            await _close(stream)

    def forget(self, peer_id: ID) -> None:
        """Drop what is known of a peer (its connection closed)."""
        self.idle.pop(peer_id, None)
        self.legacy.pop(peer_id, None)


async def serve_session(
    stream: INetStream,
    handlers: dict[str, RequestHandler],
    call: Callable[[RequestHandler, str, bytes], Awaitable[bytes]],
    max_request: int,
) -> None:
    """Answer the exchanges of one session stream until the requester closes it, breaks the
    framing, or sends nothing for ``SERVER_IDLE_S``. ``call`` runs a handler (in asyncio)."""
    from .streams import TrioStreamReader

    peer = stream.muxed_conn.peer_id.to_base58()
    reader = TrioStreamReader(stream)
    while True:
        size: int | None = None
        with trio.move_on_after(SERVER_IDLE_S) as idle:
            try:
                size = await _next_frame_size(reader)
                if size is None:  # closed between exchanges: the end of the session
                    await _close(stream)
                    return
                if size > MAX_PROTOCOL_ID:
                    raise wire.FrameError(f"protocol id of {size} bytes")
                protocol = (await wire.read_exact(reader, size)).decode("utf-8", "replace")
                request = await wire.read_frame(reader, max_request)
            except wire.FrameTooLarge as exc:
                # answer, then close: the unread rest of the request is dropped with the stream
                limit = b"%d" % exc.limit
                await _write(stream, wire.response_frame(wire.STATUS_TOO_LARGE, limit))
                await _close(stream)
                return
            except (wire.FrameError, StreamError):
                await _reset(stream)
                return
        if idle.cancelled_caught:  # idle between exchanges: close; stuck inside one: reset
            await (_close(stream) if size is None else _reset(stream))
            return
        handler = handlers.get(protocol)
        if handler is None:
            out = wire.response_frame(STATUS_UNSUPPORTED, b"")
        else:
            try:
                response = await call(handler, peer, request)
                if not isinstance(response, bytes | bytearray | memoryview):
                    raise TypeError(f"the handler returned {type(response).__name__}, not bytes")
                out = wire.response_frame(wire.STATUS_OK, bytes(response))
            except Exception as exc:
                text = (str(exc) or type(exc).__name__).encode("utf-8", "replace")
                out = wire.response_frame(wire.STATUS_HANDLER_ERROR, text[: wire.MAX_ERROR_TEXT])
        if not await _write(stream, out):
            await _reset(stream)
            return


async def _next_frame_size(reader: ReadStream) -> int | None:
    """The next frame's length, or None at a clean end of stream before it."""
    first = await reader.read(1)
    if not first:
        return None
    raw = bytearray(first)
    while raw[-1] & 0x80:
        if len(raw) >= MAX_VARINT_BYTES:
            raise wire.FrameError("overlong length varint")
        raw += await wire.read_exact(reader, 1)
    try:
        return decode_varint(bytes(raw))[0]
    except ValueError as exc:
        raise wire.FrameError(f"bad length varint: {exc}") from exc


async def _write(stream: INetStream, data: bytes) -> bool:
    try:
        await stream.write(data)
    except StreamError:
        logger.debug("could not write a session answer", exc_info=True)
        return False
    return True


async def _round_trip(
    stream: INetStream, protocol: str, payload: bytes, max_response: int
) -> tuple[int, bytes]:
    from .streams import TrioStreamReader

    reader = TrioStreamReader(stream)
    await stream.write(wire.frame(protocol.encode()) + wire.frame(payload))
    status = (await wire.read_exact(reader, 1))[0]
    limit = max_response if status == wire.STATUS_OK else wire.MAX_ERROR_TEXT
    try:
        body = await wire.read_frame(reader, limit)
    except wire.FrameTooLarge as exc:
        raise ResponseTooLargeError(
            f"the response to {protocol} is {exc.size} bytes, over the limit of {exc.limit}"
        ) from exc
    return status, body


def _result(protocol: str, payload: bytes, status: int, body: bytes) -> bytes:
    if status == wire.STATUS_OK:
        return body
    if status == wire.STATUS_HANDLER_ERROR:
        raise RemoteHandlerError(protocol, body.decode("utf-8", "replace"))
    if status == wire.STATUS_TOO_LARGE:
        raise MessageTooLargeError(f"the request on {protocol}", len(payload), int(body or b"0"))
    if status == STATUS_UNSUPPORTED:
        raise ProtocolNotSupportedError(f"the peer does not serve {protocol}")
    raise RequestError(f"unknown response status {status} on {protocol}")


def _may_serve_sessions(host: IHost, peer_id: ID) -> bool:
    """False when identify has listed the peer's protocols and sessions are not among them
    (a refused negotiation also makes py-libp2p log an error; asking first avoids it)."""
    try:
        protocols = host.get_peerstore().get_protocols(peer_id)
    except PeerStoreError:  # unknown to the peerstore yet: try the negotiation
        return True
    return not protocols or SESSION_PROTOCOL in protocols


def _current_muxer(host: IHost, peer_id: ID) -> object | None:
    conns = host.get_network().connections.get(peer_id)
    if not conns:
        return None
    conn = conns[0] if isinstance(conns, list) else conns
    return getattr(conn, "muxed_conn", conn)


async def _usable(stream: INetStream) -> bool:
    if getattr(stream.muxed_conn, "is_closed", False):
        return False
    operational = getattr(stream, "is_operational", None)
    return True if operational is None else bool(await operational())


async def _reset(stream: INetStream) -> None:
    with trio.CancelScope(shield=True), trio.move_on_after(2):
        try:
            await stream.reset()
        except Exception:  # already gone
            logger.debug("session stream reset failed", exc_info=True)


async def _close(stream: INetStream) -> None:
    with trio.CancelScope(shield=True), trio.move_on_after(2):
        try:
            await stream.close()
        except Exception:  # already gone
            logger.debug("session stream close failed", exc_info=True)
