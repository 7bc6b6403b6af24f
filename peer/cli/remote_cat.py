"""``toktok cat`` through the running daemon: its content port fetches missing blocks.

Like ``ipfs cat`` beside a running ``ipfs daemon``: the bytes come from the daemon's gateway
(``/ipfs/<cid>`` on the content port), which reads the local store and fetches what it lacks
over bitswap, verifying every block. A read that gets no byte for ``timeout`` seconds fails;
on a terminal, progress goes to stderr.
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request
from typing import BinaryIO, TextIO

from peer.datadir import ApiCredentials
from peer.errors import DaemonError
from storage import untrusted
from storage.errors import UntrustedJsonError

CHUNK = 256 * 1024
MAX_ERROR_BYTES = 64 * 1024


def stream(
    creds: ApiCredentials,
    cid: str,
    start: int,
    end: int | None,
    out: BinaryIO,
    timeout: float,
    progress: TextIO | None = None,
) -> int:
    """Write bytes ``[start, end)`` of ``cid`` to ``out``; returns how many were written."""
    if end is not None and end <= start:
        return 0
    url = creds.content_url.rstrip("/") + f"/ipfs/{cid}"
    request = urllib.request.Request(url)  # noqa: S310 - loopback URL from api.json
    if start or end is not None:
        last = "" if end is None else str(end - 1)
        request.add_header("Range", f"bytes={start}-{last}")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 - loopback URL from api.json
    except urllib.error.HTTPError as exc:
        raise DaemonError(_message(exc), exc.code, _code(exc)) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DaemonError(f"cannot read {cid} from the daemon: {exc}") from exc
    total = int(response.headers.get("Content-Length") or 0)
    written = 0
    shown = 0.0
    with response:
        while True:
            try:
                piece = response.read(CHUNK)
            except (TimeoutError, OSError) as exc:
                raise DaemonError(
                    f"no data for {cid} within {timeout:g} s after {written} bytes: {exc}"
                ) from exc
            if not piece:
                break
            out.write(piece)
            written += len(piece)
            if progress is not None and time.monotonic() - shown > 0.2:
                shown = time.monotonic()
                _show(progress, written, total)
    out.flush()
    if progress is not None:
        _show(progress, written, total)
        progress.write("\n")
    if total and written != total:
        raise DaemonError(f"{cid}: the daemon sent {written} of {total} bytes")
    return written


def _show(progress: TextIO, done: int, total: int) -> None:
    if total:
        progress.write(f"\rfetching: {done / 2**20:.1f} of {total / 2**20:.1f} MiB")
    else:
        progress.write(f"\rfetching: {done / 2**20:.1f} MiB")
    progress.flush()


def _body(exc: urllib.error.HTTPError) -> dict[str, str]:
    try:
        raw = exc.read(MAX_ERROR_BYTES + 1)
        error = untrusted.loads(raw, max_bytes=MAX_ERROR_BYTES, what="error answer")["error"]
        return {"code": str(error["code"]), "message": str(error["message"])}
    except (UntrustedJsonError, KeyError, TypeError):
        return {}


def _message(exc: urllib.error.HTTPError) -> str:
    return _body(exc).get("message") or f"the daemon answered {exc.code} {exc.reason}"


def _code(exc: urllib.error.HTTPError) -> str | None:
    return _body(exc).get("code")


def terminal_progress() -> TextIO | None:
    """stderr when it is a terminal (progress is for people, not for pipes)."""
    return sys.stderr if sys.stderr.isatty() else None
