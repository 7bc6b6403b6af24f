"""Wallet keystore: create, import, export, unlock; bad input loses nothing."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from eth_account import Account

from tokens.errors import (
    BadPassphraseError,
    KeyFormatError,
    WalletError,
    WalletExistsError,
    WalletNotFoundError,
)
from tokens.wallet import DEVNET_PASSPHRASE, Wallet, WalletOptions, resolve_passphrase

FAST_N = 2**4  # keep scrypt cheap in tests


def wallet(tmp_path: Path) -> Wallet:
    return Wallet(WalletOptions(wallet_dir=tmp_path / "wallet", scrypt_n=FAST_N))


def test_create_then_unlock(tmp_path: Path) -> None:
    w = wallet(tmp_path)
    address = w.create("s3cret")
    assert w.address() == address
    assert w.unlock("s3cret").address == address
    assert stat.S_IMODE(w.path.stat().st_mode) == 0o600
    assert "s3cret" not in w.path.read_text()


def test_wrong_passphrase_is_a_typed_error(tmp_path: Path) -> None:
    w = wallet(tmp_path)
    w.create("right")
    with pytest.raises(BadPassphraseError):
        w.unlock("wrong")


def test_existing_wallet_is_never_overwritten_by_accident(tmp_path: Path) -> None:
    w = wallet(tmp_path)
    first = w.create("a")
    with pytest.raises(WalletExistsError):
        w.create("b")
    with pytest.raises(WalletExistsError):
        w.import_private_key(Account.create().key.to_0x_hex(), "b")
    assert w.unlock("a").address == first


def test_import_private_key_and_export_keystore_round_trip(tmp_path: Path) -> None:
    account = Account.create()
    w = wallet(tmp_path)
    assert w.import_private_key(account.key.to_0x_hex(), "pw") == account.address
    exported = w.export_keystore()
    other = Wallet(WalletOptions(wallet_dir=tmp_path / "other", scrypt_n=FAST_N))
    assert other.import_keystore(exported, "pw", "new-pw") == account.address
    assert other.unlock("new-pw").key == account.key


@pytest.mark.parametrize("key", ["", "0x1234", "not hex", "0x" + "zz" * 32])
def test_malformed_private_keys_are_refused(tmp_path: Path, key: str) -> None:
    w = wallet(tmp_path)
    with pytest.raises(KeyFormatError):
        w.import_private_key(key, "pw")
    assert not w.exists()


def test_keystore_import_checks_json_and_passphrase(tmp_path: Path) -> None:
    source = wallet(tmp_path)
    source.create("pw")
    w = Wallet(WalletOptions(wallet_dir=tmp_path / "dest", scrypt_n=FAST_N))
    with pytest.raises(KeyFormatError):
        w.import_keystore("{not json", "pw", "pw")
    with pytest.raises(KeyFormatError):
        w.import_keystore(json.dumps({"crypto": {}}), "pw", "pw")
    with pytest.raises(BadPassphraseError):
        w.import_keystore(source.export_keystore(), "wrong", "pw")
    assert not w.exists()


def test_missing_wallet_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(WalletNotFoundError, match="wallet create"):
        wallet(tmp_path).address()


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WalletError):
        wallet(tmp_path).create("")


def test_passphrase_resolution_order() -> None:
    env = {"TOKTOK_PASSPHRASE": "from-env"}
    assert resolve_passphrase("explicit", env) == "explicit"
    assert resolve_passphrase(None, env, devnet=True) == "from-env"
    assert resolve_passphrase(None, {}, devnet=True) == DEVNET_PASSPHRASE
    assert resolve_passphrase(None, {}, prompt=lambda: "typed") == "typed"
    with pytest.raises(WalletError, match="TOKTOK_PASSPHRASE"):
        resolve_passphrase(None, {})
