"""Chunked authenticated encryption of premium renditions: STREAM over ChaCha20-Poly1305.

Pure module (no I/O apart from drawing random keys and nonce prefixes from ``os.urandom``).

Framing (normative for every peer; the manifest carries the parameters):

* one random 256-bit key per clip (:class:`ClipKey`); each rendition gets its own random 7-byte
  nonce prefix, so no (key, nonce) pair is ever reused across the clip's renditions;
* the plaintext is cut into chunks of ``chunk_size`` bytes (the last one may be shorter; an empty
  plaintext is one empty chunk); chunk ``i`` is sealed with ChaCha20-Poly1305 under nonce
  ``prefix (7) || i as uint32 big-endian (4) || last (1: 0x01 for the final chunk, else 0x00)``
  and no associated data; ciphertext chunk = sealed bytes || 16-byte tag;
* the ciphertext is the concatenation of the sealed chunks, so chunk ``i`` starts at
  ``i * (chunk_size + 16)`` and any byte range decrypts from the chunks it touches alone.

The chunk index in the nonce detects reordering; the last-chunk flag detects truncation and
extension (Hoang, Reyhanitabar, Rogaway, Vizár: "Online authenticated-encryption and its
nonce-reuse misuse-resistance", the STREAM construction).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from storage.errors import DecryptionError, MalformedCiphertextError

SCHEME: Final = "stream-chacha20poly1305"
"""Name of this framing in manifests."""
KEY_SIZE: Final = 32
TAG_SIZE: Final = 16
NONCE_PREFIX_SIZE: Final = 7
DEFAULT_CHUNK_SIZE: Final = 64 * 1024
MIN_CHUNK_SIZE: Final = 1
MAX_CHUNK_SIZE: Final = 16 * 1024 * 1024
_MAX_CHUNKS: Final = 2**32


class ClipKey:
    """A clip's 256-bit content key. Its ``repr``/``str`` never show the key."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != KEY_SIZE:
            raise ValueError(f"a clip key is exactly {KEY_SIZE} bytes")
        self._key = key

    @classmethod
    def generate(cls) -> ClipKey:
        """A fresh random key."""
        return cls(os.urandom(KEY_SIZE))

    def reveal(self) -> bytes:
        """The raw key bytes (to seal for a holder or to encrypt at rest; never to log)."""
        return self._key

    def __repr__(self) -> str:
        return "ClipKey(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClipKey):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash(("ClipKey", hmac.digest(b"clipkey-hash", self._key, "sha256")))


@dataclass(frozen=True, slots=True)
class StreamParams:
    """Per-rendition parameters (public; stored in the manifest)."""

    nonce_prefix: bytes
    chunk_size: int = DEFAULT_CHUNK_SIZE

    def __post_init__(self) -> None:
        if len(self.nonce_prefix) != NONCE_PREFIX_SIZE:
            raise MalformedCiphertextError(f"nonce prefix must be {NONCE_PREFIX_SIZE} bytes")
        if not MIN_CHUNK_SIZE <= self.chunk_size <= MAX_CHUNK_SIZE:
            raise MalformedCiphertextError(
                f"chunk size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes"
            )

    @classmethod
    def generate(cls, chunk_size: int = DEFAULT_CHUNK_SIZE) -> StreamParams:
        """Parameters with a fresh random nonce prefix."""
        return cls(os.urandom(NONCE_PREFIX_SIZE), chunk_size)

    @property
    def sealed_chunk_size(self) -> int:
        """Size of a full ciphertext chunk (plaintext chunk + tag)."""
        return self.chunk_size + TAG_SIZE

    def nonce(self, index: int, last: bool) -> bytes:
        """The 12-byte nonce of chunk ``index``."""
        if not 0 <= index < _MAX_CHUNKS:
            raise MalformedCiphertextError("too many chunks for this framing")
        return self.nonce_prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def chunk_count(plain_size: int, chunk_size: int) -> int:
    """Number of chunks for a plaintext of ``plain_size`` bytes (at least one)."""
    if plain_size < 0:
        raise ValueError("size must be non-negative")
    return max(1, -(-plain_size // chunk_size))


def ciphertext_size(plain_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Ciphertext length for a plaintext of ``plain_size`` bytes."""
    return plain_size + TAG_SIZE * chunk_count(plain_size, chunk_size)


def plaintext_size(cipher_size: int, chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Plaintext length of a ciphertext of ``cipher_size`` bytes, or
    :class:`MalformedCiphertextError` if no plaintext encrypts to that length."""
    sealed = chunk_size + TAG_SIZE
    if cipher_size < TAG_SIZE:
        raise MalformedCiphertextError("ciphertext shorter than one tag")
    n = -(-cipher_size // sealed)
    last = cipher_size - (n - 1) * sealed
    if n > 1 and last <= TAG_SIZE:
        raise MalformedCiphertextError("ciphertext ends with an empty or partial chunk")
    if n > _MAX_CHUNKS:
        raise MalformedCiphertextError("too many chunks for this framing")
    return cipher_size - n * TAG_SIZE


class StreamEncryptor:
    """Incremental encryption: :meth:`update` with plaintext pieces of any size, then
    :meth:`finalize`. The last full chunk is held back until it is known to be the last."""

    def __init__(self, key: ClipKey, params: StreamParams) -> None:
        self._aead = ChaCha20Poly1305(key.reveal())
        self._params = params
        self._buf = bytearray()
        self._index = 0
        self._done = False

    def _seal(self, chunk: bytes, last: bool) -> bytes:
        sealed = self._aead.encrypt(self._params.nonce(self._index, last), chunk, None)
        self._index += 1
        return sealed

    def update(self, data: bytes) -> bytes:
        """Add plaintext; return the ciphertext of every chunk that is now complete."""
        if self._done:
            raise ValueError("encryptor already finalized")
        self._buf += data
        size = self._params.chunk_size
        out = bytearray()
        # Keep at least one byte buffered: a full chunk may still turn out to be the last.
        while len(self._buf) > size:
            out += self._seal(bytes(self._buf[:size]), last=False)
            del self._buf[:size]
        return bytes(out)

    def finalize(self) -> bytes:
        """Seal the remaining plaintext as the last chunk."""
        if self._done:
            raise ValueError("encryptor already finalized")
        self._done = True
        out = self._seal(bytes(self._buf), last=True)
        self._buf.clear()
        return out


def encrypt(key: ClipKey, params: StreamParams, plaintext: bytes) -> bytes:
    """Encrypt a whole plaintext."""
    enc = StreamEncryptor(key, params)
    return enc.update(plaintext) + enc.finalize()


def decrypt_chunk(
    key: ClipKey, params: StreamParams, index: int, sealed: bytes, *, last: bool
) -> bytes:
    """Open ciphertext chunk ``index`` (``last`` says whether it ends the stream)."""
    if len(sealed) < TAG_SIZE or len(sealed) > params.sealed_chunk_size:
        raise MalformedCiphertextError("ciphertext chunk has an impossible length")
    try:
        return ChaCha20Poly1305(key.reveal()).decrypt(params.nonce(index, last), sealed, None)
    except InvalidTag as exc:
        raise DecryptionError(
            "decryption failed: wrong key, or the content was modified or truncated"
        ) from exc


def iter_decrypt(key: ClipKey, params: StreamParams, ciphertext: bytes) -> Iterator[bytes]:
    """Decrypt a whole ciphertext chunk by chunk (each chunk verified before it is yielded)."""
    plaintext_size(len(ciphertext), params.chunk_size)  # validates the length
    sealed = params.sealed_chunk_size
    n = max(1, -(-len(ciphertext) // sealed))
    for i in range(n):
        yield decrypt_chunk(
            key, params, i, ciphertext[i * sealed : (i + 1) * sealed], last=i == n - 1
        )


def decrypt(key: ClipKey, params: StreamParams, ciphertext: bytes) -> bytes:
    """Decrypt a whole ciphertext."""
    return b"".join(iter_decrypt(key, params, ciphertext))


@dataclass(frozen=True, slots=True)
class CipherRange:
    """Which ciphertext bytes a plaintext range needs, and how to cut the result."""

    first_chunk: int
    last_chunk: int
    cipher_start: int
    cipher_end: int
    """Half-open ciphertext byte range covering chunks ``first_chunk..last_chunk``."""
    skip: int
    """Plaintext bytes to drop from the start of the decrypted chunks."""
    length: int
    """Plaintext bytes to keep after ``skip``."""


def cipher_range(
    cipher_size: int, start: int, end: int, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> CipherRange | None:
    """Map plaintext ``[start, end)`` to ciphertext chunks; ``None`` if the range is empty.

    ``end`` beyond the plaintext is clamped (like ``ContentStore.read_range``).
    """
    if start < 0 or end < start:
        raise ValueError("invalid range")
    plain = plaintext_size(cipher_size, chunk_size)
    end = min(end, plain)
    if start >= end:
        return None
    sealed = chunk_size + TAG_SIZE
    first, last = start // chunk_size, (end - 1) // chunk_size
    return CipherRange(
        first_chunk=first,
        last_chunk=last,
        cipher_start=first * sealed,
        cipher_end=min(cipher_size, (last + 1) * sealed),
        skip=start - first * chunk_size,
        length=end - start,
    )


def decrypt_range(
    key: ClipKey,
    params: StreamParams,
    cipher_size: int,
    start: int,
    end: int,
    read: Callable[[int, int], bytes],
) -> bytes:
    """Plaintext bytes ``[start, end)`` of a ciphertext of ``cipher_size`` bytes.

    ``read(a, b)`` returns ciphertext bytes ``[a, b)``; only the chunks the range touches are
    read and each is authenticated before use. (Async callers use :func:`cipher_range` and
    :func:`open_range` around their own reads.)
    """
    rng = cipher_range(cipher_size, start, end, params.chunk_size)
    if rng is None:
        return b""
    data = read(rng.cipher_start, rng.cipher_end)
    return open_range(key, params, cipher_size, rng, data)


def open_range(
    key: ClipKey, params: StreamParams, cipher_size: int, rng: CipherRange, data: bytes
) -> bytes:
    """Decrypt the ciphertext bytes ``data`` fetched for ``rng`` and cut out the plaintext."""
    if len(data) != rng.cipher_end - rng.cipher_start:
        raise MalformedCiphertextError("short read of the ciphertext range")
    sealed = params.sealed_chunk_size
    n_total = max(1, -(-cipher_size // sealed))
    out = bytearray()
    for i in range(rng.first_chunk, rng.last_chunk + 1):
        off = (i - rng.first_chunk) * sealed
        out += decrypt_chunk(key, params, i, data[off : off + sealed], last=i == n_total - 1)
    return bytes(out[rng.skip : rng.skip + rng.length])
