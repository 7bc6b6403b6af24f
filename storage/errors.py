"""Errors raised by the ``storage`` package.

Every error raised across a ``storage`` API is a :class:`StorageError`. Third-party and OS
errors are translated at the boundary (``raise StoreIOError(...) from exc``). Messages say
what went wrong and, where there is one, what to do about it.

Exception tree::

    StorageError
    ├── InvalidCIDError          a CID string/bytes is malformed (bad multibase, varint, length)
    ├── UnsupportedError         well-formed but not supported here (codec, hash function,
    │                            UnixFS node type such as a directory or HAMT shard)
    ├── BlockNotFoundError       a block (or the root of some content) is not in the store
    ├── CorruptBlockError        stored or received bytes do not hash to their CID
    ├── MalformedDagError        a block decodes badly (dag-pb/UnixFS protobuf), or a DAG
    │                            is inconsistent (blocksizes do not add up, size mismatch)
    ├── InvalidRangeError        a byte range is negative or reversed (also a ValueError)
    ├── RangeNotSatisfiableError an HTTP Range header no byte of the content satisfies (416)
    ├── NotPinnedError           unpin of a CID that has no pin
    ├── IncompleteDagError       an operation needs a whole DAG (pin, GC walk) but a block
    │                            of it is missing locally
    ├── StoreIOError             the disk failed (permissions, full disk, unreadable file)
    ├── BackendUnavailableError  an external backend (Kubo RPC) cannot be reached
    └── UntrustedJsonError       JSON from outside refused by ``storage.untrusted`` (too large,
                                 too deep, not UTF-8, duplicate key, float/NaN, bad syntax);
                                 also a ValueError; ``.reason`` names the rule

The media engineer appends a marked section with ``storage.media`` / ``storage.crypto``
errors at the end of this module; those also derive from :class:`StorageError`.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised by the storage package."""


class InvalidCIDError(StorageError, ValueError):
    """A CID (string or bytes) could not be decoded."""


class UnsupportedError(StorageError):
    """Well-formed input this implementation does not support (codec, hash, node type)."""


class BlockNotFoundError(StorageError, LookupError):
    """A block is not in the store."""

    def __init__(self, message: str, cid: str | None = None) -> None:
        super().__init__(message)
        self.cid = cid


class CorruptBlockError(StorageError):
    """Bytes do not hash to the CID they are stored or received under."""

    def __init__(self, message: str, cid: str | None = None) -> None:
        super().__init__(message)
        self.cid = cid


class MalformedDagError(StorageError):
    """A block does not decode as dag-pb/UnixFS, or the DAG is inconsistent."""


class InvalidRangeError(StorageError, ValueError):
    """A byte range is negative or reversed."""


class RangeNotSatisfiableError(StorageError):
    """A ``Range`` header that no byte of the content satisfies (HTTP 416); ``size`` is the
    content's size, for ``Content-Range: bytes */<size>``."""

    def __init__(self, message: str, size: int) -> None:
        super().__init__(message)
        self.size = size


class NotPinnedError(StorageError, LookupError):
    """Unpin of a CID that is not pinned."""


class IncompleteDagError(StorageError):
    """A whole DAG is needed (pinning, GC) but one of its blocks is missing locally."""

    def __init__(self, message: str, missing: str | None = None) -> None:
        super().__init__(message)
        self.missing = missing


class StoreIOError(StorageError, OSError):
    """The underlying disk or database failed."""


class BackendUnavailableError(StorageError):
    """An external storage backend (e.g. a Kubo daemon) cannot be reached."""


class UntrustedJsonError(StorageError, ValueError):
    """JSON bytes from outside were refused before or while parsing.

    ``reason`` is one of ``too-large``, ``too-deep``, ``not-utf8``, ``duplicate-key``,
    ``number`` (a float where only integers are allowed, or an integer too long to parse),
    ``constant`` (NaN / Infinity) and ``syntax``.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


# =========================================================================================
# Section owned by the media engineer: chunked encryption (storage.crypto) and the creator's
# clip-key store (storage.clipkeys). Media pipeline errors live in storage/media/errors.py.
#
#     StorageError
#     ├── CryptoError
#     │   ├── MalformedCiphertextError   size/parameters impossible for the STREAM framing
#     │   └── DecryptionError            authentication failed: wrong key, or a chunk,
#     │                                  nonce, order, length or tag was tampered with
#     └── ClipKeyStoreError
#         ├── ClipKeyNotFoundError       no key stored for that clip
#         ├── WrongPassphraseError       the passphrase does not open the store / backup
#         └── CorruptKeyStoreError       a key file or backup is malformed
# =========================================================================================


class CryptoError(StorageError):
    """Base class of encryption / decryption errors."""


class MalformedCiphertextError(CryptoError, ValueError):
    """A ciphertext's size or the encryption parameters cannot be valid STREAM framing."""


class DecryptionError(CryptoError):
    """Authentication failed: the key is wrong or the ciphertext was modified."""


class ClipKeyStoreError(StorageError):
    """Base class of clip-key store errors."""


class ClipKeyNotFoundError(ClipKeyStoreError, LookupError):
    """No key is stored for the requested clip."""


class WrongPassphraseError(ClipKeyStoreError):
    """The passphrase does not decrypt the key store or the backup."""


class CorruptKeyStoreError(ClipKeyStoreError):
    """A stored key file or a backup file is malformed."""


# =========================================================================================
# Section owned by the storage-network engineer: bitswap (storage.bitswap), the Kubo RPC
# backend (storage.kubo) and the local gateway (storage.gateway).
#
#     StorageError
#     ├── BlockNotFoundError
#     │   └── ContentUnavailableError   the network could not deliver a block: no connected
#     │       │                         peer had it, providers vanished or timed out, or
#     │       │                         every one sent corrupt data (never a short result)
#     │       └── RelayLimitedError     only peers reached through a relay had it, and the
#     │                                 relay cut the transfer (its data or time limit)
#     ├── BitswapProtocolError          a peer sent a malformed or oversized bitswap message
#     │                                 (also a ValueError); its stream is reset
#     ├── BackendUnavailableError
#     │   └── KuboUnreachableError      the Kubo RPC API does not answer at its multiaddr
#     └── KuboRPCError                  the Kubo daemon answered a call with an error
# =========================================================================================


class ContentUnavailableError(BlockNotFoundError):
    """The network could not deliver a block (no provider, all timed out or lied)."""

    def __init__(self, message: str, cid: str | None = None, asked: int = 0) -> None:
        super().__init__(message, cid)
        self.asked = asked


class RelayLimitedError(ContentUnavailableError):
    """A block came only from peers we reach through a relay, and the relay cut the transfer
    (relays limit each relayed connection's bytes and duration); no direct peer has it."""


class BitswapProtocolError(StorageError, ValueError):
    """A peer sent a bitswap message we cannot accept (malformed, oversized, bad prefix)."""


class KuboUnreachableError(BackendUnavailableError):
    """The configured Kubo RPC API cannot be reached."""


class KuboRPCError(StorageError):
    """The Kubo daemon answered an RPC call with an error."""
