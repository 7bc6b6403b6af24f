"""The browser upload (POST /api/v1/publish): streamed to disk, capped, and never left behind.

The server is the daemon's own :class:`HttpService` (same runner settings, including handler
cancellation) with a stub publish service; answers are checked against the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import aiohttp
import pytest
from support.http import AUTH, SECRETS, daemon_schema, full_status

from peer.api import publish
from peer.api.context import ApiContext
from peer.api.security import SECRET_HEADER, SESSION_COOKIE
from peer.api.server import HttpService
from peer.bus import EventBus
from peer.daemon.publish import Job, PublishRequest, PublishService
from peer.daemon.services import Readiness

CAP = 1024 * 1024  # storage.max_upload_mb = 1
BOUNDARY = "toktokboundary"


@dataclass
class StubPublish:
    """Takes jobs without running them; keeps what it was given."""

    requests: list[PublishRequest] = field(default_factory=list)
    contents: list[bytes] = field(default_factory=list)

    async def submit(self, request: PublishRequest) -> Job:
        self.requests.append(request)
        self.contents.append(request.path.read_bytes())
        return Job(f"job{len(self.requests)}")


@dataclass
class Upload:
    url: str
    origin: str
    upload_dir: Path
    publish: StubPublish

    def headers(self) -> dict[str, str]:
        return {
            "Origin": self.origin,
            SECRET_HEADER: SECRETS.secret,
            "Cookie": f"{SESSION_COOKIE}={SECRETS.cookie}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        }

    def leftovers(self) -> list[Path]:
        return list(self.upload_dir.iterdir()) if self.upload_dir.exists() else []


@pytest.fixture
async def upload(tmp_path: Path) -> AsyncIterator[Upload]:
    stub = StubPublish()
    ctx = ApiContext(
        readiness=Readiness(),
        bus=EventBus(),
        status=full_status,
        publish=cast(PublishService, stub),
        upload_dir=tmp_path / "uploads",
        max_upload_bytes=CAP,
    )
    http = HttpService(ctx, AUTH)
    await http.start()
    try:
        origin = http.url.rstrip("/")
        yield Upload(origin + "/api/v1/publish", origin, tmp_path / "uploads", stub)
    finally:
        await http.stop()


def form_head(title: str = "Clip") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\n{title}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()


FORM_TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()


async def post(u: Upload, body: bytes | AsyncIterator[bytes]) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(u.url, data=body, headers=u.headers()) as response,
    ):
        raw = await response.read()
        daemon_schema().check(
            "POST", "/api/v1/publish", response.status, response.content_type, raw
        )
        return response.status, raw


async def test_a_small_upload_is_saved_and_handed_to_the_publisher(upload: Upload) -> None:
    video = bytes(range(256)) * 1000
    status, body = await post(upload, form_head("Hello") + video + FORM_TAIL)
    assert (status, body) == (202, b'{"job": "job1"}')
    (request,) = upload.publish.requests
    assert request.title == "Hello"
    assert request.remove_after is True
    assert upload.publish.contents == [video]
    assert request.path.parent == upload.upload_dir


async def test_an_upload_refused_after_saving_leaves_no_file(upload: Upload) -> None:
    status, body = await post(upload, form_head("   ") + b"video bytes" + FORM_TAIL)
    assert status == 400
    assert b"title" in body
    assert upload.publish.requests == []
    assert upload.leftovers() == []


async def test_an_oversize_upload_is_refused_without_buffering_it(
    upload: Upload, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = 48 * CAP
    piece = b"\0" * (64 * 1024)
    written: list[int] = []
    real_write = publish._write_all

    def counting_write(fd: int, data: bytes) -> None:
        written.append(len(data))
        real_write(fd, data)

    monkeypatch.setattr(publish, "_write_all", counting_write)

    async def body() -> AsyncIterator[bytes]:
        yield form_head()
        for _ in range(total // len(piece)):
            yield piece
        yield FORM_TAIL

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        try:
            status, raw = await post(upload, body())
        except aiohttp.ClientError:  # the server may close before the client sent it all
            status, raw = 413, b""
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert status == 413
    if raw:
        assert b"upload_too_large" in raw
    assert sum(written) <= CAP  # written in chunks, and never past the cap
    assert len(written) > 1
    assert peak < 8 * CAP, f"{peak} bytes allocated while streaming a {total}-byte body"
    assert upload.leftovers() == []
    assert upload.publish.requests == []


async def test_a_client_that_disconnects_mid_upload_leaves_no_file(upload: Upload) -> None:
    host_port = upload.origin.removeprefix("http://")
    host, port = host_port.rsplit(":", 1)
    head = form_head()
    announced = len(head) + 8 * CAP + len(FORM_TAIL)
    request = (
        f"POST /api/v1/publish HTTP/1.1\r\nHost: {host_port}\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in upload.headers().items())
        + f"Content-Length: {announced}\r\n\r\n"
    ).encode()
    _reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request + head + b"\1" * (CAP // 2))
        await writer.drain()
        for _ in range(200):  # the handler is streaming the file to disk
            if upload.leftovers():
                break
            await asyncio.sleep(0.025)
        assert upload.leftovers(), "the upload never reached the disk"
    finally:
        writer.transport.abort()
    for _ in range(400):
        if not upload.leftovers():
            break
        await asyncio.sleep(0.025)
    assert upload.leftovers() == []
    assert upload.publish.requests == []
