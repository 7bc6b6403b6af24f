"""Decrypted playback of premium renditions with Range support.

``decrypted_media(...)`` returns a :class:`DecryptedMedia` (size, MIME type, range reads that
fetch and decrypt only the chunks a range touches) or raises :class:`LockedError` carrying the
unlock requirements (token, minimum balance, the viewer's balance, the TOK cost of the
difference). ``peer.gating.http`` turns it into an aiohttp response (206/416).

Keys are looked up in the creator's own clip-key store first (a creator plays her own clips),
then in the holder's released-key cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from storage import crypto
from storage.crypto import ClipKey
from storage.errors import ClipKeyNotFoundError
from storage.media.manifest import Manifest, RenditionRef
from storage.media.playback import plaintext_size, read_plaintext_range
from storage.ports import ContentStore
from tokens.errors import ChainError
from tokens.ownership import OwnershipChecker

from .errors import LockedError, NotPremiumError, Requirements, UnknownRenditionError
from .ports import GatedPost, KeySource, Quoter
from .unlocker import load_manifest

READ_PIECE = 1024 * 1024
"""Plaintext bytes decrypted per read when streaming a range."""


def pick_rendition(manifest: Manifest, name: str) -> RenditionRef:
    """A rendition by name (:attr:`RenditionRef.name`, ``720p`` for 720x1280; the API's clip
    route uses the same names) or its index in the manifest (``0``)."""
    if name.isdigit() and len(name) <= 2:
        index = int(name)
        if index < len(manifest.renditions):
            return manifest.renditions[index]
    else:
        for rendition in manifest.renditions:
            if rendition.name == name:
                return rendition
    names = ", ".join(r.name for r in manifest.renditions)
    raise UnknownRenditionError(f"no rendition {name!r}; this clip has {names}")


@dataclass(frozen=True, slots=True)
class DecryptedMedia:
    """One premium rendition, readable as plaintext by byte range."""

    store: ContentStore
    manifest: Manifest
    rendition: RenditionRef
    key: ClipKey

    @property
    def size(self) -> int:
        return plaintext_size(self.manifest, self.rendition)

    @property
    def mime(self) -> str:
        return self.rendition.mime

    async def read(self, start: int, end: int) -> bytes:
        """Plaintext ``[start, end)`` (clamped to the size)."""
        return await read_plaintext_range(
            self.store, self.manifest, self.rendition, self.key, start, end
        )

    async def iter_range(
        self, start: int, end: int, piece: int = READ_PIECE
    ) -> AsyncIterator[bytes]:
        """Plaintext ``[start, end)`` in pieces cut on encryption-chunk boundaries."""
        chunk = self.manifest.stream_params(self.rendition).chunk_size
        piece = max(chunk, piece - piece % chunk)
        end = min(end, self.size)
        pos = start
        while pos < end:
            stop = min(end, (pos // chunk) * chunk + piece)
            yield await self.read(pos, stop)
            pos = stop


async def requirements(
    post: GatedPost,
    viewer: str | None,
    checker: OwnershipChecker | None,
    quoter: Quoter | None,
    key_servers: Sequence[str] = (),
) -> Requirements:
    """What ``viewer`` needs for ``post``; chain failures leave the balance unknown."""
    balance = missing = cost = None
    if viewer is not None and checker is not None:
        try:
            balance = (await checker.holding(post.token, viewer)).effective
            missing = max(0, post.min_balance - balance)
            if missing and quoter is not None:
                cost = (await quoter.quote_buy(post.token, missing)).total
        except ChainError:
            pass
    return Requirements(
        post_id="0x" + post.post_id.hex(),
        creator=post.creator,
        token=post.token,
        min_balance=post.min_balance,
        balance=balance,
        missing=missing,
        quote_buy=cost,
        key_servers=tuple(key_servers),
    )


async def find_key(post: GatedPost, sources: Sequence[KeySource]) -> ClipKey | None:
    for source in sources:
        try:
            return await asyncio.to_thread(source.get, post.manifest)
        except ClipKeyNotFoundError:
            continue
    return None


async def decrypted_media(
    post: GatedPost,
    rendition: str,
    store: ContentStore,
    keys: Sequence[KeySource],
    *,
    viewer: str | None = None,
    checker: OwnershipChecker | None = None,
    quoter: Quoter | None = None,
    key_servers: Sequence[str] = (),
) -> DecryptedMedia:
    """Open a premium rendition for playback, or raise :class:`LockedError`.

    ``keys``: the creator's clip-key store and the released-key cache (in that order).
    ``viewer``/``checker``/``quoter`` only fill the requirements of a LockedError.
    """
    if not post.premium:
        raise NotPremiumError("the post is free: play its renditions from /ipfs/<cid>")
    manifest = await load_manifest(store, post.manifest)
    if not manifest.premium:
        raise NotPremiumError("the clip's manifest is not encrypted")
    ref = pick_rendition(manifest, rendition)
    key = await find_key(post, keys)
    if key is None:
        servers = list(key_servers) or list(post.key_servers)
        raise LockedError(await requirements(post, viewer, checker, quoter, servers))
    crypto.plaintext_size(ref.size, manifest.stream_params(ref).chunk_size)
    return DecryptedMedia(store, manifest, ref, key)
