"""Request/response and raw streams over the libp2p host (used by ``host.P2PHost``).

The trio-side halves run in the host's trio thread; the asyncio-facing ``AsyncStream``
forwards each call through the bridge. Wire format: ``wire.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import trio
from libp2p.abc import IHost, INetStream
from libp2p.custom_types import TProtocol
from libp2p.host.exceptions import StreamFailure
from libp2p.network.stream.exceptions import StreamEOF, StreamError
from libp2p.peer.id import ID

from . import session, wire
from .bridge import TrioThread
from .errors import (
    MessageTooLargeError,
    NotConnectedError,
    ProtocolNotSupportedError,
    RemoteHandlerError,
    RequestError,
    RequestTimeoutError,
    ResponseTooLargeError,
)
from .ports import RequestHandler, StreamHandler

logger = logging.getLogger(__name__)


class TrioStreamReader:
    """Adapts a libp2p stream to ``read() -> b"" at EOF`` (libp2p raises StreamEOF)."""

    def __init__(self, stream: INetStream) -> None:
        self.stream = stream
        self.eof = False

    async def read(self, n: int | None = None) -> bytes:
        if self.eof:
            return b""
        try:
            return await self.stream.read(n)
        except StreamEOF:
            self.eof = True
            return b""


async def safe_reset(stream: INetStream) -> None:
    with trio.CancelScope(shield=True), trio.move_on_after(2):
        try:
            await stream.reset()
        except Exception:  # already gone: nothing to reset
            logger.debug("stream reset failed", exc_info=True)


async def safe_close(stream: INetStream) -> None:
    with trio.CancelScope(shield=True), trio.move_on_after(2):
        try:
            await stream.close()
        except Exception:  # already gone
            logger.debug("stream close failed", exc_info=True)


class AsyncStream:
    """A ``P2PStream``: a libp2p stream used from asyncio."""

    def __init__(self, bridge: TrioThread, stream: INetStream, peer: str, protocol: str) -> None:
        self._bridge = bridge
        self._stream = stream
        self._reader = TrioStreamReader(stream)
        self._peer = peer
        self._protocol = protocol

    @property
    def peer(self) -> str:
        return self._peer

    @property
    def protocol(self) -> str:
        return self._protocol

    async def read(self, max_bytes: int = 65536) -> bytes:
        return await self._bridge.run(self._t_read, max_bytes)

    async def write(self, data: bytes) -> None:
        await self._bridge.run(self._t_write, data)

    async def close(self) -> None:
        await self._bridge.run(self._t_close_write)

    async def reset(self) -> None:
        await self._bridge.run(safe_reset, self._stream)

    async def _t_read(self, max_bytes: int) -> bytes:
        try:
            return await self._reader.read(max_bytes)
        except StreamError as exc:
            raise RequestError(f"stream to {self._peer} failed: {exc}") from exc

    async def _t_write(self, data: bytes) -> None:
        try:
            await self._stream.write(data)
        except StreamError as exc:
            raise RequestError(f"stream to {self._peer} failed: {exc}") from exc

    async def _t_close_write(self) -> None:
        try:
            await _close_write(self._stream)
        except StreamError as exc:
            raise RequestError(f"stream to {self._peer} failed: {exc}") from exc


class StreamService:
    """Serves request/response handlers and raw stream handlers on one host (trio side)."""

    def __init__(
        self, bridge: TrioThread, host: IHost, max_request: int, sessions: bool = True
    ) -> None:
        self._bridge = bridge
        self._host = host
        self._max_request = max_request
        self._handlers: dict[str, RequestHandler] = {}
        self._sessions = session.SessionPool(host) if sessions else None

        async def on_session(stream: INetStream) -> None:
            await session.serve_session(stream, self._handlers, self._call, max_request)

        if sessions:
            host.set_stream_handler(TProtocol(session.SESSION_PROTOCOL), on_session)

    async def _call(self, handler: RequestHandler, peer: str, request: bytes) -> bytes:
        return await self._bridge.call_asyncio(_call_handler, handler, peer, request)

    def forget(self, peer_id: ID) -> None:
        """The connection to ``peer_id`` closed: its session streams went with it."""
        if self._sessions is not None:
            self._sessions.forget(peer_id)

    # request/response --------------------------------------------------------------------

    def serve(self, protocol: str, handler: RequestHandler) -> None:
        async def on_stream(stream: INetStream) -> None:
            await self._answer(stream, protocol, handler)

        self._host.set_stream_handler(TProtocol(protocol), on_stream)
        self._handlers[protocol] = handler

    def unserve(self, protocol: str) -> None:
        self._handlers.pop(protocol, None)
        remove = getattr(self._host, "remove_stream_handler", None)
        if remove is not None:
            remove(TProtocol(protocol))

    async def _answer(self, stream: INetStream, protocol: str, handler: RequestHandler) -> None:
        peer = stream.muxed_conn.peer_id.to_base58()
        reader = TrioStreamReader(stream)
        try:
            request = await wire.read_frame(reader, self._max_request)
        except wire.FrameTooLarge as exc:
            # answer and close (a reset could overtake the answer); the unread rest of the
            # request is dropped with the stream, never buffered
            await _try_write(stream, wire.response_frame(wire.STATUS_TOO_LARGE, b"%d" % exc.limit))
            await safe_close(stream)
            return
        except (wire.FrameError, StreamError):
            await safe_reset(stream)
            return
        try:
            response = await self._bridge.call_asyncio(_call_handler, handler, peer, request)
            if not isinstance(response, bytes | bytearray | memoryview):
                raise TypeError(f"the handler returned {type(response).__name__}, not bytes")
            out = wire.response_frame(wire.STATUS_OK, bytes(response))
        except Exception as exc:
            text = (str(exc) or type(exc).__name__).encode("utf-8", "replace")
            out = wire.response_frame(wire.STATUS_HANDLER_ERROR, text[: wire.MAX_ERROR_TEXT])
        await _try_write(stream, out)
        await safe_close(stream)

    async def request(
        self,
        peer: str,
        protocol: str,
        payload: bytes,
        timeout: float,  # noqa: ASYNC109
        max_response: int,
    ) -> bytes:
        if len(payload) > self._max_request:
            raise MessageTooLargeError("the request", len(payload), self._max_request)
        peer_id = parse_peer(peer)
        with trio.move_on_after(timeout) as scope:
            if not self._host.get_network().connections.get(peer_id):
                raise NotConnectedError(f"not connected to {peer_id}; connect to it first")
            if self._sessions is not None and self._sessions.supports(peer_id):
                try:
                    return await self._sessions.exchange(peer_id, protocol, payload, max_response)
                except session.Unsupported:
                    pass  # an older peer: one stream per exchange, as it expects
                except (wire.FrameError, StreamError) as exc:
                    raise RequestError(f"the exchange on {protocol} broke off: {exc!r}") from exc
            stream = await self._open(peer_id, [protocol])
            try:
                return await self._exchange(stream, protocol, payload, max_response)
            except BaseException:
                await safe_reset(stream)
                raise
        assert scope.cancelled_caught
        raise RequestTimeoutError(f"{peer} did not answer {protocol} within {timeout} s")

    async def _exchange(
        self, stream: INetStream, protocol: str, payload: bytes, max_response: int
    ) -> bytes:
        reader = TrioStreamReader(stream)
        status = -1
        try:
            await stream.write(wire.frame(payload))
            await _close_write(stream)
            status = (await wire.read_exact(reader, 1))[0]
            limit = max_response if status == wire.STATUS_OK else wire.MAX_ERROR_TEXT
            body = await wire.read_frame(reader, limit)
        except wire.FrameTooLarge as exc:
            raise ResponseTooLargeError(
                f"the response to {protocol} is {exc.size} bytes, over the limit of {exc.limit}"
            ) from exc
        except (wire.FrameError, StreamError) as exc:
            if status == wire.STATUS_TOO_LARGE:
                raise MessageTooLargeError(f"the request on {protocol}", len(payload), 0) from exc
            raise RequestError(f"the exchange on {protocol} broke off: {exc!r}") from exc
        await safe_close(stream)
        if status == wire.STATUS_OK:
            return body
        if status == wire.STATUS_HANDLER_ERROR:
            raise RemoteHandlerError(protocol, body.decode("utf-8", "replace"))
        if status == wire.STATUS_TOO_LARGE:
            raise MessageTooLargeError(
                f"the request on {protocol}", len(payload), int(body or b"0")
            )
        raise RequestError(f"unknown response status {status} on {protocol}")

    # raw streams ---------------------------------------------------------------------------

    def set_stream_handler(self, protocol: str, handler: StreamHandler) -> None:
        async def on_stream(stream: INetStream) -> None:
            peer = stream.muxed_conn.peer_id.to_base58()
            wrapped = AsyncStream(self._bridge, stream, peer, protocol)
            try:
                await self._bridge.call_asyncio(_call_stream_handler, handler, wrapped)
            except Exception:
                logger.warning("stream handler for %s failed", protocol, exc_info=True)
                await safe_reset(stream)
                return
            await safe_close(stream)

        self._host.set_stream_handler(TProtocol(protocol), on_stream)

    async def open_stream(self, peer: str, protocols: Sequence[str]) -> AsyncStream:
        stream = await self._open(parse_peer(peer), protocols)
        chosen = stream.get_protocol() or protocols[0]
        return AsyncStream(self._bridge, stream, peer, str(chosen))

    async def _open(self, peer_id: ID, protocols: Sequence[str]) -> INetStream:
        if not self._host.get_network().connections.get(peer_id):
            raise NotConnectedError(f"not connected to {peer_id}; connect to it first")
        try:
            return await self._host.new_stream(peer_id, [TProtocol(p) for p in protocols])
        except StreamFailure as exc:
            raise ProtocolNotSupportedError(
                f"{peer_id} does not serve {', '.join(protocols)} (or the stream failed)"
            ) from exc


def parse_peer(peer: str) -> ID:
    from .errors import InvalidMultiaddrError

    try:
        return ID.from_base58(peer)
    except Exception as exc:
        raise InvalidMultiaddrError(f"{peer!r} is not a peer id") from exc


async def _call_handler(handler: RequestHandler, peer: str, request: bytes) -> bytes:
    return await handler(peer, request)


async def _call_stream_handler(handler: StreamHandler, stream: AsyncStream) -> None:
    await handler(stream)


async def _try_write(stream: INetStream, data: bytes) -> None:
    try:
        await stream.write(data)
    except StreamError:
        logger.debug("could not write the response", exc_info=True)


async def _close_write(stream: INetStream) -> None:
    """Half-close (NetStream has ``close_write``; the INetStream ABC does not declare it)."""
    close_write = getattr(stream, "close_write", None)
    if close_write is None:
        raise RequestError("this stream cannot be half-closed")
    await close_write()
