"""Delegation: the creator's peer hands its clip keys to another of the creator's peers.

Protocol ``/toktok/keys-delegate/1.0.0`` (served by the delegate, which accepts keys only from
the wallet address it is told to trust, normally its own creator address)::

    -> {"v":1,"op":"offer"}
    <- {"v":1,"ok":true,"nonce":"<24 alnum>","epk":"<delegate X25519 public key, b64url>"}
    -> {"v":1,"op":"push","nonce":"...","epk":"<creator ephemeral X25519 key>",
        "bundle":"<b64url sealed>","sig":"0x<EIP-191 signature by the creator's wallet>"}
    <- {"v":1,"ok":true,"imported":<new keys>}   |   {"v":1,"ok":false,"error":"..."}

The bundle is ``{"keys": {"<manifest CID>": "<b64url key>"}}`` sealed with ChaCha20-Poly1305
under HKDF-SHA256(X25519(creator ephemeral, delegate offer key), info = DELEGATE_INFO ||
nonce) -- encrypted to the delegate, readable by nobody else. The signature covers
:func:`push_statement` (nonce, delegate peer id, SHA-256 of the sealed bundle), so only the
trusted wallet can fill a delegate's store. Offers are single use and expire after 120 s.

Revocation is a profile change (drop the delegate from ``keyServers``); a delegate keeps the
keys it already holds (docs/GATING.md).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import string
import time
from collections.abc import Callable
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account.signers.local import LocalAccount

from peer.p2p.ports import Network
from storage import untrusted
from storage.crypto import ClipKey
from storage.errors import StorageError
from tokens import siwe
from tokens.errors import SiweVerifyError

from .errors import GatingError, ProtocolError
from .ports import KeyCache
from .protocol import b64url, decode_object, public_bytes, unb64url

PROTOCOL: Final = "/toktok/keys-delegate/1.0.0"
DELEGATE_INFO: Final = b"toktok/keys-delegate/1.0.0 bundle"
OFFER_TTL: Final = 120.0
MAX_OFFERS: Final = 64
MAX_MESSAGE: Final = 1024 * 1024
"""Largest message either side accepts: a push carries every clip key (about 140 bytes each
once sealed and base64url-encoded, so some 7,000 keys); equal to the host's request cap."""
MAX_BUNDLE: Final = MAX_MESSAGE
"""Largest opened bundle (it is smaller than the push that carries it)."""
_NONCE_RE: Final = re.compile(r"[A-Za-z0-9]{24}\Z")
_ALPHABET: Final = string.ascii_letters + string.digits


class DelegationError(GatingError):
    """A delegation push was refused or failed (the message says why)."""


def push_statement(nonce: str, delegate_peer: str, sealed: bytes) -> str:
    """The text the creator's wallet signs (EIP-191) for one push."""
    digest = hashlib.sha256(sealed).hexdigest()
    return (
        "Toktok: hand my clip keys to my peer\n"
        f"delegate: {delegate_peer}\nnonce: {nonce}\nbundle-sha256: {digest}"
    )


def _content_key(shared: bytes, nonce: str) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=DELEGATE_INFO + nonce.encode()).derive(shared)


def _encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()


def _decode(data: bytes) -> dict[str, Any]:
    return decode_object(data, MAX_MESSAGE, "keys-delegate message")


def _field(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"{key} must be a string")
    return value


class DelegateReceiver:
    """Serves the delegation protocol on a delegate peer, filling its clip-key store."""

    def __init__(
        self,
        network: Network,
        store: KeyCache,
        trusted: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._network = network
        self._store = store
        self._trusted = trusted.lower()
        self._clock = clock
        self._offers: dict[str, tuple[str, X25519PrivateKey, float]] = {}

    async def start(self) -> None:
        await self._network.serve(PROTOCOL, self.handle)

    async def stop(self) -> None:
        await self._network.unserve(PROTOCOL)

    async def handle(self, peer: str, data: bytes) -> bytes:
        try:
            result = await self._answer(peer, _decode(data))
        except (GatingError, StorageError) as exc:
            return _encode({"v": 1, "ok": False, "error": str(exc)})
        return _encode({"v": 1, "ok": True, **result})

    async def _answer(self, peer: str, req: dict[str, Any]) -> dict[str, Any]:
        now = self._clock()
        self._offers = {n: o for n, o in self._offers.items() if o[2] > now}
        if req.get("op") == "offer":
            if len(self._offers) >= MAX_OFFERS:
                raise DelegationError("too many open offers; retry later")
            nonce = "".join(secrets.choice(_ALPHABET) for _ in range(24))
            private = X25519PrivateKey.generate()
            self._offers[nonce] = (peer, private, now + OFFER_TTL)
            return {"nonce": nonce, "epk": b64url(public_bytes(private))}
        if req.get("op") != "push":
            raise ProtocolError("op must be 'offer' or 'push'")
        nonce = _field(req, "nonce")
        offer = self._offers.pop(nonce, None)
        if offer is None or offer[0] != peer:
            raise DelegationError("unknown, used or expired offer")
        sealed = unb64url(_field(req, "bundle"), "bundle")
        sig_hex = _field(req, "sig")
        if not re.fullmatch(r"0x[0-9a-fA-F]{130}", sig_hex):
            raise ProtocolError("sig must be 0x + 130 hex digits")
        statement = push_statement(nonce, self._network.peer_id, sealed)
        try:
            signer = siwe.recover_signer(statement, bytes.fromhex(sig_hex[2:]))
        except SiweVerifyError as exc:
            raise DelegationError(f"bad signature: {exc}") from exc
        if signer.lower() != self._trusted:
            raise DelegationError(f"keys signed by {signer}, this peer trusts {self._trusted}")
        try:
            their = X25519PublicKey.from_public_bytes(unb64url(_field(req, "epk"), "epk"))
            content = _content_key(offer[1].exchange(their), nonce)
            plain = ChaCha20Poly1305(content).decrypt(b"\x00" * 12, sealed, nonce.encode())
        except (ValueError, InvalidTag) as exc:
            raise DelegationError("the bundle does not open with this offer") from exc
        keys = parse_bundle(plain)
        new = 0
        for cid, key in keys.items():
            had = await asyncio.to_thread(self._store.has, cid)
            await asyncio.to_thread(self._store.put, cid, key)
            new += not had
        return {"imported": new}


def parse_bundle(plain: bytes) -> dict[str, ClipKey]:
    """The clip keys of an opened delegation bundle; :class:`DelegationError` if malformed."""
    try:
        bundle = untrusted.loads(plain, max_bytes=MAX_BUNDLE, max_depth=3, what="bundle")
        entries = bundle["keys"]
        if not isinstance(entries, dict):
            raise TypeError("keys is not an object")
        return {str(cid): ClipKey(unb64url(v, "key")) for cid, v in entries.items()}
    except (ValueError, KeyError, TypeError, ProtocolError) as exc:
        raise DelegationError(f"the bundle is malformed: {str(exc)[:200]}") from exc


async def delegate_keys(
    network: Network,
    delegate: str,
    keys: dict[str, ClipKey],
    account: LocalAccount,
    timeout: float = 30.0,  # noqa: ASYNC109
) -> int:
    """Push ``keys`` to the delegate (a multiaddr with /p2p/ or a known peer id); returns how
    many were new there. The creator's ``account`` signs the push."""
    peer = await network.connect(delegate) if delegate.startswith("/") else delegate
    offer = _decode(await network.request(peer, PROTOCOL, _encode({"v": 1, "op": "offer"}),
                                          timeout=timeout))  # fmt: skip
    if offer.get("ok") is not True:
        raise DelegationError(f"the delegate refused: {offer.get('error')}")
    nonce = _field(offer, "nonce")
    if not _NONCE_RE.match(nonce):
        raise ProtocolError("bad offer nonce")
    theirs = X25519PublicKey.from_public_bytes(unb64url(_field(offer, "epk"), "epk"))
    mine = X25519PrivateKey.generate()
    content = _content_key(mine.exchange(theirs), nonce)
    bundle = _encode({"keys": {cid: b64url(k.reveal()) for cid, k in keys.items()}})
    sealed = ChaCha20Poly1305(content).encrypt(b"\x00" * 12, bundle, nonce.encode())
    sig = siwe.sign(push_statement(nonce, peer, sealed), account.key)
    push = {
        "v": 1, "op": "push", "nonce": nonce, "epk": b64url(public_bytes(mine)),
        "bundle": b64url(sealed), "sig": "0x" + sig.hex(),
    }  # fmt: skip
    answer = _decode(await network.request(peer, PROTOCOL, _encode(push), timeout=timeout))
    if answer.get("ok") is not True:
        raise DelegationError(f"the delegate refused: {answer.get('error')}")
    imported = answer.get("imported")
    if type(imported) is not int:
        raise ProtocolError("imported must be an integer")
    return imported
