"""One conformance suite for every ``ContentStore`` implementation, as an importable class.

Each implementation's test module subclasses :class:`ContentStoreSuite` as ``Test<Name>`` and
provides a ``content_store`` fixture (plus ``unixfs_vectors`` and ``make_bytes``, which the
storage conftests share): the in-process embedded store, the store the daemon uses
(``NetworkContentStore`` and ``ProvidingContentStore``, the embedded store plus bitswap), and the
Kubo-RPC backend on a real Kubo-compatible node.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from storage.cid import CID, RAW
from storage.errors import BlockNotFoundError, InvalidRangeError, NotPinnedError, StorageError
from storage.ports import ContentStore, PinKind

CHUNK = 262_144


async def read_all(store: ContentStore, cid: CID | str) -> bytes:
    return b"".join([piece async for piece in store.open(cid)])


class ContentStoreSuite:
    """The ``ContentStore`` contract; subclass it where a ``content_store`` fixture exists."""

    async def test_small_vectors_give_kubo_cids_for_both_versions(
        self,
        content_store: ContentStore,
        unixfs_vectors: list[dict[str, Any]],
        make_bytes: Callable[[int], bytes],
    ) -> None:
        for vector in unixfs_vectors:
            if vector["size"] > 4 * CHUNK:
                continue
            data = make_bytes(vector["size"])
            assert str(await content_store.add_bytes(data)) == vector["v1"]
            assert str(await content_store.add_bytes(data, cid_version=0)) == vector["v0"]

    async def test_add_file_round_trips_and_reports_progress(
        self, content_store: ContentStore, tmp_path: Path
    ) -> None:
        data = os.urandom(5 * CHUNK + 1234)
        path = tmp_path / "clip.bin"
        path.write_bytes(data)
        seen: list[tuple[int, int | None]] = []
        cid = await content_store.add_file(path, lambda done, total: seen.append((done, total)))
        await asyncio.sleep(0)  # progress callbacks are scheduled on the loop
        assert seen[-1] == (len(data), len(data))
        assert await read_all(content_store, cid) == data
        assert await read_all(content_store, str(cid)) == data
        assert await content_store.is_pinned(cid)

    async def test_add_file_of_missing_path_is_a_storage_error(
        self, content_store: ContentStore, tmp_path: Path
    ) -> None:
        with pytest.raises(StorageError, match="cannot read"):
            await content_store.add_file(tmp_path / "absent.mp4")
        assert await content_store.pins() == []

    async def test_add_stream_equals_add_bytes(self, content_store: ContentStore) -> None:
        data = os.urandom(3 * CHUNK + 5)

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 100_000):
                yield data[i : i + 100_000]

        streamed = await content_store.add_stream(chunks())
        assert streamed == await content_store.add_bytes(data)
        assert await read_all(content_store, streamed) == data

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (0, 0),
            (0, 1),
            (CHUNK - 1, CHUNK + 1),
            (CHUNK, 2 * CHUNK),
            (10, 3 * CHUNK + 7),
            (3 * CHUNK, 3 * CHUNK + 100),
            (3 * CHUNK + 6, 10**9),
            (10**9, 10**9 + 1),
        ],
    )
    async def test_read_range_equals_the_slice(
        self, content_store: ContentStore, start: int, end: int
    ) -> None:
        data = os.urandom(3 * CHUNK + 7)
        cid = await content_store.add_bytes(data)
        assert await content_store.read_range(cid, start, end) == data[start:end]

    async def test_invalid_range_is_rejected(self, content_store: ContentStore) -> None:
        cid = await content_store.add_bytes(b"abc")
        with pytest.raises(InvalidRangeError):
            await content_store.read_range(cid, 2, 1)

    async def test_missing_content_is_not_found(self, content_store: ContentStore) -> None:
        absent = CID.for_block(RAW, b"never added")
        with pytest.raises(BlockNotFoundError):
            await read_all(content_store, absent)
        with pytest.raises(BlockNotFoundError):
            await content_store.read_range(absent, 0, 1)
        with pytest.raises(BlockNotFoundError):
            await content_store.stat(absent)

    async def test_pin_lifecycle(self, content_store: ContentStore) -> None:
        cid = await content_store.add_bytes(b"pin me", pin=False)
        assert not await content_store.is_pinned(cid)
        await content_store.pin(cid)
        assert await content_store.is_pinned(cid)
        assert [(p.cid, p.kind) for p in await content_store.pins()] == [(cid, PinKind.RECURSIVE)]
        await content_store.unpin(cid)
        assert not await content_store.is_pinned(cid)
        with pytest.raises(NotPinnedError):
            await content_store.unpin(cid)

    async def test_pins_are_sorted(self, content_store: ContentStore) -> None:
        cids = [await content_store.add_bytes(os.urandom(10)) for _ in range(5)]
        assert [p.cid for p in await content_store.pins()] == sorted(cids, key=str)

    async def test_gc_keeps_pinned_and_removes_unpinned(self, content_store: ContentStore) -> None:
        kept_data = os.urandom(2 * CHUNK)
        kept = await content_store.add_bytes(kept_data)
        dropped = await content_store.add_bytes(os.urandom(2 * CHUNK), pin=False)
        result = await content_store.gc()
        assert result.removed_blocks >= 3
        assert result.freed_bytes >= 2 * CHUNK
        assert await read_all(content_store, kept) == kept_data
        with pytest.raises(BlockNotFoundError):
            await read_all(content_store, dropped)

    async def test_stat_and_usage(self, content_store: ContentStore) -> None:
        data = os.urandom(2 * CHUNK + 1)
        cid = await content_store.add_bytes(data)
        stat = await content_store.stat(cid)
        assert (stat.cid, stat.size, stat.blocks, stat.local) == (cid, len(data), 4, True)
        assert stat.cumulative_size > len(data)
        usage = await content_store.usage()
        assert usage.blocks >= 4
        assert usage.bytes >= stat.cumulative_size
        assert usage.pins == 1

    async def test_cidv0_content_reads_back(self, content_store: ContentStore) -> None:
        data = os.urandom(2 * CHUNK + 9)
        cid = await content_store.add_bytes(data, cid_version=0)
        assert str(cid).startswith("Qm")
        assert await read_all(content_store, cid) == data
        assert (
            await content_store.read_range(cid, CHUNK - 3, CHUNK + 3) == data[CHUNK - 3 : CHUNK + 3]
        )

    async def test_empty_file(self, content_store: ContentStore) -> None:
        cid = await content_store.add_bytes(b"")
        assert str(cid) == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        assert await read_all(content_store, cid) == b""
        assert (await content_store.stat(cid)).size == 0

    async def test_concurrent_adds_and_gc_lose_nothing_pinned(
        self, content_store: ContentStore
    ) -> None:
        payloads = [os.urandom(CHUNK + i) for i in range(6)]
        results = await asyncio.gather(
            *(content_store.add_bytes(p) for p in payloads),
            *(content_store.gc() for _ in range(3)),
        )
        cids = results[: len(payloads)]
        for payload, cid in zip(payloads, cids, strict=True):
            assert isinstance(cid, CID)
            assert await read_all(content_store, cid) == payload
