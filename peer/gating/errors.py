"""Errors of token-gated key release and decrypted playback (``peer.gating``).

Third-party errors (p2p, chain, storage) are translated at the boundary. Messages never
contain key material. A missing wallet is :class:`peer.errors.NoWalletError`. Exception tree::

    GatingError                      base of everything this package raises on purpose
    ├── ProtocolError                a /toktok/keys/1.0.0 message is malformed (names the field)
    ├── SealError                    a sealed key does not open (wrong ephemeral key, tampering)
    ├── KeyRefusedError              a key server refused; ``code`` is one of
    │                                ``peer.gating.protocol.CODES`` (every failure its own code)
    ├── NoKeyServerError             the post and the creator's profile list no key server
    ├── UnlockFailedError            every key server failed; ``attempts`` holds (server, error)
    ├── KeyVerificationError         a released key does not decrypt the clip's first chunk
    ├── LockedError                  playback without a key; ``requirements`` says how to unlock
    ├── NotPremiumError              the post is not a premium clip (serve it from /ipfs/)
    ├── UnknownPostError             no such post in the local feed index
    ├── UnknownRenditionError        the manifest has no such rendition
    ├── BuyError                     ``unlock --buy`` cannot buy (no wallet, over the
    │                                slippage bound, over the spend limit, not confirmed)
    └── UnknownChallengeError        no key request of a browser wallet waits under that id
                                     (never issued, used already, or expired)
"""

from __future__ import annotations

from dataclasses import dataclass


class GatingError(Exception):
    """Base of the gating package's errors; the message is meant for the user."""


class ProtocolError(GatingError):
    """A key-protocol message does not follow the wire format."""


class SealError(GatingError):
    """A sealed clip key cannot be opened with our ephemeral key."""


class KeyRefusedError(GatingError):
    """The key server refused the request; ``code`` says which check failed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.detail = message


class NoKeyServerError(GatingError):
    """Neither the post nor the creator's profile names a key server."""


class UnlockFailedError(GatingError):
    """No key server released the key. ``attempts`` lists ``(server, error)`` pairs;
    ``code`` is the refusal code of the last server that answered (or ``unreachable``)."""

    def __init__(self, message: str, attempts: list[tuple[str, Exception]]) -> None:
        super().__init__(message)
        self.attempts = attempts
        refused = [e for _, e in attempts if isinstance(e, KeyRefusedError)]
        self.code = refused[-1].code if refused else "unreachable"


class KeyVerificationError(GatingError):
    """A key server sent a key that does not open the clip (it is not cached)."""


@dataclass(frozen=True, slots=True)
class Requirements:
    """What a viewer needs to unlock a premium post (the body of HTTP 402)."""

    post_id: str
    creator: str
    token: str
    min_balance: int
    balance: int | None
    """The viewer's effective balance under the holding rule (None: no wallet or no chain)."""
    missing: int | None
    """``min_balance - balance`` when positive, else 0 (None when the balance is unknown)."""
    quote_buy: int | None
    """TOK (base units, fees included) to buy ``missing`` now (None when unknown or 0)."""
    key_servers: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """JSON-ready dict; amounts as decimal strings (they exceed 2^53)."""

        def num(v: int | None) -> str | None:
            return None if v is None else str(v)

        return {
            "post": self.post_id,
            "creator": self.creator,
            "token": self.token,
            "minBalance": str(self.min_balance),
            "balance": num(self.balance),
            "missing": num(self.missing),
            "quoteBuy": num(self.quote_buy),
            "keyServers": list(self.key_servers),
        }


class LockedError(GatingError):
    """The clip is premium and this peer has no key for it: unlock first."""

    def __init__(self, requirements: Requirements) -> None:
        super().__init__(
            f"post {requirements.post_id} is premium: hold {requirements.min_balance} base units "
            f"of {requirements.token} and run 'toktok unlock {requirements.post_id}'"
        )
        self.requirements = requirements


class NotPremiumError(GatingError):
    """The post is free; its renditions are served as plain IPFS content."""


class UnknownPostError(GatingError):
    """The post is not in the local feed index (sync the creator first)."""


class UnknownRenditionError(GatingError):
    """The manifest has no rendition by that name."""


class BuyError(GatingError):
    """Buying the missing amount before an unlock is not possible or was not confirmed."""


class UnknownChallengeError(GatingError):
    """No pending external-wallet key request has that id (used, expired, or never issued)."""
