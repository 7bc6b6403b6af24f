"""The creator's clip-key store: premium clip keys, encrypted at rest, with encrypted backups.

Layout of the directory given to :class:`ClipKeyStore` (``<data>/keys/``):

* ``store.json``: ``{"v": 1, "kdf": {scrypt parameters and salt}, "check": ...}``. The key
  encryption key (KEK) is derived from the wallet passphrase with scrypt; ``check`` is a
  known value sealed under it, so a wrong passphrase is reported as such.
* ``<clip id>.key``: ``{"v": 1, "id": ..., "nonce": ..., "sealed": ...}``, the clip key
  sealed with ChaCha20-Poly1305 under the KEK, with the clip id as associated data (a key file
  renamed to another clip does not open).

Keys exist unencrypted only in memory: files are written to a temporary name (holding the same
sealed bytes) and renamed into place; nothing here logs a key (:class:`ClipKey` hides itself in
``repr``). A backup (:meth:`ClipKeyStore.export`) is one file sealed under a key derived from a
backup passphrase with its own salt.

Blocking (scrypt, disk): call from a worker thread when on the event loop.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from storage import untrusted
from storage.crypto import ClipKey
from storage.errors import (
    ClipKeyNotFoundError,
    ClipKeyStoreError,
    CorruptKeyStoreError,
    StoreIOError,
    WrongPassphraseError,
)

_STORE_FILE: Final = "store.json"
_KEY_SUFFIX: Final = ".key"
_CHECK_PLAINTEXT: Final = b"toktok clip-key store v1"
_BACKUP_KIND: Final = "toktok-clipkeys-backup"
_ID_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,128}")
_NONCE: Final = 12
_MAX_FILE: Final = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ScryptParams:
    """scrypt cost parameters (``n`` a power of two). Tests use small values."""

    n: int = 2**15
    r: int = 8
    p: int = 1

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        """A 32-byte key from ``passphrase`` and ``salt``."""
        kdf = Scrypt(salt=salt, length=32, n=self.n, r=self.r, p=self.p)
        return kdf.derive(passphrase.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise CorruptKeyStoreError(f"{what} is missing or not a string")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise CorruptKeyStoreError(f"{what} is not valid base64") from exc


def _kdf_from(doc: Any, what: str) -> tuple[ScryptParams, bytes]:
    if not isinstance(doc, dict) or doc.get("name") != "scrypt":
        raise CorruptKeyStoreError(f"{what}: unknown key derivation")
    try:
        n, r, p = (int(doc[k]) for k in ("n", "r", "p"))
    except (KeyError, TypeError, ValueError) as exc:
        raise CorruptKeyStoreError(f"{what}: bad scrypt parameters") from exc
    if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 64 or n > 2**22:
        raise CorruptKeyStoreError(f"{what}: scrypt parameters out of range")
    return ScryptParams(n, r, p), _unb64(doc.get("salt"), f"{what}: salt")


def _kdf_doc(params: ScryptParams, salt: bytes) -> dict[str, Any]:
    return {"name": "scrypt", "n": params.n, "r": params.r, "p": params.p, "salt": _b64(salt)}


def _seal(kek: bytes, plaintext: bytes, aad: bytes) -> dict[str, str]:
    nonce = os.urandom(_NONCE)
    return {
        "nonce": _b64(nonce),
        "sealed": _b64(ChaCha20Poly1305(kek).encrypt(nonce, plaintext, aad)),
    }


def _open(kek: bytes, doc: dict[str, Any], aad: bytes, what: str) -> bytes:
    nonce = _unb64(doc.get("nonce"), f"{what}: nonce")
    sealed = _unb64(doc.get("sealed"), f"{what}: sealed")
    if len(nonce) != _NONCE:
        raise CorruptKeyStoreError(f"{what}: bad nonce")
    try:
        return ChaCha20Poly1305(kek).decrypt(nonce, sealed, aad)
    except InvalidTag as exc:
        raise WrongPassphraseError(
            f"{what}: cannot be decrypted (wrong passphrase, or the file was modified)"
        ) from exc


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_MAX_FILE + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StoreIOError(f"cannot read {what} ({path}): {exc.strerror}") from exc
    if len(raw) > _MAX_FILE:
        raise CorruptKeyStoreError(f"{what} is too large")
    try:
        doc = untrusted.loads(raw, max_bytes=_MAX_FILE, what=what)
    except ValueError as exc:
        raise CorruptKeyStoreError(f"{what} is not valid JSON") from exc
    if not isinstance(doc, dict) or doc.get("v") != 1:
        raise CorruptKeyStoreError(f"{what} has an unknown format")
    return doc


def _write_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Write JSON to ``path`` via a temporary file in the same directory, then rename."""
    data = json.dumps(doc, sort_keys=True).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StoreIOError(f"cannot write {path}: {exc.strerror}") from exc
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def check_clip_id(clip_id: str) -> str:
    """Validate a clip id (a manifest CID string): letters, digits, ``-`` and ``_`` only."""
    if not isinstance(clip_id, str) or not _ID_RE.fullmatch(clip_id):
        raise ClipKeyStoreError(f"invalid clip id {clip_id!r}")
    return clip_id


class ClipKeyStore:
    """Clip keys of one creator, sealed under a key derived from the wallet passphrase.

    Opening an existing store with a wrong passphrase raises :class:`WrongPassphraseError`.
    """

    def __init__(
        self, directory: Path, passphrase: str, *, kdf: ScryptParams | None = None
    ) -> None:
        self._dir = directory
        self._lock = threading.Lock()
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreIOError(f"cannot create the key store {directory}: {exc.strerror}") from exc
        store = directory / _STORE_FILE
        try:
            doc = _read_json(store, "the key store header")
        except FileNotFoundError:
            params = kdf or ScryptParams()
            salt = os.urandom(16)
            self._kek = params.derive(passphrase, salt)
            header = {"v": 1, "kdf": _kdf_doc(params, salt)}
            header["check"] = _seal(self._kek, _CHECK_PLAINTEXT, b"check")
            _write_atomic(store, header)
            return
        params, salt = _kdf_from(doc.get("kdf"), "the key store header")
        self._kek = params.derive(passphrase, salt)
        check = doc.get("check")
        if not isinstance(check, dict):
            raise CorruptKeyStoreError("the key store header has no passphrase check")
        if _open(self._kek, check, b"check", "the key store") != _CHECK_PLAINTEXT:
            raise CorruptKeyStoreError("the key store header is corrupt")

    def __repr__(self) -> str:
        return f"ClipKeyStore({str(self._dir)!r})"

    def _path(self, clip_id: str) -> Path:
        return self._dir / (check_clip_id(clip_id) + _KEY_SUFFIX)

    def put(self, clip_id: str, key: ClipKey) -> None:
        """Store ``key`` for ``clip_id``. Storing the same key again is a no-op; a different
        key for an id that already has one is refused (it would make the clip unreadable)."""
        path = self._path(clip_id)
        with self._lock:
            if path.exists():
                if self._get(clip_id, path) == key:
                    return
                raise ClipKeyStoreError(f"clip {clip_id} already has a different key")
            doc: dict[str, Any] = {"v": 1, "id": clip_id}
            doc.update(_seal(self._kek, key.reveal(), clip_id.encode()))
            _write_atomic(path, doc)

    def get(self, clip_id: str) -> ClipKey:
        """The key of ``clip_id`` (:class:`ClipKeyNotFoundError` if there is none)."""
        return self._get(clip_id, self._path(clip_id))

    def _get(self, clip_id: str, path: Path) -> ClipKey:
        try:
            doc = _read_json(path, f"the key file of {clip_id}")
        except FileNotFoundError as exc:
            raise ClipKeyNotFoundError(f"no key stored for clip {clip_id}") from exc
        if doc.get("id") != clip_id:
            raise CorruptKeyStoreError(f"the key file of {clip_id} names another clip")
        raw = _open(self._kek, doc, clip_id.encode(), f"the key of {clip_id}")
        try:
            return ClipKey(raw)
        except ValueError as exc:
            raise CorruptKeyStoreError(f"the key of {clip_id} has the wrong length") from exc

    def has(self, clip_id: str) -> bool:
        """True if a key is stored for ``clip_id``."""
        return self._path(clip_id).exists()

    def ids(self) -> list[str]:
        """Every clip id with a stored key, sorted."""
        return sorted(
            p.name[: -len(_KEY_SUFFIX)]
            for p in self._dir.iterdir()
            if p.name.endswith(_KEY_SUFFIX) and _ID_RE.fullmatch(p.name[: -len(_KEY_SUFFIX)])
        )

    def export(self, path: Path, passphrase: str, *, kdf: ScryptParams | None = None) -> int:
        """Write every key into one backup file sealed under ``passphrase``; return the count."""
        params = kdf or ScryptParams()
        entries = {cid: _b64(self.get(cid).reveal()) for cid in self.ids()}
        salt = os.urandom(16)
        backup_key = params.derive(passphrase, salt)
        payload = json.dumps({"keys": entries}, sort_keys=True).encode("utf-8")
        doc: dict[str, Any] = {"v": 1, "kind": _BACKUP_KIND, "kdf": _kdf_doc(params, salt)}
        doc.update(_seal(backup_key, payload, _BACKUP_KIND.encode()))
        _write_atomic(path, doc)
        return len(entries)

    def import_backup(self, path: Path, passphrase: str) -> int:
        """Add every key of a backup file; return how many were new.

        A backup key that conflicts with a different stored key raises
        :class:`ClipKeyStoreError` before anything is written.
        """
        try:
            doc = _read_json(path, "the backup file")
        except FileNotFoundError as exc:
            raise StoreIOError(f"backup file {path} does not exist") from exc
        if doc.get("kind") != _BACKUP_KIND:
            raise CorruptKeyStoreError("not a Toktok clip-key backup")
        params, salt = _kdf_from(doc.get("kdf"), "the backup file")
        payload = _open(params.derive(passphrase, salt), doc, _BACKUP_KIND.encode(), "the backup")
        try:
            entries = untrusted.loads(payload, max_bytes=_MAX_FILE, what="backup")["keys"]
            keys = {
                check_clip_id(cid): ClipKey(base64.b64decode(v, validate=True))
                for cid, v in entries.items()
            }
        except (ValueError, KeyError, TypeError, AttributeError, ClipKeyStoreError) as exc:
            raise CorruptKeyStoreError("the backup's content is malformed") from exc
        new = {cid: key for cid, key in keys.items() if not self.has(cid)}
        for cid in keys.keys() - new.keys():
            if self.get(cid) != keys[cid]:
                raise ClipKeyStoreError(f"the backup has a different key for clip {cid}")
        for cid, key in new.items():
            self.put(cid, key)
        return len(new)
