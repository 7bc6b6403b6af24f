"""HTTP glue for decrypted media: an aiohttp streaming response (Range as the gateway parses
it, :func:`storage.ranges.parse_range`).

The lead's route ``GET /api/v1/clips/{post}/media/{rendition}`` (a sensitive GET) calls
``decrypted_media(...)`` and then :func:`media_response`; ``LockedError`` maps to 402 with
``error.requirements.to_json()`` as the body.
"""

from __future__ import annotations

from aiohttp import web

from storage.errors import RangeNotSatisfiableError
from storage.ranges import parse_range

from .playback import DecryptedMedia


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
