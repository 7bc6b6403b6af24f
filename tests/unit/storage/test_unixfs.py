"""UnixFS importer/exporter: Kubo-identical CIDs, round trips, ranges, hostile DAGs."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import unixfs
from storage.cid import CID, DAG_PB, RAW
from storage.dagpb import PBLink, PBNode, UnixFSData, UnixFSType, encode_node, encode_unixfs
from storage.errors import InvalidRangeError, MalformedDagError, UnsupportedError

CHUNK = unixfs.CHUNK_SIZE


def importer_store(
    data: bytes, cid_version: int = 1, chunk_size: int = CHUNK, max_links: int = 174
) -> tuple[CID, dict[CID, bytes]]:
    imp = unixfs.FileImporter(cid_version, chunk_size, max_links)
    blocks = imp.write(data)
    root, tail = imp.finish()
    return root, {b.cid: b.data for b in blocks + tail}


class Getter:
    """A block getter that counts what it is asked for."""

    def __init__(self, blocks: dict[CID, bytes]) -> None:
        self.blocks = blocks
        self.calls: list[CID] = []

    def __call__(self, cid: CID) -> bytes:
        self.calls.append(cid)
        return self.blocks[cid]


@pytest.mark.parametrize("version", [0, 1])
def test_every_reference_vector_matches(
    unixfs_vectors: list[dict[str, Any]], make_bytes: Callable[[int], bytes], version: int
) -> None:
    stream = make_bytes(max(v["size"] for v in unixfs_vectors))  # every vector is a prefix
    for vector in unixfs_vectors:
        root, _ = unixfs.import_bytes(stream[: vector["size"]], version)
        assert str(root) == vector[f"v{version}"], vector["size"]


def test_empty_file_matches_kubo() -> None:
    assert str(unixfs.import_bytes(b"", 0)[0]) == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    assert str(unixfs.import_bytes(b"", 1)[0]) == (
        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    )


@pytest.mark.parametrize("version", [0, 1])
def test_cid_does_not_depend_on_write_sizes(version: int) -> None:
    data = os.urandom(3 * CHUNK + 17)
    expected = unixfs.import_bytes(data, version)[0]
    for step in (1000, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK):
        pieces = [data[i : i + step] for i in range(0, len(data), step)]
        items = list(unixfs.import_chunks(pieces, version))
        assert items[-1] == expected
        assert all(isinstance(b, unixfs.Block) for b in items[:-1])


def test_v1_leaves_are_raw_and_v0_leaves_are_dag_pb() -> None:
    _, v1 = unixfs.import_bytes(os.urandom(CHUNK + 1), 1)
    _, v0 = unixfs.import_bytes(os.urandom(CHUNK + 1), 0)
    assert sorted(b.cid.codec for b in v1) == [RAW, RAW, DAG_PB]
    assert {(b.cid.version, b.cid.codec) for b in v0} == {(0, DAG_PB)}


def test_children_are_emitted_before_parents() -> None:
    root, blocks = unixfs.import_bytes(os.urandom(5 * CHUNK), 1)
    seen: set[CID] = set()
    for block in blocks:
        for child in unixfs.links_of(block.cid, block.data):
            assert child in seen
        seen.add(block.cid)
    assert blocks[-1].cid == root


def _tree_sizes(chunk: int, links: int) -> list[int]:
    """Byte sizes around every tree boundary (chunk, full node of each depth) for a fan-out."""
    sizes = {0, 1}
    for depth in range(4):
        edge = chunk * links**depth
        sizes |= {edge - 1, edge, edge + 1, edge + chunk}
    return sorted(sizes)


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("size", _tree_sizes(2, 3))
def test_round_trip_and_every_range_at_tree_boundaries(version: int, size: int) -> None:
    data = os.urandom(size)
    root, blocks = importer_store(data, version, chunk_size=2, max_links=3)
    get = Getter(blocks)
    assert b"".join(unixfs.iter_range(get, root)) == data
    for start in range(size + 2):
        ends = range(start, size + 3) if size <= 30 else (start + 1, start + 7, size, size + 2)
        for end in (e for e in ends if e >= start):
            assert unixfs.read_range(get, root, start, end) == data[start:end]


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=200),
    chunk=st.integers(min_value=1, max_value=9),
    links=st.integers(min_value=2, max_value=5),
    version=st.sampled_from([0, 1]),
    data=st.data(),
)
def test_property_range_reads_equal_slices(
    size: int, chunk: int, links: int, version: int, data: st.DataObject
) -> None:
    content = os.urandom(size)
    root, blocks = importer_store(content, version, chunk, links)
    start = data.draw(st.integers(min_value=0, max_value=size + 3))
    end = data.draw(st.integers(min_value=start, max_value=size + 5))
    assert unixfs.read_range(Getter(blocks), root, start, end) == content[start:end]
    assert b"".join(unixfs.iter_range(Getter(blocks), root)) == content


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("size", [CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 5])
def test_real_chunker_round_trip_around_chunk_boundaries(version: int, size: int) -> None:
    data = os.urandom(size)
    root, blocks = importer_store(data, version)
    get = Getter(blocks)
    assert b"".join(unixfs.iter_range(get, root)) == data
    for start, end in [(0, 1), (CHUNK - 1, CHUNK + 1), (size - 1, size), (5, size + 100)]:
        assert unixfs.read_range(get, root, start, end) == data[start:end]


def test_range_read_touches_only_needed_blocks() -> None:
    data = os.urandom(175 * 4)  # two levels with chunk 4, links 174: root, 2 parents, 175 leaves
    root, blocks = importer_store(data, 1, chunk_size=4, max_links=174)
    get = Getter(blocks)
    assert unixfs.read_range(get, root, 9, 12) == data[9:12]
    assert len(get.calls) == 3  # root, one parent, one leaf
    get.calls.clear()
    assert unixfs.read_range(get, root, 4 * 174 - 1, 4 * 174 + 1) == data[695:697]
    assert len(get.calls) == 5  # root, both parents, two leaves


def test_range_reads_past_the_end_are_empty_or_clamped() -> None:
    root, blocks = importer_store(b"abcdef", 1, chunk_size=2)
    assert unixfs.read_range(Getter(blocks), root, 4, 100) == b"ef"
    assert unixfs.read_range(Getter(blocks), root, 6, 9) == b""
    assert unixfs.read_range(Getter(blocks), root, 3, 3) == b""


@pytest.mark.parametrize(("start", "end"), [(-1, 4), (5, 4)])
def test_invalid_ranges_are_rejected(start: int, end: int) -> None:
    root, blocks = importer_store(b"abcdef", 1, chunk_size=2)
    with pytest.raises(InvalidRangeError):
        unixfs.read_range(Getter(blocks), root, start, end)


def test_importer_memory_is_bounded_for_large_streams() -> None:
    imp = unixfs.FileImporter(1)
    piece = os.urandom(1 << 20)
    tracemalloc.start()
    try:
        for _ in range(48):
            imp.write(piece)  # blocks are dropped, as a store would after writing them
        imp.finish()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * (1 << 20)


def test_importer_rejects_use_after_finish_and_bad_parameters() -> None:
    imp = unixfs.FileImporter()
    imp.finish()
    with pytest.raises(RuntimeError):
        imp.write(b"x")
    with pytest.raises(RuntimeError):
        imp.finish()
    with pytest.raises(UnsupportedError):
        unixfs.FileImporter(2)
    with pytest.raises(ValueError, match="chunk_size"):
        unixfs.FileImporter(1, chunk_size=0)


def _node(unixfs_msg: UnixFSData, links: tuple[PBLink, ...] = ()) -> tuple[CID, bytes]:
    block = encode_node(PBNode(links, encode_unixfs(unixfs_msg)))
    return CID.for_block(DAG_PB, block), block


def test_directory_is_not_a_file() -> None:
    cid, block = _node(UnixFSData(UnixFSType.DIRECTORY))
    with pytest.raises(UnsupportedError, match="directory"):
        unixfs.read_range(Getter({cid: block}), cid, 0, 1)


def test_unknown_codec_is_not_a_file() -> None:
    cid = CID.for_block(0x71, b"\xa0")
    with pytest.raises(UnsupportedError):
        unixfs.read_range(Getter({cid: b"\xa0"}), cid, 0, 1)
    with pytest.raises(UnsupportedError):
        unixfs.links_of(cid, b"\xa0")


def test_node_with_inline_data_and_children_reads_in_order() -> None:
    leaf = CID.for_block(RAW, b"world")
    cid, block = _node(UnixFSData(UnixFSType.FILE, b"hello ", 11, (5,)), (PBLink(leaf, "", 5),))
    get = Getter({cid: block, leaf: b"world"})
    assert unixfs.read_range(get, cid, 0, 11) == b"hello world"
    assert unixfs.read_range(get, cid, 4, 8) == b"o wo"


@pytest.mark.parametrize(
    ("msg", "nlinks", "match"),
    [
        (UnixFSData(UnixFSType.FILE, None, 5, (5, 5)), 1, "blocksizes"),
        (UnixFSData(UnixFSType.FILE, None, 9, (5,)), 1, "filesize"),
        (UnixFSData(UnixFSType.FILE, None, 4, (4,)), 1, "declares"),
    ],
)
def test_inconsistent_dags_are_rejected(msg: UnixFSData, nlinks: int, match: str) -> None:
    leaf = CID.for_block(RAW, b"world")
    cid, block = _node(msg, tuple(PBLink(leaf, "", 5) for _ in range(nlinks)))
    with pytest.raises(MalformedDagError, match=match):
        unixfs.read_range(Getter({cid: block, leaf: b"world"}), cid, 0, 100)


def test_dag_pb_node_without_data_is_rejected() -> None:
    block = encode_node(PBNode(()))
    cid = CID.for_block(DAG_PB, block)
    with pytest.raises(MalformedDagError, match="no UnixFS data"):
        unixfs.file_size(Getter({cid: block}), cid)


def test_file_size_reads_only_the_root() -> None:
    root, blocks = importer_store(os.urandom(50), 1, chunk_size=4, max_links=3)
    get = Getter(blocks)
    assert unixfs.file_size(get, root) == 50
    assert get.calls == [root]


def test_self_referencing_dag_stops_at_max_depth() -> None:
    # a cycle cannot be built with real hashes; emulate one with a lying getter
    child = CID.for_block(DAG_PB, b"any")
    cid, block = _node(UnixFSData(UnixFSType.FILE, None, 1, (1,)), (PBLink(child, "", 1),))

    def lying_get(_: CID) -> bytes:
        return block

    with pytest.raises(MalformedDagError, match="deeper"):
        unixfs.read_range(lying_get, cid, 0, 1)
