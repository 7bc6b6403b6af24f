"""The key-release protocol ``/toktok/keys/1.0.0`` (pure: no I/O, clock passed in).

Two round trips over the p2p request/response facade (ARCHITECTURE "Token-gated playback",
normative). Every message is one UTF-8 JSON object, decoded strictly (exact fields, exact
types)::

    -> {"v": 1, "op": "nonce"}
    <- {"v": 1, "ok": true, "nonce": "<16+ alphanumerics>", "expiresAt": <unix s>}

    -> {"v": 1, "op": "key", "post": "0x<post id, 64 hex>",
        "message": "<EIP-4361 text>", "sig": "0x<65-byte EIP-191 signature>"}
    <- {"v": 1, "ok": true, "post": "0x...", "clip": "<manifest CID>",
        "epk": "<server ephemeral X25519 public key, base64url>", "sealed": "<base64url>"}

    <- {"v": 1, "ok": false, "code": "<one of CODES>", "error": "<text for the user>"}

The EIP-4361 message: ``domain`` = ``toktok`` or the loopback authority of the local web page
whose browser wallet signs (``127.0.0.1:<port>``, ``localhost:<port>``, ``[::1]:<port>``: what
the wallet compares with the page's origin), ``chain-id`` = the server's chain, ``nonce`` =
the issued one, ``expiration-time`` present and at most 10 minutes after ``issued-at``, and
``resources`` exactly ``toktok:post:<post id>``, ``toktok:server:<server peer id>``,
``toktok:epk:<holder ephemeral X25519 public key, base64url>`` in that order.

The server checks, in this order, and stops at the first failure (each has its own code):
syntax, domain, chain, times, nonce (consumed even if a later check fails), resources (then
the post: known, premium, key held), signature (EOA, else EIP-1271 at the lagged block),
holding rule, then the unlock ledger's daily cap of peers per holder and post. See
:func:`check_fields` and :func:`check_resources`; the I/O steps live in
``peer.gating.server``.

Sealing: the server makes a fresh X25519 key pair per response; the content key is
``HKDF-SHA256(X25519(server, holder), salt = holder epk || server epk, info = SEAL_INFO ||
post id || clip CID)``; the clip key is sealed with ChaCha20-Poly1305 under it with a zero
nonce (the key is used once) and ``post id || clip CID`` as associated data.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_utils.address import to_checksum_address

from storage import untrusted
from storage.crypto import KEY_SIZE, ClipKey
from storage.errors import UntrustedJsonError
from tokens import siwe
from tokens.errors import SiweParseError

from .errors import KeyRefusedError, ProtocolError, SealError

PROTOCOL: Final = "/toktok/keys/1.0.0"
DOMAIN: Final = "toktok"
"""The domain of messages the peer signs with its own wallet (every key server accepts it)."""
_PAGE_DOMAIN: Final = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\]):([1-9][0-9]{0,4})\Z")
MAX_LIFETIME: Final = timedelta(minutes=10)
DEFAULT_LIFETIME: Final = timedelta(minutes=5)
MAX_REQUEST: Final = 8 * 1024
MAX_RESPONSE: Final = 4 * 1024
MAX_DEPTH: Final = 2
"""Messages are flat objects; one level of slack."""
SEAL_INFO: Final = b"toktok/keys/1.0.0 seal"
STATEMENT: Final = "Unlock a premium Toktok clip."

CODES: Final[dict[str, str]] = {
    "malformed": "the request does not follow the wire format",
    "rate_limited": "too many nonce requests from this peer; wait and retry",
    "syntax": "the message is not a valid EIP-4361 message",
    "domain": "the message's domain is neither 'toktok' nor a loopback host:port",
    "chain": "the message is for another chain id",
    "issued_at": "the message is issued in the future",
    "no_expiration": "the message has no expiration time",
    "lifetime": "the expiration is more than 10 minutes after issued-at",
    "expired": "the message has expired",
    "not_before": "the message is not valid yet",
    "nonce": "the nonce was not issued to this peer, was used already, or expired",
    "resources": "the resources are not exactly post, server and epk",
    "wrong_server": "the message names another key server",
    "wrong_post": "the message is for another post than the one requested",
    "unknown_post": "this key server does not know the post",
    "not_premium": "the post is not premium",
    "no_key": "this key server does not hold the clip's key",
    "signature": "the signature is not by the message's address",
    "not_holder": "the address does not hold the minimum balance under the holding rule",
    "chain_unavailable": "the chain cannot be read now; nothing is released (fail closed)",
    "peer_cap": "this holder address unlocked the post for too many peers today",
    "internal": "the key server failed; try another one",
}
"""Every refusal code with its meaning (``KeyRefusedError.code``)."""

_NONCE_RE: Final = re.compile(r"[A-Za-z0-9]{16,64}\Z")
_POST_RE: Final = re.compile(r"0x[0-9a-f]{64}\Z")
_SIG_RE: Final = re.compile(r"0x[0-9a-fA-F]{130}\Z")
_B64URL_RE: Final = re.compile(r"[A-Za-z0-9_-]+\Z")
_PEER_RE: Final = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,128}\Z")
_CID_RE: Final = re.compile(r"[A-Za-z0-9]{10,128}\Z")


def refuse(code: str, detail: str | None = None) -> KeyRefusedError:
    """A :class:`KeyRefusedError` for ``code`` (must be one of :data:`CODES`)."""
    if code not in CODES:
        raise ValueError(f"unknown refusal code {code!r}")
    return KeyRefusedError(code, detail or CODES[code])


# ------------------------------------------------------------------------------ encoding
def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(value: str, what: str) -> bytes:
    """Decode unpadded base64url strictly (ProtocolError otherwise)."""
    if not _B64URL_RE.match(value) or len(value) % 4 == 1:
        raise ProtocolError(f"{what} is not base64url")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError(f"{what} is not base64url") from exc
    if b64url(data) != value:
        raise ProtocolError(f"{what} is not canonical base64url")
    return data


def post_hex(post_id: bytes) -> str:
    """The wire form of a post id: ``0x`` + 64 lowercase hex digits."""
    if len(post_id) != 32:
        raise ProtocolError("a post id is 32 bytes")
    return "0x" + post_id.hex()


def parse_post(value: Any) -> bytes:
    if not isinstance(value, str) or not _POST_RE.match(value):
        raise ProtocolError("post must be 0x followed by 64 lowercase hex digits")
    return bytes.fromhex(value[2:])


def _encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True).encode("utf-8")


def decode_object(data: bytes, limit: int, what: str = "message") -> dict[str, Any]:
    """A flat JSON object with ``v = 1`` from a peer (keys and keys-delegate messages)."""
    try:
        obj = untrusted.loads(
            data, max_bytes=limit, max_depth=MAX_DEPTH, integers_only=True, what=what
        )
    except UntrustedJsonError as exc:
        raise ProtocolError(str(exc)) from exc
    if not isinstance(obj, dict) or obj.get("v") != 1 or type(obj.get("v")) is not int:
        raise ProtocolError("expected a JSON object with v = 1")
    return obj


def _exact(obj: dict[str, Any], keys: set[str], what: str) -> None:
    if set(obj) != keys:
        raise ProtocolError(f"{what} must have exactly the fields {sorted(keys)}")


def _str(obj: dict[str, Any], key: str, max_len: int) -> str:
    value = obj[key]
    if not isinstance(value, str) or len(value) > max_len:
        raise ProtocolError(f"{key} must be a string of at most {max_len} characters")
    return value


@dataclass(frozen=True, slots=True)
class NonceRequest:
    pass


@dataclass(frozen=True, slots=True)
class KeyRequest:
    post_id: bytes
    message: str
    signature: bytes


Request = NonceRequest | KeyRequest


def encode_nonce_request() -> bytes:
    return _encode({"v": 1, "op": "nonce"})


def encode_key_request(req: KeyRequest) -> bytes:
    return _encode(
        {
            "v": 1,
            "op": "key",
            "post": post_hex(req.post_id),
            "message": req.message,
            "sig": "0x" + req.signature.hex(),
        }
    )


def decode_request(data: bytes) -> Request:
    """Parse a request strictly (ProtocolError names what is wrong)."""
    obj = decode_object(data, MAX_REQUEST, "key request")
    op = obj.get("op")
    if op == "nonce":
        _exact(obj, {"v", "op"}, "a nonce request")
        return NonceRequest()
    if op == "key":
        _exact(obj, {"v", "op", "post", "message", "sig"}, "a key request")
        sig = _str(obj, "sig", 132)
        if not _SIG_RE.match(sig):
            raise ProtocolError("sig must be 0x followed by 130 hex digits")
        message = _str(obj, "message", 4096)
        return KeyRequest(parse_post(obj["post"]), message, bytes.fromhex(sig[2:]))
    raise ProtocolError("op must be 'nonce' or 'key'")


@dataclass(frozen=True, slots=True)
class NonceGrant:
    nonce: str
    expires_at: int


@dataclass(frozen=True, slots=True)
class SealedKey:
    post_id: bytes
    clip: str
    server_epk: bytes
    sealed: bytes


Response = NonceGrant | SealedKey | KeyRefusedError


def encode_response(resp: Response) -> bytes:
    if isinstance(resp, NonceGrant):
        return _encode({"v": 1, "ok": True, "nonce": resp.nonce, "expiresAt": resp.expires_at})
    if isinstance(resp, SealedKey):
        return _encode(
            {
                "v": 1,
                "ok": True,
                "post": post_hex(resp.post_id),
                "clip": resp.clip,
                "epk": b64url(resp.server_epk),
                "sealed": b64url(resp.sealed),
            }
        )
    return _encode({"v": 1, "ok": False, "code": resp.code, "error": resp.detail})


def decode_response(data: bytes) -> Response:
    """Parse a response; a refusal comes back as a :class:`KeyRefusedError` value."""
    obj = decode_object(data, MAX_RESPONSE, "key response")
    ok = obj.get("ok")
    if ok is False:
        _exact(obj, {"v", "ok", "code", "error"}, "a refusal")
        code, error = _str(obj, "code", 64), _str(obj, "error", 512)
        if code not in CODES:
            raise ProtocolError(f"unknown refusal code {code!r}")
        return KeyRefusedError(code, error)
    if ok is not True:
        raise ProtocolError("ok must be true or false")
    if "nonce" in obj:
        _exact(obj, {"v", "ok", "nonce", "expiresAt"}, "a nonce grant")
        nonce, exp = _str(obj, "nonce", 64), obj["expiresAt"]
        if not _NONCE_RE.match(nonce) or type(exp) is not int or not 0 <= exp < 2**53:
            raise ProtocolError("bad nonce grant")
        return NonceGrant(nonce, exp)
    _exact(obj, {"v", "ok", "post", "clip", "epk", "sealed"}, "a sealed key")
    clip = _str(obj, "clip", 128)
    if not _CID_RE.match(clip):
        raise ProtocolError("clip is not a CID string")
    epk = unb64url(_str(obj, "epk", 64), "epk")
    sealed = unb64url(_str(obj, "sealed", 128), "sealed")
    if len(epk) != 32 or len(sealed) != KEY_SIZE + 16:
        raise ProtocolError("epk or sealed key has the wrong length")
    return SealedKey(parse_post(obj["post"]), clip, epk, sealed)


# ----------------------------------------------------------------------------- messages
@dataclass(frozen=True, slots=True)
class Resources:
    post_id: bytes
    server: str
    epk: bytes

    def to_tuple(self) -> tuple[str, str, str]:
        return (
            f"toktok:post:{post_hex(self.post_id)}",
            f"toktok:server:{self.server}",
            f"toktok:epk:{b64url(self.epk)}",
        )


def parse_resources(resources: tuple[str, ...]) -> Resources:
    """The three resources in their order, or ``resources`` refusal."""
    if len(resources) != 3:
        raise refuse("resources", f"expected 3 resources, got {len(resources)}")
    post_r, server_r, epk_r = resources
    prefixes = ("toktok:post:", "toktok:server:", "toktok:epk:")
    for value, prefix in zip(resources, prefixes, strict=True):
        if not value.startswith(prefix):
            raise refuse("resources", f"expected a {prefix}... resource, got {value!r}")
    try:
        post_id = parse_post(post_r[len(prefixes[0]) :])
        epk = unb64url(epk_r[len(prefixes[2]) :], "epk")
    except ProtocolError as exc:
        raise refuse("resources", str(exc)) from exc
    server = server_r[len(prefixes[1]) :]
    if not _PEER_RE.match(server):
        raise refuse("resources", "the server resource is not a peer id")
    if len(epk) != 32:
        raise refuse("resources", "the epk resource is not a 32-byte X25519 key")
    return Resources(post_id, server, epk)


def accepted_domain(domain: str) -> bool:
    """``toktok``, or the loopback ``host:port`` of a local page (port 1-65535): the domain a
    browser wallet sees as the page's origin, so it does not warn of phishing."""
    if domain == DOMAIN:
        return True
    m = _PAGE_DOMAIN.match(domain)
    return m is not None and int(m.group(1)) <= 65535


def build_message(
    address: str,
    chain_id: int,
    nonce: str,
    resources: Resources,
    now: datetime,
    lifetime: timedelta = DEFAULT_LIFETIME,
    domain: str = DOMAIN,
) -> str:
    """The EIP-4361 text a holder signs for one key request (``domain``: ``toktok`` for the
    peer's own wallet, the page's loopback ``host:port`` for a browser wallet)."""
    if not accepted_domain(domain):
        raise ValueError(f"{domain!r} is not a domain key servers accept")
    return siwe.SiweMessage(
        domain=domain,
        address=to_checksum_address(address),
        uri=f"toktok:post:{post_hex(resources.post_id)}",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=siwe.format_time(now),
        statement=STATEMENT,
        expiration_time=siwe.format_time(now + lifetime),
        resources=resources.to_tuple(),
    ).to_text()


def check_fields(text: str, chain_id: int, now: datetime, skew: timedelta) -> siwe.SiweMessage:
    """Steps 1-4 of the server's order: syntax, domain, chain, times (refusal on failure)."""
    try:
        m = siwe.parse(text)
    except SiweParseError as exc:
        raise refuse("syntax", str(exc)) from exc
    if not accepted_domain(m.domain):
        detail = f"domain is {m.domain!r}, expected {DOMAIN!r} or a loopback host:port"
        raise refuse("domain", detail)
    if m.chain_id != chain_id:
        raise refuse("chain", f"chain id {m.chain_id}, this server is on {chain_id}")
    issued = siwe.parse_time(m.issued_at)
    if issued > now + skew:
        raise refuse("issued_at")
    if m.expiration_time is None:
        raise refuse("no_expiration")
    expires = siwe.parse_time(m.expiration_time)
    if expires - issued > MAX_LIFETIME:
        raise refuse("lifetime")
    if now >= expires + skew:
        raise refuse("expired")
    if m.not_before is not None and now + skew < siwe.parse_time(m.not_before):
        raise refuse("not_before")
    return m


def check_resources(m: siwe.SiweMessage, requested_post: bytes, server: str) -> Resources:
    """Step 6: resources exactly as required, for this server and the requested post."""
    res = parse_resources(m.resources)
    if res.server != server:
        raise refuse("wrong_server", f"the message names key server {res.server}")
    if res.post_id != requested_post:
        raise refuse("wrong_post")
    return res


# ------------------------------------------------------------------------------ sealing
def _content_key(shared: bytes, holder_epk: bytes, server_epk: bytes, aad: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=holder_epk + server_epk, info=SEAL_INFO + aad
    )
    return hkdf.derive(shared)


def _aad(post_id: bytes, clip: str) -> bytes:
    return post_id + clip.encode("ascii")


def public_bytes(private: X25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def seal(key: ClipKey, holder_epk: bytes, post_id: bytes, clip: str) -> SealedKey:
    """Seal ``key`` to the holder's ephemeral X25519 public key (fresh server key pair)."""
    try:
        holder = X25519PublicKey.from_public_bytes(holder_epk)
    except ValueError as exc:
        raise refuse("resources", "the epk is not an X25519 public key") from exc
    ephemeral = X25519PrivateKey.generate()
    server_epk = public_bytes(ephemeral)
    try:
        shared = ephemeral.exchange(holder)
    except ValueError as exc:  # low-order point: all-zero shared secret
        raise refuse("resources", "the epk is a low-order point") from exc
    aad = _aad(post_id, clip)
    content = _content_key(shared, holder_epk, server_epk, aad)
    sealed = ChaCha20Poly1305(content).encrypt(b"\x00" * 12, key.reveal(), aad)
    return SealedKey(post_id, clip, server_epk, sealed)


def open_sealed(private: X25519PrivateKey, sealed: SealedKey) -> ClipKey:
    """Open a sealed key with the holder's ephemeral private key (SealError on failure)."""
    holder_epk = public_bytes(private)
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(sealed.server_epk))
    except ValueError as exc:
        raise SealError("the server's ephemeral key is invalid") from exc
    aad = _aad(sealed.post_id, sealed.clip)
    content = _content_key(shared, holder_epk, sealed.server_epk, aad)
    try:
        raw = ChaCha20Poly1305(content).decrypt(b"\x00" * 12, sealed.sealed, aad)
    except InvalidTag as exc:
        raise SealError("the sealed key does not open with our ephemeral key") from exc
    return ClipKey(raw)
