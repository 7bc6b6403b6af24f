"""secp256k1 signatures over EIP-712 digests (pure): 65 bytes ``r || s || v``, v in {27, 28}.

Only canonical (low-s, EIP-2) signatures are accepted, so a record has exactly one valid
signature encoding. Recovery calls libsecp256k1 through coincurve directly (the backend eth-keys
would use anyway, without its per-call wrapping, which cost more than the curve arithmetic);
signing uses eth-keys. Every failure becomes ``SignatureError``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

from coincurve import PublicKey
from eth_keys import keys  # type: ignore[attr-defined]
from eth_utils.address import to_checksum_address

from peer.feed.errors import SignatureError
from peer.feed.hashing import keccak256

SIGNATURE_BYTES: Final = 65
_SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def recover_signer(digest: bytes, signature: bytes) -> str:
    """The checksummed address that signed ``digest``; ``SignatureError`` if malformed."""
    if len(signature) != SIGNATURE_BYTES:
        raise SignatureError(f"signature must be {SIGNATURE_BYTES} bytes, got {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise SignatureError(f"signature v must be 27 or 28, got {v}")
    if not 0 < r < _SECP256K1_N or not 0 < s <= _SECP256K1_N // 2:
        raise SignatureError("signature r/s out of range (only low-s signatures are valid)")
    if len(digest) != 32:
        raise SignatureError(f"digest must be 32 bytes, got {len(digest)}")
    try:
        public_key = PublicKey.from_signature_and_message(
            signature[:64] + bytes((v - 27,)), digest, hasher=None
        )
    except ValueError as exc:
        raise SignatureError(f"signature does not recover a public key: {exc}") from exc
    # The address is the last 20 bytes of keccak256 of the 64-byte uncompressed point.
    return _checksum(keccak256(public_key.format(compressed=False)[1:])[12:])


@lru_cache(maxsize=65536)
def _checksum(raw: bytes) -> str:
    return str(to_checksum_address(raw))


def sign_digest(digest: bytes, private_key: bytes) -> bytes:
    """Sign ``digest`` with a raw 32-byte private key; returns ``r || s || v`` (v = 27/28)."""
    signature = keys.PrivateKey(private_key).sign_msg_hash(digest)
    raw = signature.to_bytes()
    return raw[:64] + bytes([raw[64] + 27])


def address_of(private_key: bytes) -> str:
    """The checksummed address of a raw private key."""
    return str(keys.PrivateKey(private_key).public_key.to_checksum_address())
