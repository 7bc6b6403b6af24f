"""Fetching one post's content under the replication caps, at a limited rate.

:func:`fetch_dag` walks a UnixFS file DAG through a :class:`BlockSource` (bitswap: local
first, else the network; every block verified against its CID there), several blocks in
flight, charging every fetched block to the :class:`TokenBucket`. The root must declare
exactly the expected size (or at most ``cap`` bytes when the size is not known yet); every
child must hold exactly the bytes its parent declares; the walk stops as soon as more bytes
arrive than the declared size allows, so a lying peer costs at most ``max_dag_bytes``.

:func:`read_manifest` applies the manifest caps (64 KiB, 1..8 renditions, canonical form,
creator of the post) BEFORE anything else of the clip is fetched.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass

from peer.replication.bucket import TokenBucket
from peer.replication.errors import BadManifestError, CapExceededError, FetchFailedError
from peer.replication.ports import BlockSource
from storage import unixfs
from storage.cid import CID, parse_cid
from storage.errors import BlockNotFoundError, StorageError
from storage.media.errors import ManifestError
from storage.media.manifest import MAX_MANIFEST_BYTES, Manifest, decode_manifest


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """How content is fetched."""

    block_timeout_s: float = 30.0
    """How long one block may take before the attempt fails (retried later)."""
    window: int = 8
    """Blocks in flight."""


def max_dag_bytes(size: int) -> int:
    """Most bytes (content + DAG nodes) a DAG of ``size`` content bytes may take."""
    return size + size // 64 + 64 * 1024


@dataclass(frozen=True, slots=True)
class ClipContent:
    """What a manifest says must be fetched for a clip: CIDs and their declared sizes."""

    manifest: Manifest
    cids: tuple[str, ...]
    sizes: tuple[int, ...]


async def fetch_dag(
    blocks: BlockSource,
    root: CID | str,
    *,
    size: int | None,
    cap: int,
    bucket: TokenBucket,
    options: FetchOptions,
) -> int:
    """Bring every block of the file at ``root`` into the local store; returns its size.

    ``size``: the exact declared file size (``None``: unknown, then at most ``cap``).
    """
    cid = parse_cid(root)
    first = await _get(blocks, cid, options, bucket)
    try:
        node = unixfs.decode_file_node(cid, first)
    except StorageError as exc:
        raise CapExceededError(f"{cid} is not a UnixFS file: {exc}") from exc
    if size is not None and node.filesize != size:
        raise CapExceededError(f"{cid} holds {node.filesize} bytes, the manifest declares {size}")
    if node.filesize > cap:
        raise CapExceededError(f"{cid} holds {node.filesize} bytes, more than the cap of {cap}")
    limit = max_dag_bytes(node.filesize)
    total = len(first)
    queue: deque[tuple[CID, int, int]] = deque((c, s, 1) for c, s in node.children)
    tasks: dict[asyncio.Task[bytes], tuple[CID, int, int]] = {}
    loop = asyncio.get_running_loop()
    try:
        while queue or tasks:
            while queue and len(tasks) < max(1, options.window):
                want = queue.popleft()
                tasks[loop.create_task(_get(blocks, want[0], options, bucket))] = want
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                child_cid, expected, depth = tasks.pop(task)
                data = task.result()
                total += len(data)
                if total > limit:
                    raise CapExceededError(f"{cid}: the DAG exceeds {limit} bytes")
                if depth > unixfs.MAX_DEPTH:
                    raise CapExceededError(f"{cid}: DAG deeper than {unixfs.MAX_DEPTH} levels")
                try:
                    child = unixfs.decode_file_node(child_cid, data)
                except StorageError as exc:
                    raise CapExceededError(f"{child_cid} is not a UnixFS file: {exc}") from exc
                if child.filesize != expected:
                    raise CapExceededError(
                        f"{child_cid} holds {child.filesize} bytes, its parent declares {expected}"
                    )
                queue.extend((c, s, depth + 1) for c, s in child.children)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task
    return node.filesize


async def _get(blocks: BlockSource, cid: CID, options: FetchOptions, bucket: TokenBucket) -> bytes:
    try:
        data = await blocks.get_block(cid, options.block_timeout_s)
    except BlockNotFoundError as exc:
        raise FetchFailedError(f"block {cid} is not available: {exc}") from exc
    except StorageError as exc:
        raise FetchFailedError(f"fetching block {cid} failed: {exc}") from exc
    await bucket.take(len(data))
    return data


async def read_manifest(
    blocks: BlockSource,
    manifest_cid: str,
    creator: str,
    *,
    bucket: TokenBucket,
    options: FetchOptions,
) -> ClipContent:
    """Fetch and check a post's manifest; the CIDs and declared sizes of its content."""
    size = await fetch_dag(
        blocks, manifest_cid, size=None, cap=MAX_MANIFEST_BYTES, bucket=bucket, options=options
    )
    data = await _read_local(blocks, parse_cid(manifest_cid), size)
    try:
        manifest = decode_manifest(data)
    except ManifestError as exc:
        raise BadManifestError(f"manifest {manifest_cid} is invalid: {exc}") from exc
    if manifest.creator.lower() != creator.lower():
        raise BadManifestError(
            f"manifest {manifest_cid} names creator {manifest.creator}, the post {creator}"
        )
    cids = (manifest_cid, manifest.poster.cid, *(r.cid for r in manifest.renditions))
    sizes = (size, manifest.poster.size, *(r.size for r in manifest.renditions))
    return ClipContent(manifest, cids, sizes)


async def _read_local(blocks: BlockSource, root: CID, size: int) -> bytes:
    """The file's bytes from blocks already fetched (fetch_dag checked the structure)."""
    out = bytearray()

    async def walk(cid: CID) -> None:
        node = unixfs.decode_file_node(cid, await blocks.get_block(cid))
        out.extend(node.data)
        for child, _ in node.children:
            await walk(child)

    await walk(root)
    if len(out) != size:
        raise CapExceededError(f"{root} holds {len(out)} bytes, expected {size}")
    return bytes(out)
