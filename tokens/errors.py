"""Errors of the ``tokens`` package.

Every error raised by ``tokens`` derives from :class:`TokensError`; third-party errors
(web3, eth-account, subprocess) are translated at the boundary with ``raise ... from exc``.
The message says what went wrong and what to do.

::

    TokensError
    ├── ArtifactError            contract artifacts missing, stale or unreadable
    ├── DevnetError              anvil could not be started, deployed to or stopped
    ├── ChainError               anything on the chain side
    │   ├── ChainUnavailableError    RPC unreachable / timed out (callers fail closed)
    │   │   └── ChainResponseError       the RPC answered something unusable: over the size
    │   │                                cap, nested too deeply, not JSON (fail closed too)
    │   ├── StateUnavailableError    the node has no state for the requested block
    │   ├── DeploymentError          deployment file missing/invalid, contracts absent
    │   │   ├── ChainMismatchError       the RPC's chain id is not the profile's
    │   │   ├── ForeignCodeError         the code at an address is not Toktok's own
    │   │   └── NotPlainTokenError       the payment token is not a plain ERC-20 (fee on
    │   │                                transfer, rebasing): it cannot back a reserve
    │   ├── NoCreatorTokenError      the creator has no token in the factory
    │   ├── TokenExistsError         the creator already has a token
    │   ├── SpendLimitError          a buy would exceed the session spend limit
    │   └── TransactionError         a transaction reverted or was not mined
    │       ├── SlippageError            cost above max_cost / refund below min_refund
    │       ├── DeadlineError            mined after the deadline
    │       └── InsufficientFundsError   not enough TOK, tokens or gas
    ├── WalletError              keystore problems
    │   ├── WalletNotFoundError      no keystore in the wallet folder
    │   ├── WalletExistsError        refusing to overwrite a keystore
    │   ├── BadPassphraseError       the passphrase does not open the keystore
    │   └── KeyFormatError           a private key or keystore JSON is malformed
    └── SiweError                EIP-4361 (Sign-In with Ethereum) messages
        ├── SiweParseError           the text does not follow the EIP's grammar
        └── SiweVerifyError          a field or the signature fails verification (``.code``)
"""

from __future__ import annotations


class TokensError(Exception):
    """Base of every error raised by the tokens package."""


class ArtifactError(TokensError):
    """Contract artifacts are missing, stale or unreadable."""


class DevnetError(TokensError):
    """The local devnet (anvil) could not be started, deployed to or stopped."""


class ChainError(TokensError):
    """A chain-side operation failed."""


class ChainUnavailableError(ChainError):
    """The RPC endpoint is unreachable or timed out; callers must fail closed."""


class ChainResponseError(ChainUnavailableError):
    """The RPC endpoint answered with bytes we refuse (too large, too deep, not JSON)."""


class StateUnavailableError(ChainError):
    """The node cannot answer for that block (pruned, or before a devnet restart)."""


class DeploymentError(ChainError):
    """The deployment description is missing or does not match the chain."""


class ChainMismatchError(DeploymentError):
    """The chain behind the RPC URL has another chain id than the network profile."""


class ForeignCodeError(DeploymentError):
    """The code at a profile's address is not what our artifacts and its parameters make."""


class NotPlainTokenError(DeploymentError):
    """The payment token moved other amounts than asked (a fee on transfer, a rebase)."""


class NoCreatorTokenError(ChainError):
    """The creator has not created a token yet."""


class TokenExistsError(ChainError):
    """The creator already has a token (one per creator)."""


class SpendLimitError(ChainError):
    """The operation would exceed the configured per-session spend limit."""


class TransactionError(ChainError):
    """A transaction reverted or was not mined; ``reason`` holds the revert reason."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class SlippageError(TransactionError):
    """The price moved beyond the caller's bound (max_cost / min_refund)."""


class DeadlineError(TransactionError):
    """The transaction was mined after its deadline."""


class InsufficientFundsError(TransactionError):
    """Not enough TOK, creator tokens, allowance or gas."""


class WalletError(TokensError):
    """Keystore problems."""


class WalletNotFoundError(WalletError):
    """No keystore in the wallet folder."""


class WalletExistsError(WalletError):
    """A keystore already exists; refusing to overwrite it."""


class BadPassphraseError(WalletError):
    """The passphrase does not open the keystore."""


class KeyFormatError(WalletError):
    """A private key or keystore JSON is malformed."""


class SiweError(TokensError):
    """EIP-4361 (Sign-In with Ethereum) message errors."""


class SiweParseError(SiweError):
    """The message text does not follow the EIP-4361 grammar."""


class SiweVerifyError(SiweError):
    """A field or the signature fails verification; ``code`` names the check."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
