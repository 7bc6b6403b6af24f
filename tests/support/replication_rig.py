"""Builders for the replication unit tests: clips in a "remote" store, a service over fakes."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from peer.bus import Event
from peer.replication.fetcher import FetchOptions
from peer.replication.service import ReplicationOptions, ReplicationService
from peer.replication.state import ReplicationState, WantedPost
from peer.replication.testing import MemoryWants, NetworkBlocks
from storage.crypto import ciphertext_size
from storage.embedded import EmbeddedContentStore
from storage.media.manifest import (
    Encryption,
    Manifest,
    PosterRef,
    RenditionRef,
    encode_manifest,
)

CREATOR = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
ME = "0xAb8483F64d9C6d1EcF9b849Ae677dD3315835cb2"


@dataclass(frozen=True)
class Clip:
    post: WantedPost
    cids: tuple[str, ...]
    size: int


async def add_clip(
    remote: EmbeddedContentStore,
    post_id: str,
    created_at: int,
    rendition_sizes: tuple[int, ...] = (3000, 2000),
    *,
    creator: str = CREATOR,
    premium: bool = False,
    declared: Callable[[int], int] = lambda n: n,
) -> Clip:
    """A clip with random poster and renditions in ``remote``; its post wanted by nobody yet."""
    poster_bytes = os.urandom(500)
    poster = await remote.add_bytes(poster_bytes)
    renditions = []
    for i, size in enumerate(rendition_sizes):
        cid = await remote.add_bytes(os.urandom(size))
        renditions.append(
            RenditionRef(
                str(cid), "video/mp4", "avc1.64001f", 480 + i, 854, 400_000, declared(size)
            )
        )
    manifest = Manifest(
        creator=creator,
        duration_ms=1000,
        poster=PosterRef(str(poster), "image/jpeg", 180, 320, len(poster_bytes)),
        renditions=tuple(renditions),
    )
    if premium:
        manifest = replace(
            manifest,
            renditions=tuple(
                replace(r, size=ciphertext_size(r.size), nonce_prefix=bytes([i]) * 7)
                for i, r in enumerate(manifest.renditions)
            ),
            encryption=Encryption(),
        )
        # The stored renditions must then be exactly the declared (ciphertext) sizes.
        fixed = []
        for r in manifest.renditions:
            fixed.append(replace(r, cid=str(await remote.add_bytes(os.urandom(r.size)))))
        manifest = replace(manifest, renditions=tuple(fixed))
    data = encode_manifest(manifest)
    manifest_cid = str(await remote.add_bytes(data))
    cids = (manifest_cid, manifest.poster.cid, *(r.cid for r in manifest.renditions))
    size = len(data) + manifest.poster.size + sum(r.size for r in manifest.renditions)
    return Clip(WantedPost(post_id, creator, manifest_cid, created_at), cids, size)


@dataclass
class Rig:
    """A replication service over in-memory stores and hand-set wants."""

    tmp: Path
    local: EmbeddedContentStore
    remote: EmbeddedContentStore
    blocks: NetworkBlocks
    wants: MemoryWants
    events: list[Event]
    now: list[float]
    service: ReplicationService | None = None
    state: ReplicationState | None = None

    def build(self, budget: int, **options: object) -> ReplicationService:
        if self.state is not None:
            self.state.close()
        self.state = ReplicationState(self.tmp / "replication.sqlite")
        self.service = ReplicationService(
            ReplicationOptions(
                budget_bytes=budget,
                fetch=FetchOptions(block_timeout_s=1.0),
                **options,  # type: ignore[arg-type]
            ),
            self.state,
            self.wants,
            self.blocks,
            self.local,
            me=lambda: ME,
            publish=self.events.append,
            clock=lambda: self.now[0],
        )
        return self.service

    async def pinned(self, clip: Clip) -> bool:
        return all([await self.local.is_pinned(cid) for cid in clip.cids])

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]
