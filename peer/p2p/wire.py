"""Framing of Toktok's request/response protocols (trio side; pure helpers + stream I/O).

One stream per exchange. The requester writes ``uvarint(len) || request`` and closes its
writing side. The server answers ``status byte || uvarint(len) || body`` and closes:

* status 0: ``body`` is the response;
* status 1: the handler failed, ``body`` is its UTF-8 error text (at most 1 KiB);
* status 2: the request was over the server's size limit (``body`` is the limit as text).

Both sides check a length before reading the bytes it announces, so a peer cannot make us
buffer more than our limit.
"""

from __future__ import annotations

from typing import Protocol

STATUS_OK = 0
STATUS_HANDLER_ERROR = 1
STATUS_TOO_LARGE = 2
MAX_ERROR_TEXT = 1024
_MAX_VARINT_BYTES = 10


class FrameError(Exception):
    """The remote sent something that is not a valid frame (or closed too early)."""


class FrameTooLarge(FrameError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size} bytes over the limit of {limit}")
        self.size = size
        self.limit = limit


class ReadStream(Protocol):
    async def read(self, n: int | None = None) -> bytes: ...


def encode_uvarint(value: int) -> bytes:
    if value < 0:
        raise ValueError("uvarint must be non-negative")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_uvarint(data: bytes) -> tuple[int, int]:
    """Decode a uvarint at the start of ``data``: ``(value, bytes used)``."""
    value = 0
    for index, byte in enumerate(data[:_MAX_VARINT_BYTES]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value, index + 1
    raise FrameError("truncated or overlong uvarint")


def frame(body: bytes) -> bytes:
    return encode_uvarint(len(body)) + body


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


async def read_uvarint(stream: ReadStream) -> int:
    raw = bytearray()
    while True:
        raw += await read_exact(stream, 1)
        if not raw[-1] & 0x80:
            return decode_uvarint(bytes(raw))[0]
        if len(raw) >= _MAX_VARINT_BYTES:
            raise FrameError("overlong uvarint")


async def read_frame(stream: ReadStream, limit: int) -> bytes:
    size = await read_uvarint(stream)
    if size > limit:
        raise FrameTooLarge(size, limit)
    return await read_exact(stream, size)
