"""The key server (creator side): serves ``/toktok/keys/1.0.0`` from a clip-key store.

Composition (the composition root does this)::

    server = KeyServer(
        network=host,                      # peer.p2p facade (P2PHost or FakeHost)
        keys=clip_key_store,               # storage.clipkeys.ClipKeyStore (<data>/keys/)
        posts=post_source,                 # PostSource over the feed index
        checker=OwnershipChecker(chain_client, lag=2),
        chain_id=31337,
        signatures=chain_client,           # EIP-1271 for contract wallets (optional)
        clock=time.time,
        options=KeyServerOptions(),
    )
    await server.start()   ...   await server.stop()

A delegate peer runs the same service over a store holding the creator's exported keys.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from peer.p2p.ports import Network
from tokens import siwe
from tokens.errors import ChainError, SiweVerifyError
from tokens.ownership import OwnershipChecker

from . import protocol as proto
from .errors import KeyRefusedError, ProtocolError
from .ledger import UnlockLedger
from .nonces import NonceBook, NonceOptions
from .ports import GatedPost, KeySource, PostSource, SignatureChain

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeyServerOptions:
    nonces: NonceOptions = field(default_factory=NonceOptions)
    """Nonce TTL and per-peer rate limit."""
    clock_skew: float = 30.0
    """Seconds of clock difference tolerated on issued-at / expiration / not-before."""
    peers_per_day: int = 4
    """Distinct peers one holder address may unlock one post for per rolling day."""


class KeyServer:
    """Releases clip keys to peers that prove a qualifying holding (see ``protocol``)."""

    def __init__(
        self,
        network: Network,
        keys: KeySource,
        posts: PostSource,
        checker: OwnershipChecker,
        chain_id: int,
        *,
        signatures: SignatureChain | None = None,
        clock: Callable[[], float] = time.time,
        options: KeyServerOptions | None = None,
        ledger: UnlockLedger | None = None,
    ) -> None:
        self._network = network
        self._keys = keys
        self._posts = posts
        self._checker = checker
        self._chain_id = chain_id
        self._signatures = signatures
        self._clock = clock
        self._options = options or KeyServerOptions()
        self._nonces = NonceBook(clock, self._options.nonces)
        self.ledger = ledger or UnlockLedger(peers_per_day=self._options.peers_per_day, clock=clock)
        """Which holder unlocked which post for which peer (and the daily cap)."""
        self._running = False
        self.released = 0
        """Keys released since start."""
        self.refused: Counter[str] = Counter()
        """Refusals by code since start."""

    @property
    def peer_id(self) -> str:
        return self._network.peer_id

    async def start(self) -> None:
        """Serve the protocol on the host (ready when this returns)."""
        await self._network.serve(proto.PROTOCOL, self.handle)
        self._running = True

    async def stop(self) -> None:
        if self._running:
            self._running = False
            await self._network.unserve(proto.PROTOCOL)

    async def __aenter__(self) -> KeyServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def handle(self, peer: str, data: bytes) -> bytes:
        """The request handler: always answers (a refusal is a response, not an error)."""
        try:
            response: proto.Response = await self._answer(peer, data)
        except KeyRefusedError as exc:
            response = exc
        except Exception:
            log.exception("key server: unexpected failure")
            response = proto.refuse("internal")
        if isinstance(response, KeyRefusedError):
            self.refused[response.code] += 1
            log.debug("key request from %s refused: %s", peer, response.code)
        return proto.encode_response(response)

    async def _answer(self, peer: str, data: bytes) -> proto.Response:
        try:
            request = proto.decode_request(data)
        except ProtocolError as exc:
            raise proto.refuse("malformed", str(exc)) from exc
        if isinstance(request, proto.NonceRequest):
            nonce, expires = self._nonces.issue(peer)
            return proto.NonceGrant(nonce, int(expires))
        now = datetime.fromtimestamp(self._clock(), UTC)
        skew = timedelta(seconds=self._options.clock_skew)
        message = proto.check_fields(request.message, self._chain_id, now, skew)
        self._nonces.consume(peer, message.nonce)
        res = proto.check_resources(message, request.post_id, self._network.peer_id)
        post = await self._post(request.post_id)
        await self._check_signature(request.message, request.signature, message.address)
        try:
            holds = await self._checker.holds(post.token, message.address, post.min_balance)
        except ChainError as exc:
            detail = f"{proto.CODES['chain_unavailable']}: {exc}"
            raise proto.refuse("chain_unavailable", detail) from exc
        if not holds:
            raise proto.refuse("not_holder")
        key = await asyncio.to_thread(self._keys.get, post.manifest)
        others = await asyncio.to_thread(self.ledger.admit, message.address, post.post_id, peer)
        if others is not None:
            detail = (
                f"{message.address} unlocked this post for {others} other peers in the last "
                f"day (cap {self.ledger.peers_per_day})"
            )
            raise proto.refuse("peer_cap", detail)
        sealed = proto.seal(key, res.epk, post.post_id, post.manifest)
        self.released += 1
        return sealed

    async def _post(self, post_id: bytes) -> GatedPost:
        post = await self._posts.gated_post(post_id)
        if post is None:
            raise proto.refuse("unknown_post")
        if not post.premium:
            raise proto.refuse("not_premium")
        if not await asyncio.to_thread(self._keys.has, post.manifest):
            raise proto.refuse("no_key")
        return post

    async def _check_signature(self, text: str, signature: bytes, address: str) -> None:
        try:
            signer = siwe.recover_signer(text, signature)
        except SiweVerifyError as exc:
            raise proto.refuse("signature", str(exc)) from exc
        if signer.lower() == address.lower():
            return
        if self._signatures is None:
            raise proto.refuse("signature", f"signed by {signer}, not by {address}")
        try:  # a contract wallet: EIP-1271 at the lagged block
            head = await self._signatures.block_number()
            block = max(head - self._checker.lag, 0)
            ok = await self._signatures.is_valid_signature(
                address, siwe.eip191_digest(text), signature, block
            )
        except ChainError as exc:
            raise proto.refuse("chain_unavailable", str(exc)) from exc
        if not ok:
            raise proto.refuse("signature", f"signed by {signer}, not by {address}")
