"""The wallet a devnet peer creates for itself: sealed cheaply under the public devnet
passphrase, at full cost under a passphrase of the user's."""

from __future__ import annotations

import json
from pathlib import Path

from peer.daemon.wallet import WalletService
from tokens.wallet import DEFAULT_SCRYPT_N, DEVNET_SCRYPT_N, KEYSTORE_FILE


def scrypt_n(wallet_dir: Path) -> int:
    return int(json.loads((wallet_dir / KEYSTORE_FILE).read_text())["crypto"]["kdfparams"]["n"])


async def test_a_devnet_wallet_under_the_public_passphrase_uses_the_cheap_kdf(
    tmp_path: Path,
) -> None:
    service = WalletService(tmp_path / "wallet", tmp_path / "keys", devnet=True, environ={})
    await service.start()
    assert service.created
    assert service.state == "unlocked"
    assert scrypt_n(tmp_path / "wallet") == DEVNET_SCRYPT_N
    again = WalletService(tmp_path / "wallet", tmp_path / "keys", devnet=True, environ={})
    await again.start()
    assert again.address == service.address, "it unlocks again with the devnet passphrase"


async def test_a_devnet_wallet_under_the_users_passphrase_gets_the_full_kdf(
    tmp_path: Path,
) -> None:
    env = {"TOKTOK_PASSPHRASE": "the user's own"}
    service = WalletService(tmp_path / "wallet", tmp_path / "keys", devnet=True, environ=env)
    await service.start()
    assert service.created
    assert service.state == "unlocked"
    assert scrypt_n(tmp_path / "wallet") == DEFAULT_SCRYPT_N
