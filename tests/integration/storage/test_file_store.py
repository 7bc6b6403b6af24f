"""The on-disk store: persistence, corruption on disk, partial writes, concurrent readers."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from storage import unixfs
from storage.blockstore import FileBlockStore, block_key
from storage.cid import CID, RAW
from storage.errors import CorruptBlockError, StoreIOError
from storage.local import LocalStore
from storage.ports import PinKind

pytestmark = pytest.mark.integration

CHUNK = unixfs.CHUNK_SIZE


def block_path(root: Path, cid: CID) -> Path:
    key = block_key(cid.multihash)
    return root / "blocks" / key[-3:-1] / key


def test_content_and_pins_survive_reopening(tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK + 1)
    root = LocalStore.open(tmp_path).import_chunks([data])
    reopened = LocalStore.open(tmp_path)
    assert b"".join(reopened.iter_file(root)) == data
    assert reopened.pin_store.get(root) is PinKind.RECURSIVE


def test_corrupted_file_on_disk_raises_instead_of_returning_bytes(tmp_path: Path) -> None:
    store = LocalStore.open(tmp_path)
    root = store.import_chunks([b"precious"])
    path = block_path(tmp_path, root)
    path.write_bytes(b"tampered")
    with pytest.raises(CorruptBlockError):
        store.read_range(root, 0, 8)
    assert store.verify().corrupt == (str(root),)


def test_stale_partial_writes_are_removed_on_open(tmp_path: Path) -> None:
    LocalStore.open(tmp_path)
    stale = tmp_path / "tmp" / "12345-1-1"
    stale.write_bytes(b"half a block")
    LocalStore.open(tmp_path)
    assert not stale.exists()


def test_put_without_fsync_and_flush_work(tmp_path: Path) -> None:
    blocks = FileBlockStore(tmp_path, fsync=False)
    cid = CID.for_block(RAW, b"quick")
    assert blocks.put(cid, b"quick")
    assert not blocks.put(cid, b"quick")
    blocks.flush()
    assert blocks.get(cid) == b"quick"
    assert blocks.delete(cid.multihash) == 5
    assert blocks.delete(cid.multihash) is None


def test_unwritable_store_is_a_store_io_error(tmp_path: Path) -> None:
    target = tmp_path / "file-not-dir"
    target.write_bytes(b"")
    with pytest.raises(StoreIOError):
        LocalStore.open(target)


def test_foreign_files_in_block_folders_are_ignored(tmp_path: Path) -> None:
    store = LocalStore.open(tmp_path)
    store.import_chunks([b"abc"])
    (tmp_path / "blocks" / "zz").mkdir()
    (tmp_path / "blocks" / "zz" / "README!").write_text("not a block")
    assert store.usage().blocks == 1


def test_readers_never_see_partial_blocks_while_a_writer_imports(tmp_path: Path) -> None:
    store = LocalStore.open(tmp_path, fsync=False)
    first = os.urandom(4 * CHUNK)
    root = store.import_chunks([first])
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:
        try:
            while not stop.is_set():
                assert b"".join(store.iter_file(root)) == first
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for _ in range(5):
        store.import_chunks([os.urandom(4 * CHUNK)], pin=False)
        store.gc()
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
