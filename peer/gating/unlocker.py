"""The holder side: ask a post's key servers for its clip key, verify it, cache it encrypted.

Composition (the composition root does this)::

    released = ClipKeyStore(data / "keys" / "released", wallet_passphrase)
    unlocker = Unlocker(
        network=host, account=wallet_account, chain_id=31337,
        cache=released, store=content_store, profiles=profile_source,
    )
    key = await unlocker.unlock(post)      # GatedPost; cached keys are returned at once
    results = await unlocker.unlock_many(posts)

Key servers are asked in the normative order: the post's ``keyServers``, then the creator's
profile ``keyServers`` (duplicates dropped). An entry is a peer id (dialled through the
host's peer store) or a multiaddr ending in ``/p2p/<peer id>`` (connected first).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_account.signers.local import LocalAccount

from peer.p2p.errors import P2PError
from peer.p2p.ports import Network
from storage.crypto import ClipKey
from storage.errors import ClipKeyNotFoundError, StorageError
from storage.media.errors import MediaError
from storage.media.manifest import MAX_MANIFEST_BYTES, Manifest, decode_manifest
from storage.media.playback import verify_key
from storage.ports import ContentStore
from tokens import siwe

from . import protocol as proto
from .errors import (
    GatingError,
    KeyRefusedError,
    KeyVerificationError,
    NoKeyServerError,
    NotPremiumError,
    ProtocolError,
    SealError,
    UnlockFailedError,
)
from .ports import GatedPost, KeyCache, ProfileKeyServers

log = logging.getLogger(__name__)

TRY_NEXT = frozenset(
    {"no_key", "unknown_post", "internal", "rate_limited", "chain_unavailable", "nonce"}
)
"""Refusals after which the next key server is asked; any other refusal is final."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """A key request waiting for its signature: the EIP-4361 text for ``holder`` and the
    ephemeral key the sealed answer will be opened with (never leaves the peer)."""

    post: GatedPost
    server: str  # the key server's peer id
    holder: str
    message: str
    ephemeral: X25519PrivateKey


@dataclass(frozen=True, slots=True)
class UnlockResult:
    post_id: bytes
    key: ClipKey | None
    error: GatingError | None


async def load_manifest(store: ContentStore, cid: str) -> Manifest:
    """Fetch and decode a clip manifest (translated errors)."""
    try:
        data = await store.read_range(cid, 0, MAX_MANIFEST_BYTES + 1)
        return decode_manifest(data)
    except (StorageError, MediaError) as exc:
        raise GatingError(f"cannot read the manifest {cid}: {exc}") from exc


class Unlocker:
    def __init__(
        self,
        network: Network,
        account: LocalAccount | None,
        chain_id: int,
        cache: KeyCache,
        store: ContentStore,
        profiles: ProfileKeyServers | None = None,
        *,
        clock: Callable[[], float] = time.time,
        timeout: float = 10.0,
    ) -> None:
        self._network = network
        self._account = account
        self._chain_id = chain_id
        self._cache = cache
        self._store = store
        self._profiles = profiles
        self._clock = clock
        self._timeout = timeout

    @property
    def address(self) -> str:
        if self._account is None:
            raise GatingError("no wallet of this peer to sign with")
        return str(self._account.address)

    async def cached(self, post: GatedPost) -> ClipKey | None:
        """The cached key of the post's clip, if any."""
        try:
            return await asyncio.to_thread(self._cache.get, post.manifest)
        except ClipKeyNotFoundError:
            return None

    async def key_servers(self, post: GatedPost) -> list[str]:
        servers = list(post.key_servers)
        if self._profiles is not None:
            servers += await self._profiles.profile_key_servers(post.creator)
        return list(dict.fromkeys(s for s in servers if s and s != self._network.peer_id))

    async def unlock(self, post: GatedPost) -> ClipKey:
        """The clip key: from the cache, else from the first key server that releases it."""
        if not post.premium:
            raise NotPremiumError("the post is not premium: nothing to unlock")
        key = await self.cached(post)
        if key is not None:
            return key
        servers = await self.key_servers(post)
        if not servers:
            raise NoKeyServerError("neither the post nor the creator's profile lists a key server")
        manifest = await load_manifest(self._store, post.manifest)
        attempts: list[tuple[str, Exception]] = []
        for server in servers:
            try:
                key = await self._ask(server, post)
            except KeyRefusedError as exc:
                attempts.append((server, exc))
                if exc.code in TRY_NEXT:
                    continue
                break
            except (P2PError, ProtocolError, SealError) as exc:
                attempts.append((server, exc))
                continue
            try:
                await verify_key(self._store, manifest, key)
            except (StorageError, MediaError) as exc:
                attempts.append((server, KeyVerificationError(f"{server}: {exc}")))
                continue
            await asyncio.to_thread(self._cache.put, post.manifest, key)
            return key
        summary = "; ".join(f"{s}: {e}" for s, e in attempts)
        raise UnlockFailedError(f"no key server released the key ({summary})", attempts)

    async def unlock_many(self, posts: Iterable[GatedPost]) -> list[UnlockResult]:
        """Unlock each premium post in turn (batch unlock of a creator's clips)."""
        results = []
        for post in posts:
            if not post.premium:
                continue
            try:
                results.append(UnlockResult(post.post_id, await self.unlock(post), None))
            except GatingError as exc:
                results.append(UnlockResult(post.post_id, None, exc))
        return results

    async def _peer(self, server: str) -> str:
        if server.startswith("/"):
            if "/p2p/" not in server:
                raise ProtocolError(f"key server address {server} has no /p2p/<peer id>")
            return await self._network.connect(server)
        return server

    async def _request(self, peer: str, payload: bytes) -> proto.Response:
        raw = await self._network.request(
            peer, proto.PROTOCOL, payload, timeout=self._timeout, max_response=proto.MAX_RESPONSE
        )
        response = proto.decode_response(raw)
        if isinstance(response, KeyRefusedError):
            raise response
        return response

    async def _ask(self, server: str, post: GatedPost) -> ClipKey:
        if self._account is None:
            raise GatingError("no wallet of this peer to sign with")
        challenge = await self.challenge(server, post, self.address)
        return await self.redeem(challenge, siwe.sign(challenge.message, self._account.key))

    async def challenge(
        self, server: str, post: GatedPost, holder: str, domain: str = proto.DOMAIN
    ) -> Challenge:
        """Round trip 1: a nonce from ``server`` and the message ``holder`` must sign."""
        peer = await self._peer(server)
        grant = await self._request(peer, proto.encode_nonce_request())
        if not isinstance(grant, proto.NonceGrant):
            raise ProtocolError("expected a nonce grant")
        ephemeral = X25519PrivateKey.generate()
        resources = proto.Resources(post.post_id, peer, proto.public_bytes(ephemeral))
        now = datetime.fromtimestamp(self._clock(), UTC)
        text = proto.build_message(
            holder, self._chain_id, grant.nonce, resources, now, domain=domain
        )
        return Challenge(post, peer, holder, text, ephemeral)

    async def redeem(self, challenge: Challenge, signature: bytes) -> ClipKey:
        """Round trip 2: the signed request; the sealed key opened (not verified yet)."""
        post = challenge.post
        request = proto.KeyRequest(post.post_id, challenge.message, signature)
        sealed = await self._request(challenge.server, proto.encode_key_request(request))
        if not isinstance(sealed, proto.SealedKey):
            raise ProtocolError("expected a sealed key")
        if sealed.post_id != post.post_id or sealed.clip != post.manifest:
            raise ProtocolError("the key server answered for another post or clip")
        return proto.open_sealed(challenge.ephemeral, sealed)

    async def keep(self, post: GatedPost, key: ClipKey) -> None:
        """Verify a released key on the first chunk of a rendition, then cache it."""
        manifest = await load_manifest(self._store, post.manifest)
        try:
            await verify_key(self._store, manifest, key)
        except (StorageError, MediaError) as exc:
            raise KeyVerificationError(f"the released key does not open the clip: {exc}") from exc
        await asyncio.to_thread(self._cache.put, post.manifest, key)
