"""Test wallets: what ``toktok wallet import`` does, in the test process and with a cheap KDF.

A test wallet's passphrase is written in the test's source, so the full scrypt cost (2**18, about
0.7 s of CPU to seal and again for every daemon that unlocks it) protects nothing; the keystore
records its N, so the daemon unlocks it as any other. The command itself is tested in
``tests/integration/tokens/test_cli.py``; set-up that only needs a wallet uses this.
"""

from __future__ import annotations

from pathlib import Path

from peer.datadir import DataDir
from tokens.wallet import DEVNET_SCRYPT_N, Wallet, WalletOptions

TEST_SCRYPT_N = DEVNET_SCRYPT_N


def import_wallet(data_dir: Path, private_key: str, passphrase: str) -> str:
    """Import ``private_key`` as ``data_dir``'s wallet (no daemon may run on it); its address."""
    folder = DataDir(data_dir)
    folder.ensure()
    wallet = Wallet(WalletOptions(wallet_dir=folder.wallet, scrypt_n=TEST_SCRYPT_N))
    return wallet.import_private_key(private_key, passphrase)
