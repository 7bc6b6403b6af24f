"""The peer's persistent Ed25519 identity (libp2p protobuf private-key format, mode 0600)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from libp2p.crypto.ed25519 import Ed25519PrivateKey
from libp2p.crypto.ed25519 import create_new_key_pair as _new_ed25519
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.serialization import deserialize_private_key
from libp2p.peer.id import ID

from .errors import IdentityError


def load_or_create_identity(path: Path) -> KeyPair:
    """Load the Ed25519 key at ``path``; create it (atomically, mode 0600) if absent."""
    if path.exists():
        return load_identity(path)
    key_pair = _new_ed25519()
    _write_atomic(path, key_pair.private_key.serialize())
    return key_pair


def load_identity(path: Path) -> KeyPair:
    """Load an existing identity; raise :class:`IdentityError` if it is not an Ed25519 key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IdentityError(f"cannot read the identity key {path}: {exc.strerror}") from exc
    try:
        private_key = deserialize_private_key(raw)
    except Exception as exc:
        raise IdentityError(
            f"the identity key {path} is corrupt; move it away to create a new peer identity"
        ) from exc
    if not isinstance(private_key, Ed25519PrivateKey):
        raise IdentityError(f"the identity key {path} is not an Ed25519 key")
    return KeyPair(private_key, private_key.get_public_key())


def peer_id_of(key_pair: KeyPair) -> str:
    """The base58 peer id of a key pair."""
    return ID.from_pubkey(key_pair.public_key).to_base58()


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".identity-")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        raise IdentityError(f"cannot write the identity key {path}: {exc.strerror}") from exc
