"""The local IPFS gateway: ``GET``/``HEAD /ipfs/<cid>`` on the content port (pure aiohttp).

``add_routes(app, store)`` adds the handler to the content application the composition root
builds (``peer.api.server.build_content_app``); the store is any
:class:`~storage.ports.ContentStore` (with the embedded backend, pass the
:class:`~storage.bitswap.store.NetworkContentStore` so missing blocks are fetched on demand).

Behaviour (ARCHITECTURE "Local HTTP surface"):

* ``X-Content-Type-Options: nosniff`` and ``Content-Security-Policy: sandbox`` on every answer;
  the type is sniffed from the first bytes and only media, image and JSON types are served
  inline, anything else as ``application/octet-stream`` with ``Content-Disposition:
  attachment``;
* ``Range: bytes=a-b`` / ``a-`` / ``-n`` (one range) -> 206 with ``Content-Range``; an
  unsatisfiable range -> 416; several ranges are answered with the whole file (200);
* ``Content-Length``, ``Accept-Ranges``, ``ETag: "<cid>"`` (``If-None-Match`` -> 304) and
  ``Cache-Control: public, max-age=29030400, immutable`` (content never changes);
* bytes are streamed window by window, the next window fetched while the current one is
  written; every block is verified by the store before its bytes are used. A client that
  disconnects cancels the fetch. A failure after the headers went out aborts the connection,
  so a client never mistakes a short body for the whole file.

Errors before the headers: 400 invalid CID, 404 not found (local-only store), 504 the network
could not deliver it (code ``relay_limited`` when only peers behind a relay had it and the
relay cut the transfer), 501 not a UnixFS file, 502 malformed DAG, 500 local corruption.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from storage.cid import CID
from storage.errors import (
    BlockNotFoundError,
    ContentUnavailableError,
    CorruptBlockError,
    InvalidCIDError,
    MalformedDagError,
    RangeNotSatisfiableError,
    RelayLimitedError,
    StorageError,
    UnsupportedError,
)
from storage.ports import ContentStore
from storage.ranges import RANGE, parse_range

logger = logging.getLogger(__name__)
T = TypeVar("T")

IMMUTABLE = "public, max-age=29030400, immutable"
SNIFF_BYTES = 512


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    """Gateway settings."""

    # Bytes read from the store per step while streaming (4 blocks of 256 KiB).
    window: int = 1024 * 1024
    # Size of the first step: small, so the first bytes go out after one block arrives.
    first_window: int = 64 * 1024
    # How often (seconds) a waiting read checks whether the client went away.
    disconnect_poll: float = 0.2


class ClientGone(Exception):
    """Internal: the HTTP client disconnected."""


def add_routes(
    app: web.Application, store: ContentStore, options: GatewayOptions | None = None
) -> None:
    """Serve ``/ipfs/<cid>`` (GET and HEAD) from ``store`` on ``app``."""
    gateway = Gateway(store, options or GatewayOptions())
    app.router.add_get("/ipfs/{cid}", gateway.handle)


class Gateway:
    """The ``/ipfs/<cid>`` handler."""

    def __init__(self, store: ContentStore, options: GatewayOptions) -> None:
        self._store = store
        self._options = options

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            cid = CID.parse(request.match_info["cid"])
        except InvalidCIDError as exc:
            return _error(400, "invalid_cid", str(exc))
        etag = f'"{cid}"'
        if etag in _etags(request.headers.get("If-None-Match", "")):
            return _with_headers(web.Response(status=304), etag)
        early = self._early_window(request, cid)  # the range's first blocks, fetched meanwhile
        try:
            stat, head = await self._await(
                request,
                asyncio.gather(self._store.stat(cid), self._store.read_range(cid, 0, SNIFF_BYTES)),
            )
            size = stat.size
        except ClientGone:
            await _cancel(early)
            return web.Response(status=499)
        except StorageError as exc:
            await _cancel(early)
            return _storage_error(exc)
        content_type, inline = sniff(head)
        try:
            ranged = parse_range(request.headers.get("Range"), size)
        except RangeNotSatisfiableError:
            refused = _error(416, "range_not_satisfiable", f"the file has {size} bytes")
            refused.headers["Content-Range"] = f"bytes */{size}"
            await _cancel(early)
            return refused
        start, end = ranged if ranged is not None else (0, size)
        first: asyncio.Task[bytes] | None = None
        if early is not None:
            early_start, early_end, task = early
            if (early_start, min(early_end, size)) == (
                start,
                min(start + self._options.first_window, end),
            ):
                first = task
            else:
                await _cancel(early)
        response = web.StreamResponse(status=206 if ranged is not None else 200)
        _with_headers(response, etag)
        response.content_type = content_type
        response.content_length = end - start
        response.headers["Accept-Ranges"] = "bytes"
        response.headers["X-Ipfs-Path"] = f"/ipfs/{cid}"
        if ranged is not None:
            response.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        if not inline:
            name = request.query.get("filename", str(cid)).replace('"', "")
            response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
        try:
            await response.prepare(request)
            if request.method == "HEAD" or start == end:
                await response.write_eof()
                return response
        except BaseException:
            await _cancel((0, 0, first) if first is not None else None)
            raise
        await self._stream(request, response, cid, start, end, first)
        return response

    def _early_window(self, request: web.Request, cid: CID) -> _Early | None:
        """For ``Range: bytes=N-[M]`` start reading the first window before we know the size."""
        match = RANGE.match(request.headers.get("Range", "").strip())
        if request.method != "GET" or match is None or not match.group(1):
            return None
        start = int(match.group(1))
        end = start + self._options.first_window
        if match.group(2):
            end = min(end, int(match.group(2)) + 1)
        if end <= start:
            return None
        task = asyncio.get_running_loop().create_task(self._store.read_range(cid, start, end))
        return start, end, task

    async def _stream(
        self,
        request: web.Request,
        response: web.StreamResponse,
        cid: CID,
        start: int,
        end: int,
        first: asyncio.Task[bytes] | None,
    ) -> None:
        window = self._options.window
        loop = asyncio.get_running_loop()
        pos = start
        stop = min(start + self._options.first_window, end)  # small first piece: early bytes
        ahead: asyncio.Task[bytes] | None = first or loop.create_task(
            self._store.read_range(cid, pos, stop)
        )
        try:
            while ahead is not None:
                piece = await self._await(request, ahead)
                if len(piece) != stop - pos:
                    raise MalformedDagError(
                        f"{cid}: got {len(piece)} bytes at {pos}, not {stop - pos}"
                    )
                pos, stop = stop, min(stop + window, end)
                ahead = (
                    loop.create_task(self._store.read_range(cid, pos, stop)) if pos < end else None
                )
                await response.write(piece)
            await response.write_eof()
        except (ClientGone, ConnectionError):
            logger.debug("gateway: client left while streaming %s", cid)
        except StorageError as exc:
            logger.warning("gateway: %s failed mid-stream at byte %d: %s", cid, pos, exc)
            if request.transport is not None:
                request.transport.close()  # the client sees a cut, not a short success
        finally:
            if ahead is not None and not ahead.done():
                ahead.cancel()
                with contextlib.suppress(BaseException):
                    await ahead

    async def _await(self, request: web.Request, work: Awaitable[T]) -> T:
        """Await ``work``; give up (cancelling it) if the client disconnects meanwhile."""
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self._options.disconnect_poll)
                if done:
                    return task.result()
                transport = request.transport
                if transport is None or transport.is_closing():
                    raise ClientGone()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


_Early = tuple[int, int, "asyncio.Task[bytes]"]


async def _cancel(early: _Early | None) -> None:
    if early is None:
        return
    task = early[2]
    if not task.done():
        task.cancel()
    with contextlib.suppress(BaseException):
        await task


def sniff(head: bytes) -> tuple[str, bool]:
    """The content type from the first bytes, and whether it may be shown inline."""
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return ("audio/mp4" if brand.startswith(b"M4A") else "video/mp4"), True
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm", True
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", True
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", True
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif", True
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp", True
    if head.startswith((b"ID3", b"\xff\xfb")):
        return "audio/mpeg", True
    if _JSON_START.match(head) and _is_text(head):
        return "application/json", True
    return "application/octet-stream", False


# The opening of a JSON object or array: a bracket, then a key or the closing brace, or a
# value. Only these first tokens are looked at: the gateway never parses what it serves (deep
# nesting once crashed the process through the JSON decoder).
_JSON_START = re.compile(rb'[ \t\r\n]*(?:\{[ \t\r\n]*["}]|\[[ \t\r\n]*[\[\]{"\-0-9tfn])')
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_text(head: bytes) -> bool:
    """UTF-8 (a sequence cut at the end of the prefix allowed) without control characters."""
    if _CONTROL.search(head):
        return False
    for cut in range(4):
        try:
            head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _with_headers(response: web.StreamResponse, etag: str) -> web.StreamResponse:
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


def _error(status: int, code: str, message: str) -> web.Response:
    response = web.json_response({"error": {"code": code, "message": message}}, status=status)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "sandbox"
    return response


def _storage_error(exc: StorageError) -> web.Response:
    if isinstance(exc, RelayLimitedError):
        return _error(504, "relay_limited", str(exc))
    if isinstance(exc, ContentUnavailableError):
        return _error(504, "content_unavailable", str(exc))
    if isinstance(exc, BlockNotFoundError):
        return _error(404, "not_found", str(exc))
    if isinstance(exc, UnsupportedError):
        return _error(501, "not_a_file", str(exc))
    if isinstance(exc, MalformedDagError):
        return _error(502, "malformed_dag", str(exc))
    if isinstance(exc, CorruptBlockError):
        return _error(500, "corrupt_block", str(exc))
    return _error(500, "storage_error", str(exc))
