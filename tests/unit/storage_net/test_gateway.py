"""The /ipfs/<cid> gateway: headers, ranges, caching, errors, verification, cancellation."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from peer.p2p.testing import FakeNetwork
from storage import unixfs
from storage.bitswap import Bitswap, BitswapOptions, ClientOptions
from storage.bitswap.store import NetworkContentStore
from storage.blockstore import MemoryBlockStore
from storage.cid import CID
from storage.embedded import EmbeddedContentStore
from storage.errors import RangeNotSatisfiableError
from storage.gateway import GatewayOptions, add_routes, sniff
from storage.ports import ContentStore
from storage.ranges import parse_range

CHUNK = 262_144
Client = TestClient[web.Request, web.Application]


def pattern(size: int, seed: str = "g") -> bytes:
    count = (size + 31) // 32
    return b"".join(hashlib.sha256(f"{seed}-{i}".encode()).digest() for i in range(count))[:size]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[ContentStore], Awaitable[Client]]]:
    clients: list[Client] = []

    async def make(store: ContentStore, options: GatewayOptions | None = None) -> Client:
        app = web.Application()
        add_routes(app, store, options)
        client: Client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


async def test_whole_file_with_immutable_caching_and_safe_headers(
    serve: Callable[[ContentStore], Awaitable[Client]],
) -> None:
    store = EmbeddedContentStore.memory()
    data = pattern(3 * CHUNK + 17)
    cid = await store.add_bytes(data)
    client = await serve(store)
    response = await client.get(f"/ipfs/{cid}")
    assert response.status == 200
    assert await response.read() == data
    headers = response.headers
    assert headers["Content-Length"] == str(len(data))
    assert headers["ETag"] == f'"{cid}"'
    assert headers["Cache-Control"] == "public, max-age=29030400, immutable"
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "sandbox"
    assert headers["Content-Type"] == "application/octet-stream"  # not media: attachment
    assert headers["Content-Disposition"] == f'attachment; filename="{cid}"'


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\0\0\0\x20ftypisom" + b"\0" * 20, "video/mp4"),
        (b"\x1a\x45\xdf\xa3rest", "video/webm"),
        (b"\x89PNG\r\n\x1a\nrest", "image/png"),
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (json.dumps({"v": 1, "renditions": []}).encode(), "application/json"),
    ],
)
async def test_media_images_and_json_are_inline(
    serve: Callable[[ContentStore], Awaitable[Client]], head: bytes, expected: str
) -> None:
    store = EmbeddedContentStore.memory()
    cid = await store.add_bytes(head)
    client = await serve(store)
    response = await client.get(f"/ipfs/{cid}")
    assert response.status == 200
    assert response.headers["Content-Type"] == expected
    assert "Content-Disposition" not in response.headers
    assert response.headers["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize(
    "head", [b"<html><script>alert(1)</script></html>", b"<svg onload=alert(1)>", b"{not json"]
)
def test_html_svg_and_broken_json_are_attachments(head: bytes) -> None:
    assert sniff(head) == ("application/octet-stream", False)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 10)),
        ("bytes=90-", 100, (90, 100)),
        ("bytes=90-200", 100, (90, 100)),
        ("bytes=-10", 100, (90, 100)),
        ("bytes=-500", 100, (0, 100)),
        ("bytes=0-0", 1, (0, 1)),
        ("bytes=0-9,20-29", 100, None),  # several ranges: the whole file
        ("bytes=9-0", 100, None),  # reversed: invalid syntax, ignored (RFC 9110)
        ("bytes=5-3", 100, None),
        ("items=0-9", 100, None),
        ("bytes=-", 100, None),
    ],
)
def test_range_header_parsing(
    header: str | None, size: int, expected: tuple[int, int] | None
) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=-5", 0)]
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiableError):
        parse_range(header, size)


async def test_ranges_get_206_and_416(serve: Callable[[ContentStore], Awaitable[Client]]) -> None:
    store = EmbeddedContentStore.memory()
    data = pattern(2 * CHUNK + 5)
    cid = await store.add_bytes(data)
    client = await serve(store)
    start, end = CHUNK - 3, CHUNK + 3
    response = await client.get(f"/ipfs/{cid}", headers={"Range": f"bytes={start}-{end}"})
    assert response.status == 206
    assert await response.read() == data[start : end + 1]
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(data)}"
    assert response.headers["Content-Length"] == "7"
    suffix = await client.get(f"/ipfs/{cid}", headers={"Range": "bytes=-4"})
    assert (suffix.status, await suffix.read()) == (206, data[-4:])
    refused = await client.get(f"/ipfs/{cid}", headers={"Range": f"bytes={len(data)}-"})
    assert refused.status == 416
    assert refused.headers["Content-Range"] == f"bytes */{len(data)}"


async def test_if_none_match_gives_304_and_head_gives_no_body(
    serve: Callable[[ContentStore], Awaitable[Client]],
) -> None:
    store = EmbeddedContentStore.memory()
    cid = await store.add_bytes(b"cached forever")
    client = await serve(store)
    again = await client.get(f"/ipfs/{cid}", headers={"If-None-Match": f'"{cid}"'})
    assert again.status == 304
    assert await again.read() == b""
    head = await client.head(f"/ipfs/{cid}")
    assert head.status == 200
    assert head.headers["Content-Length"] == "14"
    assert await head.read() == b""


async def test_bad_and_missing_cids(serve: Callable[[ContentStore], Awaitable[Client]]) -> None:
    client = await serve(EmbeddedContentStore.memory())
    bad = await client.get("/ipfs/not-a-cid")
    assert bad.status == 400
    assert (await bad.json())["error"]["code"] == "invalid_cid"
    absent = unixfs.import_bytes(b"never added")[0]
    missing = await client.get(f"/ipfs/{absent}")
    assert missing.status == 404
    assert missing.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_corrupt_block_mid_stream_cuts_the_connection(
    serve: Callable[[ContentStore], Awaitable[Client]],
) -> None:
    store = EmbeddedContentStore.memory()
    data = pattern(6 * CHUNK, "corrupt")
    root, blocks = unixfs.import_bytes(data)
    cid = await store.add_bytes(data)
    assert cid == root
    blockstore = store.local.blocks
    assert isinstance(blockstore, MemoryBlockStore)
    blockstore.corrupt(blocks[4].cid, b"\0" * CHUNK)  # the fifth leaf, past the first window
    client = await serve(store)
    response = await client.get(f"/ipfs/{cid}")
    assert response.status == 200  # headers went out before the bad block was reached
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


class StallingStore(EmbeddedContentStore):
    """Range reads past the first bytes never finish; records their cancellation."""

    def __init__(self) -> None:
        super().__init__(EmbeddedContentStore.memory().local)
        self.cancelled = asyncio.Event()

    async def read_range(self, cid: CID | str, start: int, end: int) -> bytes:
        if start < 1024:
            return await super().read_range(cid, start, end)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        raise AssertionError("unreachable")


async def test_a_client_that_disconnects_cancels_the_fetch(
    serve: Callable[..., Awaitable[Client]],
) -> None:
    store = StallingStore()
    cid = await store.add_bytes(pattern(4 * CHUNK))
    client = await serve(store, GatewayOptions(window=1024, disconnect_poll=0.05))

    async def download() -> bytes:
        response = await client.get(f"/ipfs/{cid}")
        return await response.read()

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(download(), 0.5)  # gives up: closes the connection
    await asyncio.wait_for(store.cancelled.wait(), 5)


async def test_remote_content_is_fetched_on_demand_for_a_range(
    serve: Callable[[ContentStore], Awaitable[Client]],
) -> None:
    net = FakeNetwork()
    hosts = [net.host(), net.host()]
    for host in hosts:
        await host.start()
    origin = EmbeddedContentStore.memory()
    viewer = EmbeddedContentStore.memory()
    options = BitswapOptions(client=ClientOptions(block_timeout=1, fetch_timeout=3))
    services = [Bitswap(hosts[0], origin.local, options), Bitswap(hosts[1], viewer.local, options)]
    for service in services:
        await service.start()
    try:
        data = pattern(10 * CHUNK, "remote")
        cid = await origin.add_bytes(data)
        await hosts[1].connect(hosts[0].addrs[0])
        client = await serve(NetworkContentStore(viewer, services[1]))
        start = 7 * CHUNK + 100
        response = await client.get(f"/ipfs/{cid}", headers={"Range": f"bytes={start}-"})
        assert response.status == 206
        assert await response.read() == data[start:]
        fetched = services[1].stats().client.blocks_received
        assert fetched == 5  # the root, leaf 0 (for the type sniff) and leaves 7, 8, 9 only
        missing = unixfs.import_bytes(b"nobody has it")[0]
        unavailable = await client.get(f"/ipfs/{missing}")
        assert unavailable.status == 504
    finally:
        for service in services:
            await service.stop()
        for host in hosts:
            await host.stop()
