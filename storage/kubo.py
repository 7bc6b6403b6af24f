"""The Kubo backend of ``ContentStore``: a user's Kubo / IPFS Desktop over its RPC API.

Speaks ``/api/v0`` through ``ipfshttpclient`` (synchronous: every call runs in a worker
thread). ``ipfshttpclient.connect()`` refuses daemons newer than it knows, so we construct
``Client(addr)`` directly (which skips the version gate) and check reachability ourselves with
``id``. Used when ``storage.backend = kubo``; ``KuboContentStore.connect(api)`` fails with
:class:`~storage.errors.KuboUnreachableError` when nothing answers at the configured multiaddr.

Adds use ``ipfs add`` with 256 KiB chunks (and ``--cid-version=1`` for CIDv1: raw leaves), so
CIDs are the same as the embedded store's. Reads do not trust the daemon: they fetch blocks
with ``block/get`` and walk the DAG with our own exporter, verifying every block against its
CID, so a range read touches only the blocks it needs. A block the daemon cannot produce within
``read_timeout`` raises :class:`~storage.errors.ContentUnavailableError` (the daemon may be
searching the network for it).

Error translation: connection failures -> ``KuboUnreachableError``; RPC errors ->
``KuboRPCError`` (``NotPinnedError`` for an unpin of something not pinned).
"""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import ipfshttpclient
import ipfshttpclient.exceptions as kubo_errors

from storage import unixfs
from storage.cid import CID, DAG_PB, RAW, parse_cid
from storage.dagpb import decode_node
from storage.errors import (
    ContentUnavailableError,
    InvalidRangeError,
    KuboRPCError,
    KuboUnreachableError,
    NotPinnedError,
    StorageError,
    StoreIOError,
)
from storage.ports import (
    ContentStat,
    ContentStore,
    GcResult,
    Pin,
    PinKind,
    ProgressCallback,
    StoreUsage,
)

T = TypeVar("T")
_DONE = object()
CHUNKER = f"size-{unixfs.CHUNK_SIZE}"


@dataclass(frozen=True, slots=True)
class KuboOptions:
    """Settings of the Kubo backend."""

    # Seconds one RPC call may take (adds of large files get `add_timeout`).
    call_timeout: float = 30.0
    add_timeout: float = 600.0
    # Seconds to wait for one block the daemon does not have locally (it may search the
    # network) before ContentUnavailableError.
    read_timeout: float = 30.0


class KuboContentStore:
    """:class:`~storage.ports.ContentStore` over a Kubo RPC API."""

    def __init__(self, api: str, options: KuboOptions | None = None) -> None:
        self.api = api
        self.options = options or KuboOptions()
        try:
            self._client = ipfshttpclient.Client(api, timeout=self.options.call_timeout)
        except kubo_errors.Error as exc:
            raise KuboUnreachableError(f"invalid Kubo API address {api!r}: {exc}") from exc

    @classmethod
    async def connect(cls, api: str, options: KuboOptions | None = None) -> KuboContentStore:
        """A store for the daemon at ``api``, after checking that it answers."""
        store = cls(api, options)
        await store.health()
        return store

    async def health(self) -> dict[str, Any]:
        """``{"backend": "kubo", "api", "peer_id", "agent"}``; raises if unreachable."""
        info = await self._run(self._client.id)
        return {
            "backend": "kubo",
            "api": self.api,
            "peer_id": info.get("ID", ""),
            "agent": info.get("AgentVersion", ""),
        }

    # -- add
    async def add_file(
        self,
        path: Path | str,
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        """``ipfs add`` a local file (streamed by the client)."""
        size, cid = await self._run(self._add_path, Path(path), cid_version, pin)
        if progress is not None:
            progress(size, size)
        return cid

    def _add_path(self, path: Path, cid_version: int, pin: bool) -> tuple[int, CID]:
        try:
            handle = path.open("rb")
            size = os.fstat(handle.fileno()).st_size
        except OSError as exc:
            raise StoreIOError(f"cannot read {path}: {exc.strerror or exc}") from exc
        with handle:
            return size, self._add(handle, cid_version, pin)

    async def add_bytes(self, data: bytes, *, cid_version: int = 1, pin: bool = True) -> CID:
        """``ipfs add`` a byte string."""
        return await self._run(self._add, io.BytesIO(data), cid_version, pin)

    async def add_stream(
        self,
        chunks: AsyncIterable[bytes],
        progress: ProgressCallback | None = None,
        *,
        cid_version: int = 1,
        pin: bool = True,
    ) -> CID:
        """Spool the stream to a temporary file (bounded memory), then ``ipfs add`` it."""
        with tempfile.NamedTemporaryFile(prefix="toktok-add-") as spool:
            size = 0
            async for chunk in chunks:
                await asyncio.to_thread(spool.write, chunk)
                size += len(chunk)
                if progress is not None:
                    progress(size, None)
            spool.seek(0)
            return await self._run(self._add, spool, cid_version, pin)

    def _add(self, handle: BinaryIO, cid_version: int, pin: bool) -> CID:
        options: dict[str, Any] = {
            "chunker": CHUNKER,
            "pin": pin,
            "timeout": self.options.add_timeout,
        }
        if cid_version == 1:
            options.update(cid_version=1, raw_leaves=True)
        elif cid_version != 0:
            raise StorageError(f"CID version must be 0 or 1, not {cid_version}")
        result = self._client.add(handle, **options)
        return CID.parse(result["Hash"])

    # -- read (every block verified here)
    async def open(self, cid: CID | str) -> AsyncIterator[bytes]:
        """Stream the file block by block."""
        pieces = unixfs.iter_range(self._get_block, parse_cid(cid))
        while True:
            piece = await self._run(next, pieces, _DONE)
            if piece is _DONE:
                return
            assert isinstance(piece, bytes)
            yield piece

    async def read_range(self, cid: CID | str, start: int, end: int) -> bytes:
        """Bytes ``[start, end)``, fetching only the blocks needed."""
        if start < 0 or end < start:
            raise InvalidRangeError(f"invalid byte range [{start}, {end})")
        return await self._run(unixfs.read_range, self._get_block, parse_cid(cid), start, end)

    def _get_block(self, cid: CID) -> bytes:
        try:
            data = self._client.block.get(str(cid), timeout=self.options.read_timeout)
        except kubo_errors.TimeoutError as exc:
            raise ContentUnavailableError(
                f"Kubo at {self.api} did not produce block {cid} within "
                f"{self.options.read_timeout:g} s (not local, not found on its network)",
                str(cid),
            ) from exc
        data = bytes(data)
        cid.verify(data)
        return data

    async def stat(self, cid: CID | str) -> ContentStat:
        """Size, blocks and cumulative size from walking the DAG's dag-pb nodes."""
        return await self._run(self._stat, parse_cid(cid))

    def _stat(self, root: CID) -> ContentStat:
        block = self._get_block(root)
        size = unixfs.decode_file_node(root, block).filesize
        blocks, cumulative = 0, 0
        local = True
        stack: list[tuple[CID, int | None]] = [(root, None)]
        seen: set[bytes] = set()
        while stack:
            cid, tsize = stack.pop()
            if cid.multihash in seen:
                continue
            seen.add(cid.multihash)
            blocks += 1
            if cid.codec == RAW and tsize is not None:
                cumulative += tsize
                local = local and self._has(cid)
                continue
            data = block if cid == root else self._get_block(cid)
            cumulative += len(data)
            if cid.codec == DAG_PB:
                stack.extend((link.cid, link.tsize) for link in decode_node(data).links)
        return ContentStat(root, size, cumulative, blocks, local)

    def _has(self, cid: CID) -> bool:
        try:
            self._client.block.stat(str(cid), timeout=min(self.options.read_timeout, 2.0))
        except kubo_errors.TimeoutError:
            return False
        return True

    # -- pins
    async def pin(self, cid: CID | str, *, recursive: bool = True) -> None:
        """``ipfs pin add`` (the daemon fetches missing blocks itself)."""
        await self._run(
            self._client.pin.add,
            str(parse_cid(cid)),
            recursive=recursive,
            timeout=self.options.add_timeout,
        )

    async def unpin(self, cid: CID | str) -> None:
        """``ipfs pin rm``; :class:`NotPinnedError` if not pinned."""
        target = parse_cid(cid)
        if not await self.is_pinned(target):
            raise NotPinnedError(f"{target} is not pinned")
        await self._run(self._client.pin.rm, str(target))

    async def is_pinned(self, cid: CID | str) -> bool:
        """True if ``cid`` carries a direct or recursive pin."""
        target = parse_cid(cid)
        return any(pin.cid.multihash == target.multihash for pin in await self.pins())

    async def pins(self) -> list[Pin]:
        """Direct and recursive pins, sorted by CID string."""
        listing = await self._run(self._client.pin.ls)
        out = [
            Pin(CID.parse(key), PinKind(value["Type"]))
            for key, value in dict(listing.get("Keys", {})).items()
            if value.get("Type") in ("direct", "recursive")
        ]
        return sorted(out, key=lambda pin: str(pin.cid))

    # -- stats and GC
    async def usage(self) -> StoreUsage:
        """``ipfs repo stat`` plus the pin count."""
        stat = await self._run(self._client.repo.stat)
        pins = await self.pins()
        return StoreUsage(int(stat["NumObjects"]), int(stat["RepoSize"]), len(pins))

    async def gc(self) -> GcResult:
        """``ipfs repo gc``."""
        before = int((await self._run(self._client.repo.stat))["RepoSize"])
        removed = await self._run(
            lambda: list(self._client.repo.gc(timeout=self.options.add_timeout))
        )
        after = int((await self._run(self._client.repo.stat))["RepoSize"])
        errors = [r["Error"] for r in removed if isinstance(r, dict) and r.get("Error")]
        if errors:
            raise KuboRPCError(f"Kubo GC reported: {errors[0]}")
        return GcResult(len(removed), max(before - after, 0))

    # -- plumbing
    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(self._translate, fn, *args, **kwargs)

    def _translate(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except kubo_errors.ConnectionError as exc:
            raise KuboUnreachableError(
                f"the Kubo RPC API at {self.api} is unreachable ({exc}); start the daemon "
                "('ipfs daemon' or IPFS Desktop) or fix storage.kubo_api in the config"
            ) from exc
        except kubo_errors.TimeoutError as exc:
            raise ContentUnavailableError(f"Kubo at {self.api} timed out: {exc}") from exc
        except kubo_errors.Error as exc:
            raise KuboRPCError(f"Kubo at {self.api} refused the call: {exc}") from exc


def _check_protocol(store: KuboContentStore) -> ContentStore:
    return store  # mypy proves KuboContentStore satisfies the port
