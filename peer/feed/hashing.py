"""keccak256 (the Ethereum hash) with as little call overhead as possible.

Feed validation hashes about ten short strings per post, so the per-call cost of the generic
``eth_utils.keccak`` wrapper (argument checks, backend dispatch) matters. pycryptodome is what
eth-hash uses here; call it directly, and fall back to eth-utils if it is missing.
"""

from __future__ import annotations

from collections.abc import Callable

keccak256: Callable[[bytes], bytes]

try:
    from Crypto.Hash import keccak as _keccak

    def keccak256(data: bytes) -> bytes:
        """keccak256 of ``data``."""
        return bytes(_keccak.new(data=data, digest_bits=256).digest())

except ImportError:  # pragma: no cover - depends on the installed eth-hash backend
    from eth_utils.crypto import keccak as _eth_keccak

    def keccak256(data: bytes) -> bytes:
        """keccak256 of ``data``."""
        return bytes(_eth_keccak(data))
