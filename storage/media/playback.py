"""Reading premium renditions back: verify a key, decrypt any byte range through the store.

Used by the holder side (a key received from a key server is checked on the first chunk before
it is cached) and by the local HTTP content server (range requests on decrypted media). Only
the ciphertext chunks a range touches are fetched, and each is authenticated before use.
"""

from __future__ import annotations

from storage import crypto
from storage.crypto import ClipKey
from storage.media.manifest import Manifest, RenditionRef
from storage.ports import ContentStore


def plaintext_size(manifest: Manifest, rendition: RenditionRef) -> int:
    """Size of the decrypted rendition."""
    params = manifest.stream_params(rendition)
    return crypto.plaintext_size(rendition.size, params.chunk_size)


async def read_plaintext_range(
    store: ContentStore,
    manifest: Manifest,
    rendition: RenditionRef,
    key: ClipKey,
    start: int,
    end: int,
) -> bytes:
    """Decrypted bytes ``[start, end)`` of a premium rendition (``end`` clamped to its size).

    Raises :class:`storage.errors.DecryptionError` for a wrong key or modified content.
    """
    params = manifest.stream_params(rendition)
    rng = crypto.cipher_range(rendition.size, start, end, params.chunk_size)
    if rng is None:
        return b""
    data = await store.read_range(rendition.cid, rng.cipher_start, rng.cipher_end)
    return crypto.open_range(key, params, rendition.size, rng, data)


async def verify_key(
    store: ContentStore, manifest: Manifest, key: ClipKey, rendition: RenditionRef | None = None
) -> None:
    """Check ``key`` by decrypting the first chunk of a rendition (the smallest by default).

    Returns quietly if the key opens it; raises :class:`storage.errors.DecryptionError` if not.
    """
    target = rendition or min(manifest.renditions, key=lambda r: r.size)
    await read_plaintext_range(store, manifest, target, key, 0, 1)
