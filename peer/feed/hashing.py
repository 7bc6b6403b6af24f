"""keccak256 (the Ethereum hash) with as little call overhead as possible.

Feed validation hashes about ten short strings per post, so the per-call cost matters more than
the hashing itself. pycryptodome is what eth-hash uses here. Its ``keccak.new(...).digest()``
allocates a state, a smart pointer and an output buffer per call; ``keccak256`` instead keeps one
keccak state and one output buffer per thread and only resets, absorbs and squeezes (three
calls into the same C library, about half the CPU time). If pycryptodome's low-level library is
not there, the public API is used, and failing that eth-utils.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

keccak256: Callable[[bytes], bytes]

_RATE_CAPACITY_BYTES = 64  # keccak256: capacity 512 bits
_ROUNDS = 24
_KECCAK_PADDING = 0x01  # original Keccak, not SHA-3 (0x06)


def _public_api() -> Callable[[bytes], bytes]:
    try:
        from Crypto.Hash import keccak as _keccak
    except ImportError:  # pragma: no cover - depends on the installed eth-hash backend
        from eth_utils.crypto import keccak as _eth_keccak

        def eth_utils_keccak(data: bytes) -> bytes:
            """keccak256 of ``data``."""
            return bytes(_eth_keccak(data))

        return eth_utils_keccak

    def pycryptodome_keccak(data: bytes) -> bytes:
        """keccak256 of ``data``."""
        return bytes(_keccak.new(data=data, digest_bits=256).digest())

    return pycryptodome_keccak


def _low_level() -> Callable[[bytes], bytes] | None:
    try:
        from Crypto.Hash import keccak as _keccak
        from Crypto.Util import _raw_api as _raw_api_module
    except ImportError:  # pragma: no cover - depends on the installed eth-hash backend
        return None
    _raw_api: Any = _raw_api_module  # its stubs miss what the C-call helpers accept
    lib: Any = getattr(_keccak, "_raw_keccak_lib", None)
    if lib is None or not all(
        hasattr(lib, name) for name in ("keccak_init", "keccak_reset", "keccak_digest")
    ):  # pragma: no cover - another pycryptodome layout
        return None
    local = threading.local()

    def per_thread() -> tuple[Any, Any, Any]:
        pointer = _raw_api.VoidPointer()
        if lib.keccak_init(
            pointer.address_of(),
            _raw_api.c_size_t(_RATE_CAPACITY_BYTES),
            _raw_api.c_ubyte(_ROUNDS),
        ):
            raise RuntimeError("keccak_init failed")
        # The smart pointer frees the state when the thread's local storage goes away.
        owner = _raw_api.SmartPointer(pointer.get(), lib.keccak_destroy)
        local.state = (owner.get(), _raw_api.create_string_buffer(32), owner)
        return local.state  # type: ignore[no-any-return]

    def low_level_keccak(data: bytes) -> bytes:
        """keccak256 of ``data``."""
        try:
            state, out, _owner = local.state
        except AttributeError:
            state, out, _owner = per_thread()
        if (
            lib.keccak_reset(state)
            or lib.keccak_absorb(state, data, len(data))
            or lib.keccak_digest(state, out, 32, _KECCAK_PADDING)
        ):
            raise RuntimeError("keccak failed")
        return bytes(out)

    return low_level_keccak


keccak256 = _low_level() or _public_api()
