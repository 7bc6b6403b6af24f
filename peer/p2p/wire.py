"""Framing of Toktok's request/response protocols (trio side; pure helpers + stream I/O).

One stream per exchange. The requester writes ``varint(len) || request`` and closes its
writing side. The server answers ``status byte || varint(len) || body`` and closes (varints
are :mod:`storage.varint`, minimal and at most 9 bytes):

* status 0: ``body`` is the response;
* status 1: the handler failed, ``body`` is its UTF-8 error text (at most 1 KiB);
* status 2: the request was over the server's size limit (``body`` is the limit as text).

Both sides check a length before reading the bytes it announces, so a peer cannot make us
buffer more than our limit.
"""

from __future__ import annotations

from typing import Protocol

from storage.varint import MAX_VARINT_BYTES, decode_varint, encode_varint

STATUS_OK = 0
STATUS_HANDLER_ERROR = 1
STATUS_TOO_LARGE = 2
MAX_ERROR_TEXT = 1024


class FrameError(Exception):
    """The remote sent something that is not a valid frame (or closed too early)."""


class FrameTooLarge(FrameError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes over the limit of {limit}")
        self.size = size
        self.limit = limit


class ReadStream(Protocol):
    async def read(self, n: int | None = None) -> bytes: ...


def frame(body: bytes) -> bytes:
    return encode_varint(len(body)) + body


def response_frame(status: int, body: bytes) -> bytes:
    return bytes([status]) + frame(body)


async def read_exact(stream: ReadStream, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = await stream.read(n - len(buf))
        if not chunk:
            raise FrameError(f"stream ended after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


async def read_varint(stream: ReadStream) -> int:
    raw = bytearray()
    while True:
        raw += await read_exact(stream, 1)
        if not raw[-1] & 0x80:
            try:
                return decode_varint(bytes(raw))[0]
            except ValueError as exc:
                raise FrameError(f"bad length varint: {exc}") from exc
        if len(raw) >= MAX_VARINT_BYTES:
            raise FrameError("overlong length varint")


async def read_frame(stream: ReadStream, limit: int) -> bytes:
    size = await read_varint(stream)
    if size > limit:
        raise FrameTooLarge(size, limit)
    return await read_exact(stream, size)
