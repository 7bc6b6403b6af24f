"""Test support for code built on ``peer.gating`` (used by its tests and the benchmark):
store a small premium clip (random plaintext, encrypted renditions, canonical manifest)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from storage import crypto
from storage.crypto import ClipKey, StreamParams
from storage.media.manifest import Encryption, Manifest, PosterRef, RenditionRef, encode_manifest
from storage.ports import ContentStore


@dataclass(frozen=True, slots=True)
class PremiumClip:
    manifest_cid: str
    key: ClipKey
    plaintexts: dict[str, bytes]
    """Rendition name (``<short side>p``, e.g. ``720p``) -> plaintext bytes."""


async def store_premium_clip(
    store: ContentStore,
    creator: str,
    sizes: tuple[int, ...] = (150_000, 40_000),
    chunk_size: int = 4096,
) -> PremiumClip:
    """Encrypt random renditions of the given sizes under a fresh key and add them."""
    key = ClipKey.generate()
    poster = await store.add_bytes(os.urandom(500))
    heights = (1280, 854, 640, 480)
    renditions = []
    plaintexts = {}
    for size, height in zip(sizes, heights, strict=False):
        plain = os.urandom(size)
        params = StreamParams.generate(chunk_size)
        cipher = crypto.encrypt(key, params, plain)
        cid = await store.add_bytes(cipher)
        rendition = RenditionRef(
            str(cid),
            "video/mp4",
            "avc1.64001f,mp4a.40.2",
            height * 9 // 16,
            height,
            500_000,
            len(cipher),
            params.nonce_prefix,
        )
        renditions.append(rendition)
        plaintexts[rendition.name] = plain
    manifest = Manifest(
        creator=creator,
        duration_ms=3000,
        poster=PosterRef(str(poster), "image/jpeg", 90, 160, 500),
        renditions=tuple(renditions),
        encryption=Encryption(chunk_size=chunk_size),
    )
    cid = await store.add_bytes(encode_manifest(manifest))
    return PremiumClip(str(cid), key, plaintexts)
