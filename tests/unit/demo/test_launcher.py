"""The launcher's data-dir helpers: what a fresh set-up forgets and what it keeps."""

from __future__ import annotations

import json
from pathlib import Path

from eth_account import Account

from peer.demo.launcher import DEMO_DEV_KEY, LOG_FILE, ensure_wallet, forget_published
from peer.demo.state import STAMP_FILE
from tokens.devnet import DEV_PRIVATE_KEYS
from tokens.wallet import DEVNET_SCRYPT_N


def test_a_fresh_set_up_forgets_the_published_state_but_keeps_identity_and_wallet(
    tmp_path: Path,
) -> None:
    for name in ("index", "store", "keys", "tmp", "p2p", "wallet"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "f").write_text(name)
    (tmp_path / STAMP_FILE).write_text("{}")
    (tmp_path / LOG_FILE).write_text("log")

    forget_published(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == [LOG_FILE, "p2p", "wallet"]
    assert (tmp_path / "p2p" / "f").read_text() == "p2p"
    assert (tmp_path / "wallet" / "f").read_text() == "wallet"
    forget_published(tmp_path)  # nothing left to forget: no error


def test_the_demo_wallet_is_the_dev_key_imported_once(tmp_path: Path) -> None:
    ensure_wallet(tmp_path)
    (keystore,) = (tmp_path / "wallet").glob("*.json")
    address = json.loads(keystore.read_text())["address"]
    expected = Account.from_key(DEV_PRIVATE_KEYS[DEMO_DEV_KEY]).address
    assert "0x" + address.removeprefix("0x").lower() == expected.lower()
    assert json.loads(keystore.read_text())["crypto"]["kdfparams"]["n"] == DEVNET_SCRYPT_N
    before = keystore.read_bytes()
    ensure_wallet(tmp_path)
    assert keystore.read_bytes() == before, "an existing wallet is kept as it is"
