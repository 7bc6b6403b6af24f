"""The peer's wallet: loaded (and on the devnet created and funded) when the daemon starts.

* A wallet in ``<data-dir>/wallet`` is unlocked with ``TOKTOK_PASSPHRASE`` or, on the devnet,
  the documented devnet passphrase; the clip-key store in ``<data-dir>/keys`` opens with the
  same passphrase. Without a passphrase the daemon still runs; the wallet is reported as
  ``locked`` and nothing that signs is available.
* On the devnet a missing wallet is created (a fresh random key, so peers side by side never
  share a creator address) and funded from the devnet faucet with gas money and TOK. Sealed
  under the public devnet passphrase, its keystore uses a cheap scrypt (``DEVNET_SCRYPT_N``);
  with ``TOKTOK_PASSPHRASE`` set it gets the full cost.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from storage.clipkeys import ClipKeyStore
from tokens.errors import WalletError
from tokens.wallet import (
    DEVNET_PASSPHRASE,
    DEVNET_SCRYPT_N,
    Wallet,
    WalletOptions,
    resolve_passphrase,
)

DEVNET_FAUCET_TOK = 10_000 * 10**18
DEVNET_FAUCET_ETH = 100 * 10**18


class WalletService:
    """Holds the unlocked account (or knows why there is none)."""

    name = "wallet"

    def __init__(
        self,
        wallet_dir: Path,
        keys_dir: Path,
        *,
        devnet: bool,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._keys_dir = keys_dir
        self._wallet_dir = wallet_dir
        self._wallet = Wallet(WalletOptions(wallet_dir))
        self._devnet = devnet
        self._environ = os.environ if environ is None else environ
        self.account: LocalAccount | None = None
        self.clip_keys: ClipKeyStore | None = None
        self.passphrase: str | None = None  # kept in memory only, for the key stores
        self.created = False
        self.state = "none"

    @property
    def address(self) -> str | None:
        if self.account is not None:
            return str(self.account.address)
        return self._wallet.address() if self._wallet.exists() else None

    async def start(self) -> None:
        if not self._wallet.exists():
            if not self._devnet:
                return  # no wallet yet: 'toktok wallet create' or 'import'
            passphrase = resolve_passphrase(env=self._environ, devnet=True)
            sealer = self._wallet
            if passphrase == DEVNET_PASSPHRASE:  # public: a costly KDF would protect nothing
                sealer = Wallet(WalletOptions(self._wallet_dir, scrypt_n=DEVNET_SCRYPT_N))
            await asyncio.to_thread(sealer.create, passphrase)
            self.created = True
        try:
            passphrase = resolve_passphrase(env=self._environ, devnet=self._devnet)
        except WalletError:
            self.state = "locked"
            return
        self.account = await asyncio.to_thread(self._wallet.unlock, passphrase)
        # Premium clip keys are sealed under the same passphrase (ARCHITECTURE "Identity").
        self.clip_keys = await asyncio.to_thread(ClipKeyStore, self._keys_dir, passphrase)
        self.passphrase = passphrase
        self.state = "unlocked"

    async def stop(self) -> None:
        self.account = None
        self.clip_keys = None
        self.passphrase = None

    def status(self) -> dict[str, Any]:
        return {"address": self.address, "state": self.state}
