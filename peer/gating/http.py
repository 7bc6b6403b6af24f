"""HTTP glue for decrypted media: Range parsing (pure) and an aiohttp streaming response.

The lead's route ``GET /api/v1/clips/{post}/media/{rendition}`` (a sensitive GET) calls
``decrypted_media(...)`` and then :func:`media_response`; ``LockedError`` maps to 402 with
``error.requirements.to_json()`` as the body.
"""

from __future__ import annotations

import re

from aiohttp import web

from .errors import RangeNotSatisfiableError
from .playback import DecryptedMedia

_RANGE = re.compile(r"bytes=(\d*)-(\d*)\Z")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """A single ``bytes=`` range as half-open ``(start, end)``; ``None`` for no header or one
    we ignore (multiple ranges: the whole body is sent). Raises
    :class:`RangeNotSatisfiableError` for a range outside the content."""
    if header is None:
        return None
    m = _RANGE.match(header.strip())
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiableError("empty suffix range", size)
        return max(0, size - suffix), size
    start = int(first)
    end = size if last == "" else min(size, int(last) + 1)
    if start >= size or (last != "" and int(last) < start):
        raise RangeNotSatisfiableError(f"range {header} is outside 0-{size - 1}", size)
    return start, end


async def media_response(request: web.Request, media: DecryptedMedia) -> web.StreamResponse:
    """Stream decrypted bytes: 200 for the whole body, 206 for a range, 416 when unsatisfiable."""
    size = media.size
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": media.mime,
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    try:
        rng = parse_range(request.headers.get("Range"), size)
    except RangeNotSatisfiableError:
        return web.Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    status, (start, end) = (200, (0, size)) if rng is None else (206, rng)
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = end - start
    await response.prepare(request)
    if request.method != "HEAD":
        async for piece in media.iter_range(start, end):
            await response.write(piece)
    await response.write_eof()
    return response
