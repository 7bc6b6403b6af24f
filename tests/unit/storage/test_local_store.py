"""LocalStore over the in-memory fakes: pins, GC, verification, corruption, concurrency."""

from __future__ import annotations

import os

import pytest

from storage import unixfs
from storage.blockstore import MemoryBlockStore
from storage.cid import CID, RAW
from storage.errors import (
    BlockNotFoundError,
    CorruptBlockError,
    IncompleteDagError,
    NotPinnedError,
    StoreIOError,
)
from storage.local import LocalStore
from storage.pins import MemoryPinStore
from storage.ports import PinKind

CHUNK = unixfs.CHUNK_SIZE


@pytest.fixture
def store() -> LocalStore:
    return LocalStore.memory()


def block_count(store: LocalStore) -> int:
    return sum(1 for _ in store.blocks.entries())


def test_import_pins_recursively_and_reads_back(store: LocalStore) -> None:
    data = os.urandom(2 * CHUNK + 3)
    root = store.import_chunks([data])
    assert store.is_pinned(root)
    assert [(p.cid, p.kind) for p in store.pins()] == [(root, PinKind.RECURSIVE)]
    assert b"".join(store.iter_file(root)) == data
    assert store.read_range(root, CHUNK - 2, CHUNK + 2) == data[CHUNK - 2 : CHUNK + 2]


def test_gc_removes_only_unpinned_content(store: LocalStore) -> None:
    kept = store.import_chunks([os.urandom(2 * CHUNK)])
    dropped = store.import_chunks([os.urandom(2 * CHUNK)], pin=False)
    result = store.gc()
    assert result.removed_blocks == 3
    assert result.freed_bytes > 2 * CHUNK
    assert len(b"".join(store.iter_file(kept))) == 2 * CHUNK
    with pytest.raises(BlockNotFoundError):
        store.read_range(dropped, 0, 1)


def test_gc_keeps_blocks_shared_with_pinned_content(store: LocalStore) -> None:
    shared = os.urandom(CHUNK)
    kept = store.import_chunks([shared + b"tail-a"])
    store.import_chunks([shared + b"tail-b"], pin=False)
    store.gc()
    assert b"".join(store.iter_file(kept)) == shared + b"tail-a"


def test_direct_pin_keeps_only_the_root_block(store: LocalStore) -> None:
    root = store.import_chunks([os.urandom(2 * CHUNK)], pin=False)
    store.pin(root, recursive=False)
    assert store.gc().removed_blocks == 2
    assert store.blocks.has(root)
    assert store.pin_store.get(root) is PinKind.DIRECT


def test_repinning_changes_kind(store: LocalStore) -> None:
    root = store.import_chunks([b"x" * 10])
    store.pin(root, recursive=False)
    assert store.pin_store.get(root) is PinKind.DIRECT
    store.pin(root)
    assert store.pin_store.get(root) is PinKind.RECURSIVE


def test_unpin_then_gc_frees_everything(store: LocalStore) -> None:
    root = store.import_chunks([os.urandom(CHUNK + 1)])
    store.unpin(root)
    assert not store.is_pinned(root)
    store.gc()
    assert block_count(store) == 0
    with pytest.raises(NotPinnedError):
        store.unpin(root)


def test_pinning_an_incomplete_dag_fails_and_records_nothing(store: LocalStore) -> None:
    root, blocks = unixfs.import_bytes(os.urandom(3 * CHUNK), 1)
    for block in blocks[1:]:  # the first leaf is missing
        store.blocks.put(block.cid, block.data)
    with pytest.raises(IncompleteDagError) as info:
        store.pin(root)
    assert info.value.missing == str(blocks[0].cid)
    assert store.pins() == []


def test_pinning_absent_content_fails(store: LocalStore) -> None:
    absent = CID.for_block(RAW, b"nowhere")
    with pytest.raises(BlockNotFoundError):
        store.pin(absent, recursive=False)
    with pytest.raises(IncompleteDagError):
        store.pin(absent)


def test_gc_aborts_without_deleting_when_a_pinned_dag_has_a_hole(store: LocalStore) -> None:
    root = store.import_chunks([os.urandom(3 * CHUNK)])
    store.import_chunks([b"garbage"], pin=False)
    leaf = unixfs.links_of(root, store.get(root))[1]
    store.blocks.delete(leaf.multihash)
    before = block_count(store)
    with pytest.raises(IncompleteDagError, match="GC aborted"):
        store.gc()
    assert block_count(store) == before


def test_corrupt_block_is_an_error_never_bytes(store: LocalStore) -> None:
    data = os.urandom(2 * CHUNK)
    root = store.import_chunks([data])
    leaf = unixfs.links_of(root, store.get(root))[0]
    assert isinstance(store.blocks, MemoryBlockStore)
    store.blocks.corrupt(leaf, b"\0" * CHUNK)
    with pytest.raises(CorruptBlockError):
        b"".join(store.iter_file(root))
    assert store.read_range(root, CHUNK, CHUNK + 5) == data[CHUNK : CHUNK + 5]
    report = store.verify()
    assert report.corrupt == (str(CID(1, RAW, leaf.multihash)),)
    assert not report.ok


def test_verify_reports_incomplete_pins(store: LocalStore) -> None:
    root = store.import_chunks([os.urandom(2 * CHUNK)])
    assert store.verify().ok
    store.blocks.delete(unixfs.links_of(root, store.get(root))[0].multihash)
    report = store.verify()
    assert report.incomplete_pins == (str(root),)
    assert report.blocks == 2


def test_import_session_blocks_survive_a_concurrent_gc(store: LocalStore) -> None:
    root, blocks = unixfs.import_bytes(os.urandom(2 * CHUNK), 1)
    with store.session() as session:
        for block in blocks:
            session.put(block.cid, block.data)
        assert store.gc().removed_blocks == 0  # GC runs while the import is in flight
        session.pin(root)
    assert store.verify().ok
    store.unpin(root)
    assert store.gc().removed_blocks == 3


def test_abandoned_session_blocks_become_collectable(store: LocalStore) -> None:
    _, blocks = unixfs.import_bytes(os.urandom(CHUNK + 1), 1)
    with store.session() as session:
        for block in blocks:
            session.put(block.cid, block.data)
    assert store.gc().removed_blocks == 3


def test_session_put_verifies_received_blocks(store: LocalStore) -> None:
    cid = CID.for_block(RAW, b"genuine")
    with store.session() as session, pytest.raises(CorruptBlockError):
        session.put(cid, b"forged")
    assert not store.blocks.has(cid)


def test_stat_and_usage(store: LocalStore) -> None:
    root = store.import_chunks([os.urandom(2 * CHUNK + 1)])
    stat = store.stat(root)
    assert (stat.size, stat.blocks, stat.local) == (2 * CHUNK + 1, 4, True)
    assert stat.cumulative_size == sum(size for _, size in store.blocks.entries())
    usage = store.usage()
    assert (usage.blocks, usage.bytes, usage.pins) == (4, stat.cumulative_size, 1)


def test_stat_of_partial_dag_is_not_local(store: LocalStore) -> None:
    root = store.import_chunks([os.urandom(2 * CHUNK)])
    store.blocks.delete(unixfs.links_of(root, store.get(root))[0].multihash)
    stat = store.stat(root)
    assert (stat.local, stat.blocks) == (False, 2)


def test_progress_reports_bytes_done_and_total(store: LocalStore) -> None:
    seen: list[tuple[int, int | None]] = []
    data = os.urandom(3 * CHUNK)
    store.import_chunks(
        [data[:CHUNK], data[CHUNK:]], progress=lambda d, t: seen.append((d, t)), total=len(data)
    )
    assert seen == [(CHUNK, len(data)), (3 * CHUNK, len(data))]


class FailingBlockStore(MemoryBlockStore):
    """Fails the n-th write, like a full disk."""

    def __init__(self, fail_at: int) -> None:
        super().__init__()
        self.writes = 0
        self.fail_at = fail_at

    def put(self, cid: CID, data: bytes, *, verify: bool = True) -> bool:
        self.writes += 1
        if self.writes == self.fail_at:
            raise StoreIOError("disk full")
        return super().put(cid, data, verify=verify)


@pytest.mark.parametrize("threads", [1, 3])
def test_parallel_writes_give_the_same_content(threads: int) -> None:
    store = LocalStore(MemoryBlockStore(), MemoryPinStore(), write_threads=threads)
    data = os.urandom(20 * CHUNK + 5)
    root = store.import_chunks([data])
    assert root == unixfs.import_bytes(data)[0]
    assert b"".join(store.iter_file(root)) == data
    assert store.verify().ok


@pytest.mark.parametrize("threads", [1, 3])
def test_failed_write_records_no_pin_and_leaves_only_collectable_blocks(threads: int) -> None:
    store = LocalStore(FailingBlockStore(fail_at=5), MemoryPinStore(), write_threads=threads)
    with pytest.raises(StoreIOError, match="disk full"):
        store.import_chunks([os.urandom(12 * CHUNK)])
    assert store.pins() == []
    store.gc()
    assert block_count(store) == 0
