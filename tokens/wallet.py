"""The wallet: one encrypted keystore (eth-account, scrypt) in ``<data>/wallet/``.

The passphrase comes from the caller (a prompt), ``TOKTOK_PASSPHRASE``, or on the devnet
the documented default. The file is written atomically with mode 0600; a bad passphrase
or malformed input raises a :mod:`tokens.errors` type and leaves the keystore untouched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from tokens.errors import (
    BadPassphraseError,
    KeyFormatError,
    WalletError,
    WalletExistsError,
    WalletNotFoundError,
)

MAX_KEYSTORE_CHARS = 64 * 1024
"""Largest keystore accepted for import (a V3 keystore is under 1 KB)."""

KEYSTORE_FILE = "keystore.json"
PASSPHRASE_ENV = "TOKTOK_PASSPHRASE"  # noqa: S105 (the variable name, not a secret)
# Devnet only (the anvil dev keys are public anyway); documented, not a secret.
DEVNET_PASSPHRASE = "toktok-devnet"  # noqa: S105
DEFAULT_SCRYPT_N = 2**18
# A keystore sealed under DEVNET_PASSPHRASE protects nothing (the passphrase is public), so the
# wallet a devnet peer creates for itself skips the 2**18 work (~0.7 s of CPU per seal or unlock).
DEVNET_SCRYPT_N = 2**12


@dataclass(frozen=True)
class WalletOptions:
    wallet_dir: Path  # <data>/wallet
    scrypt_n: int = DEFAULT_SCRYPT_N  # tests may lower it; the keystore records it


def resolve_passphrase(
    explicit: str | None = None,
    env: Mapping[str, str] | None = None,
    devnet: bool = False,
    prompt: Callable[[], str] | None = None,
) -> str:
    """Explicit, else ``TOKTOK_PASSPHRASE``, else the devnet default, else the prompt."""
    if explicit:
        return explicit
    environment = os.environ if env is None else env
    if environment.get(PASSPHRASE_ENV):
        return environment[PASSPHRASE_ENV]
    if devnet:
        return DEVNET_PASSPHRASE
    if prompt is not None:
        value = prompt()
        if value:
            return value
    raise WalletError(f"a passphrase is needed: set {PASSPHRASE_ENV} or enter one at the prompt")


class Wallet:
    def __init__(self, options: WalletOptions) -> None:
        self._options = options

    @property
    def path(self) -> Path:
        return self._options.wallet_dir / KEYSTORE_FILE

    def exists(self) -> bool:
        return self.path.exists()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError as exc:
            raise WalletNotFoundError(
                f"no wallet at {self.path}; run 'toktok wallet create' or 'toktok wallet import'"
            ) from exc
        except (OSError, ValueError) as exc:
            raise KeyFormatError(f"unreadable keystore {self.path}: {exc}") from exc
        if not isinstance(data, dict) or ("crypto" not in data and "Crypto" not in data):
            raise KeyFormatError(f"{self.path} is not a keystore")
        return data

    def _write(self, keystore: dict[str, Any], overwrite: bool) -> None:
        if self.exists() and not overwrite:
            raise WalletExistsError(
                f"a wallet already exists at {self.path}; refusing to replace it"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(KEYSTORE_FILE + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(keystore, fh)
        os.replace(tmp, self.path)

    def _encrypt(self, key: bytes, passphrase: str) -> dict[str, Any]:
        if not passphrase:
            raise WalletError("the passphrase must not be empty")
        keystore: dict[str, Any] = Account.encrypt(
            key, passphrase, kdf="scrypt", iterations=self._options.scrypt_n
        )
        return keystore

    def create(self, passphrase: str, overwrite: bool = False) -> str:
        """A new random key; returns its address."""
        account = Account.create()
        self._write(self._encrypt(bytes(account.key), passphrase), overwrite)
        return str(account.address)

    def import_private_key(self, private_key: str, passphrase: str, overwrite: bool = False) -> str:
        try:
            account = Account.from_key(private_key.strip())
        except (ValueError, TypeError) as exc:
            raise KeyFormatError("not a private key (expected 32 bytes as 0x-hex)") from exc
        self._write(self._encrypt(bytes(account.key), passphrase), overwrite)
        return str(account.address)

    def import_keystore(
        self, keystore_json: str, keystore_passphrase: str, passphrase: str, overwrite: bool = False
    ) -> str:
        """Import a V3 keystore (opened with its own passphrase, stored under `passphrase`)."""
        if len(keystore_json) > MAX_KEYSTORE_CHARS:
            raise KeyFormatError(f"keystore is larger than {MAX_KEYSTORE_CHARS} characters")
        try:
            # a file from the user: capped above; deep nesting is a RecursionError under the
            # sane limit (tokens/recursion.py), since tokens cannot use storage's decoder
            data = json.loads(keystore_json)
        except (ValueError, RecursionError) as exc:
            raise KeyFormatError(f"keystore is not JSON: {str(exc)[:200]}") from exc
        key = _decrypt(data, keystore_passphrase)
        account = Account.from_key(key)
        self._write(self._encrypt(key, passphrase), overwrite)
        return str(account.address)

    def export_keystore(self) -> str:
        """The encrypted keystore JSON (never the raw key)."""
        return json.dumps(self._read())

    def address(self) -> str:
        """The address recorded in the keystore, without decrypting."""
        data = self._read()
        try:
            return str(to_checksum_address("0x" + str(data["address"]).removeprefix("0x")))
        except (KeyError, ValueError) as exc:
            raise KeyFormatError("keystore lacks a valid address") from exc

    def unlock(self, passphrase: str) -> LocalAccount:
        account: LocalAccount = Account.from_key(_decrypt(self._read(), passphrase))
        return account


def _decrypt(data: Any, passphrase: str) -> bytes:
    if not isinstance(data, dict):
        raise KeyFormatError("keystore must be a JSON object")
    try:
        return bytes(Account.decrypt(data, passphrase))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise BadPassphraseError("wrong passphrase for this keystore") from exc
        raise KeyFormatError(f"malformed keystore: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise KeyFormatError(f"malformed keystore: {exc}") from exc
