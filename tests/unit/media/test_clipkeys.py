"""Clip-key store: encrypted at rest, passphrase checked, backups (storage/clipkeys.py)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from storage.clipkeys import ClipKeyStore, ScryptParams
from storage.crypto import ClipKey
from storage.errors import (
    ClipKeyNotFoundError,
    ClipKeyStoreError,
    CorruptKeyStoreError,
    WrongPassphraseError,
)

FAST = ScryptParams(n=2**4, r=8, p=1)
CID = "bafkreic5wr2nbeasgwfl7bnqnsw77fxhfcvhqlndrrk3hhhkpof3laec44"
CID2 = "bafkreihncjhd4ut3nh76mqqqovutggwk2r3spr2z6zp5jqdzvn2ipiezfm"


def key_forms(key: ClipKey) -> list[bytes]:
    raw = key.reveal()
    return [
        raw,
        raw.hex().encode(),
        raw.hex().upper().encode(),
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
    ]


def all_bytes_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def test_a_key_survives_reopening_with_the_same_passphrase(tmp_path: Path) -> None:
    key = ClipKey.generate()
    ClipKeyStore(tmp_path / "keys", "correct horse", kdf=FAST).put(CID, key)
    store = ClipKeyStore(tmp_path / "keys", "correct horse")
    assert store.get(CID) == key
    assert store.ids() == [CID]
    assert store.has(CID)
    assert not store.has(CID2)


def test_no_form_of_the_key_is_on_disk(tmp_path: Path) -> None:
    key = ClipKey.generate()
    store = ClipKeyStore(tmp_path / "keys", "pw", kdf=FAST)
    store.put(CID, key)
    store.export(tmp_path / "backup.json", "backup pw", kdf=FAST)
    blob = all_bytes_under(tmp_path)
    for form in key_forms(key):
        assert form not in blob


def test_key_files_are_private(tmp_path: Path) -> None:
    store = ClipKeyStore(tmp_path / "keys", "pw", kdf=FAST)
    store.put(CID, ClipKey.generate())
    assert (tmp_path / "keys").stat().st_mode & 0o077 == 0
    for p in (tmp_path / "keys").iterdir():
        assert p.stat().st_mode & 0o077 == 0


def test_a_wrong_passphrase_is_reported(tmp_path: Path) -> None:
    ClipKeyStore(tmp_path / "keys", "right", kdf=FAST)
    with pytest.raises(WrongPassphraseError):
        ClipKeyStore(tmp_path / "keys", "wrong")


def test_a_missing_key_is_not_found(tmp_path: Path) -> None:
    store = ClipKeyStore(tmp_path / "keys", "pw", kdf=FAST)
    with pytest.raises(ClipKeyNotFoundError):
        store.get(CID)


def test_putting_the_same_key_twice_is_idempotent_and_a_different_key_refused(
    tmp_path: Path,
) -> None:
    store = ClipKeyStore(tmp_path / "keys", "pw", kdf=FAST)
    key = ClipKey.generate()
    store.put(CID, key)
    store.put(CID, key)
    with pytest.raises(ClipKeyStoreError, match="different key"):
        store.put(CID, ClipKey.generate())
    assert store.get(CID) == key


@pytest.mark.parametrize("bad_id", ["../escape", "", "a/b", "x" * 129, "id with space", ".hidden"])
def test_clip_ids_cannot_escape_the_directory(tmp_path: Path, bad_id: str) -> None:
    store = ClipKeyStore(tmp_path / "keys", "pw", kdf=FAST)
    with pytest.raises(ClipKeyStoreError, match="invalid clip id"):
        store.put(bad_id, ClipKey.generate())


def test_a_key_file_renamed_to_another_clip_does_not_open(tmp_path: Path) -> None:
    store = ClipKeyStore(tmp_path / "keys", "pw", kdf=FAST)
    store.put(CID, ClipKey.generate())
    doc = json.loads((tmp_path / "keys" / f"{CID}.key").read_text())
    doc["id"] = CID2
    (tmp_path / "keys" / f"{CID2}.key").write_text(json.dumps(doc))
    with pytest.raises(WrongPassphraseError):
        store.get(CID2)


def test_a_tampered_key_file_is_detected(tmp_path: Path) -> None:
    store = ClipKeyStore(tmp_path / "keys", "pw", kdf=FAST)
    store.put(CID, ClipKey.generate())
    path = tmp_path / "keys" / f"{CID}.key"
    doc = json.loads(path.read_text())
    sealed = bytearray(base64.b64decode(doc["sealed"]))
    sealed[0] ^= 1
    doc["sealed"] = base64.b64encode(bytes(sealed)).decode()
    path.write_text(json.dumps(doc))
    with pytest.raises(WrongPassphraseError):
        store.get(CID)
    path.write_text("{not json")
    with pytest.raises(CorruptKeyStoreError):
        store.get(CID)


def test_export_and_import_move_keys_to_a_new_store(tmp_path: Path) -> None:
    a = ClipKeyStore(tmp_path / "a", "pw-a", kdf=FAST)
    k1, k2 = ClipKey.generate(), ClipKey.generate()
    a.put(CID, k1)
    a.put(CID2, k2)
    assert a.export(tmp_path / "backup.json", "backup", kdf=FAST) == 2
    b = ClipKeyStore(tmp_path / "b", "pw-b", kdf=FAST)
    assert b.import_backup(tmp_path / "backup.json", "backup") == 2
    assert b.get(CID) == k1
    assert b.get(CID2) == k2
    assert b.import_backup(tmp_path / "backup.json", "backup") == 0


def test_import_with_the_wrong_backup_passphrase_fails_and_adds_nothing(tmp_path: Path) -> None:
    a = ClipKeyStore(tmp_path / "a", "pw", kdf=FAST)
    a.put(CID, ClipKey.generate())
    a.export(tmp_path / "backup.json", "backup", kdf=FAST)
    b = ClipKeyStore(tmp_path / "b", "pw", kdf=FAST)
    with pytest.raises(WrongPassphraseError):
        b.import_backup(tmp_path / "backup.json", "nope")
    assert b.ids() == []


def test_import_refuses_a_conflicting_key_before_writing_anything(tmp_path: Path) -> None:
    a = ClipKeyStore(tmp_path / "a", "pw", kdf=FAST)
    a.put(CID, ClipKey.generate())
    a.put(CID2, ClipKey.generate())
    a.export(tmp_path / "backup.json", "backup", kdf=FAST)
    b = ClipKeyStore(tmp_path / "b", "pw", kdf=FAST)
    b.put(CID, ClipKey.generate())
    with pytest.raises(ClipKeyStoreError, match="different key"):
        b.import_backup(tmp_path / "backup.json", "backup")
    assert b.ids() == [CID]


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text(json.dumps({"v": 1, "kind": "other"}))
    b = ClipKeyStore(tmp_path / "b", "pw", kdf=FAST)
    with pytest.raises(CorruptKeyStoreError):
        b.import_backup(tmp_path / "x.json", "pw")


def test_no_temporary_files_remain(tmp_path: Path) -> None:
    store = ClipKeyStore(tmp_path / "keys", "pw", kdf=FAST)
    store.put(CID, ClipKey.generate())
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [f"{CID}.key", "store.json"]


def test_repr_does_not_reveal_keys(tmp_path: Path) -> None:
    store = ClipKeyStore(tmp_path / "keys", "pw", kdf=FAST)
    assert "pw" not in repr(store).replace(str(tmp_path), "")
