"""Publish a clip: probe -> transcode -> (encrypt) -> add + pin -> manifest.

:class:`ClipPublisher` gets its store, key store and settings from the composition root. Every
step runs off the event loop (ffmpeg in a subprocess, file reads and encryption in worker
threads, the store's own threads). If anything fails or the task is cancelled, the temporary
transcode directory is removed and every pin this run created is removed again (pins that
existed before, e.g. from publishing the same file earlier, are left alone).

Each file is added and pinned in one step (``pin=True``: its blocks are never collectable
between the add and the pin). Its CID is computed first (the importer is pure; premium
renditions are encrypted twice with the same key and nonces, which is deterministic), so a
pin this run is about to create is handed to the caller's ``journal`` *before* it exists: a
run killed at any point leaves no pin that the journal does not name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Final

from eth_utils.address import is_checksum_address

from storage import unixfs
from storage.cid import CID
from storage.clipkeys import ClipKeyStore
from storage.crypto import DEFAULT_CHUNK_SIZE, ClipKey, StreamEncryptor, StreamParams
from storage.media.errors import ManifestError, MediaError
from storage.media.manifest import (
    Encryption,
    Manifest,
    PosterRef,
    RenditionRef,
    encode_manifest,
)
from storage.media.probe import ProbeLimits, probe
from storage.media.progress import Progress, ProgressCallback, Stage
from storage.media.tools import ToolOptions
from storage.media.transcode import Transcoded, TranscodeOptions, transcode
from storage.ports import ContentStore

_READ_SIZE: Final = 1024 * 1024

PinJournalHook = Callable[[CID], Awaitable[None]]
"""Called with a CID just before this run creates a pin on it (write-ahead)."""


async def _no_journal(_cid: CID) -> None:
    return None


@dataclass(frozen=True, slots=True)
class MediaSettings:
    """Everything the pipeline is configured with (built by the composition root)."""

    work_dir: Path
    """Parent of the temporary transcode directories (e.g. ``<data>/store/tmp``)."""
    limits: ProbeLimits = field(default_factory=ProbeLimits)
    transcode: TranscodeOptions = field(default_factory=TranscodeOptions)
    tools: ToolOptions = field(default_factory=ToolOptions)
    chunk_size: int = DEFAULT_CHUNK_SIZE
    """Plaintext chunk size of premium encryption."""


@dataclass(frozen=True, slots=True)
class PublishedClip:
    """The outcome of a publish: the pinned manifest and where the time went."""

    manifest_cid: CID
    manifest: Manifest
    manifest_bytes: bytes
    timings: dict[str, float]
    """Seconds per stage: probe, transcode, encrypt, add, manifest, total."""


class ClipPublisher:
    """Turns input files into pinned clip manifests."""

    def __init__(
        self,
        store: ContentStore,
        settings: MediaSettings,
        keys: ClipKeyStore | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._keys = keys

    async def publish(
        self,
        path: Path,
        *,
        creator: str,
        premium: bool = False,
        progress: ProgressCallback | None = None,
        journal: PinJournalHook | None = None,
    ) -> PublishedClip:
        """Publish the video at ``path`` for ``creator`` (a checksummed address).

        ``journal`` is told each pin this run is about to create, before it exists.
        """
        if not is_checksum_address(creator):
            raise ManifestError("the creator must be a checksummed 0x address")
        if premium and self._keys is None:
            raise MediaError("premium clips need the clip-key store: unlock the wallet first")
        report: ProgressCallback = progress or (lambda _p: None)
        s = self._settings
        timings: dict[str, float] = {}
        started = time.perf_counter()

        report(Progress(Stage.PROBE, 0, 1))
        info = await probe(path, limits=s.limits, tools=s.tools)
        timings["probe"] = time.perf_counter() - started
        report(Progress(Stage.PROBE, 1, 1))

        t0 = time.perf_counter()
        result = await transcode(
            info, s.work_dir, options=s.transcode, tools=s.tools, progress=report
        )
        timings["transcode"] = time.perf_counter() - t0
        pins = _RunPins(journal or _no_journal)
        try:
            published = await self._store_all(result, creator, premium, report, timings, pins)
        except BaseException:
            await asyncio.shield(self._unpin(pins.created))
            raise
        finally:
            await asyncio.shield(asyncio.to_thread(result.cleanup))
        timings["total"] = time.perf_counter() - started
        report(Progress(Stage.DONE, 1, 1))
        return published

    async def _store_all(
        self,
        result: Transcoded,
        creator: str,
        premium: bool,
        report: ProgressCallback,
        timings: dict[str, float],
        pins: _RunPins,
    ) -> PublishedClip:
        total = sum(r.size for r in result.renditions) + result.poster.size
        done = 0
        timings["encrypt"] = 0.0
        t_add = time.perf_counter()

        rendition_stage = Stage.ENCRYPT if premium else Stage.ADD

        def on_bytes(base: int, stage: Stage = Stage.ADD) -> Callable[[int, int | None], None]:
            return lambda n, _total: report(Progress(stage, base + n, total))

        key = ClipKey.generate() if premium else None
        refs: list[RenditionRef] = []
        for r in result.renditions:
            if key is None:
                cid = await self._add_file(r.path, on_bytes(done), pins)
                size, prefix = r.size, None
            else:
                params = StreamParams.generate(self._settings.chunk_size)
                cid, size, seconds = await self._add_encrypted(
                    r.path, key, params, on_bytes(done, rendition_stage), pins
                )
                timings["encrypt"] += seconds
                prefix = params.nonce_prefix
            done += r.size
            refs.append(
                RenditionRef(str(cid), r.mime, r.codecs, r.width, r.height, r.bitrate, size, prefix)
            )
        p = result.poster
        poster_cid = await self._add_file(p.path, on_bytes(done), pins)
        timings["add"] = time.perf_counter() - t_add - timings["encrypt"]

        t_manifest = time.perf_counter()
        report(Progress(Stage.MANIFEST, 0, 1))
        manifest = Manifest(
            creator=creator,
            duration_ms=result.duration_ms,
            poster=PosterRef(str(poster_cid), p.mime, p.width, p.height, p.size),
            renditions=tuple(refs),
            encryption=Encryption(chunk_size=self._settings.chunk_size) if premium else None,
        )
        data = encode_manifest(manifest)
        expected = unixfs.import_bytes(data)[0]
        await self._journal_if_new(expected, pins)
        manifest_cid = await self._store.add_bytes(data, pin=True)
        self._check_cid(expected, manifest_cid, pins)
        if key is not None:
            assert self._keys is not None
            await asyncio.to_thread(self._keys.put, str(manifest_cid), key)
        timings["manifest"] = time.perf_counter() - t_manifest
        report(Progress(Stage.MANIFEST, 1, 1))
        return PublishedClip(manifest_cid, manifest, data, timings)

    async def _journal_if_new(self, cid: CID, pins: _RunPins) -> None:
        """Before adding ``cid`` with a pin: if it is not pinned yet, the pin will be ours, so
        tell the journal (write-ahead) and remember it for rollback. A rollback must never
        remove a pin that existed before (e.g. from publishing the same file earlier)."""
        if not await self._store.is_pinned(cid):
            await pins.journal(cid)
            pins.created.append(cid)

    @staticmethod
    def _check_cid(expected: CID, got: CID, pins: _RunPins) -> None:
        if got != expected:  # the store imports differently from our importer: roll back
            pins.created.append(got)
            raise MediaError(f"the store stored {got} where {expected} was computed")

    async def _add_file(
        self, path: Path, progress: Callable[[int, int | None], None], pins: _RunPins
    ) -> CID:
        expected = await asyncio.to_thread(_file_cid, path)
        await self._journal_if_new(expected, pins)
        cid = await self._store.add_file(path, progress, pin=True)
        self._check_cid(expected, cid, pins)
        return cid

    async def _add_encrypted(
        self,
        path: Path,
        key: ClipKey,
        params: StreamParams,
        progress: Callable[[int, int | None], None],
        pins: _RunPins,
    ) -> tuple[CID, int, float]:
        """Encrypt ``path`` on the fly into the store (no ciphertext file on disk); return
        (CID, ciphertext size, seconds spent encrypting)."""
        counters = _Counters()

        def chunks(count: bool) -> AsyncIterator[bytes]:
            enc = StreamEncryptor(key, params)  # same key and nonces: the same ciphertext

            def step(fh: BinaryIO) -> tuple[bytes, bool]:
                data = fh.read(_READ_SIZE)
                t = time.perf_counter()
                out = enc.update(data) if data else enc.finalize()
                if count:
                    counters.encrypt_s += time.perf_counter() - t
                    counters.read += len(data)
                    counters.written += len(out)
                return out, not data

            async def generate() -> AsyncIterator[bytes]:
                fh = await asyncio.to_thread(open, path, "rb")
                try:
                    while True:
                        out, last = await asyncio.to_thread(step, fh)
                        if count:
                            progress(counters.read, None)
                        if out:
                            yield out
                        if last:
                            return
                finally:
                    await asyncio.to_thread(fh.close)

            return generate()

        importer = unixfs.FileImporter()
        async for piece in chunks(count=False):
            await asyncio.to_thread(importer.write, piece)
        expected = importer.finish()[0]
        await self._journal_if_new(expected, pins)
        cid = await self._store.add_stream(chunks(count=True), pin=True)
        self._check_cid(expected, cid, pins)
        return cid, counters.written, counters.encrypt_s

    async def _unpin(self, cids: list[CID]) -> None:
        for cid in cids:
            try:
                await self._store.unpin(cid)
            except Exception:  # noqa: S112 - best-effort rollback; the original error wins
                continue


def _file_cid(path: Path) -> CID:
    """The CID ``add_file`` gives ``path`` (CIDv1, raw leaves), computed without storing."""
    importer = unixfs.FileImporter()
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ_SIZE):
            importer.write(chunk)
    return importer.finish()[0]


@dataclass(slots=True)
class _RunPins:
    """The pins one run creates (for rollback) and where it announces them first."""

    journal: PinJournalHook
    created: list[CID] = field(default_factory=list)


@dataclass(slots=True)
class _Counters:
    read: int = 0
    written: int = 0
    encrypt_s: float = 0.0
