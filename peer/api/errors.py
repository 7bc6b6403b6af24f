"""Errors of the HTTP layer and the ONE table mapping domain errors to HTTP responses.

Every error response has the body ``{"error": {"code": "<machine code>", "message": "<text>"}}``.
Handlers raise domain errors; :func:`describe` finds the first matching row of
:data:`ERROR_TABLE` (most specific types first). Unknown exceptions become 500 ``internal``
without leaking details.
"""

from __future__ import annotations

from dataclasses import dataclass

from peer.errors import (
    BadRequestError,
    ConfigError,
    DaemonError,
    DataDirLockedError,
    NoWalletError,
    PeerError,
    PremiumNeedsTokenError,
    SelfFollowError,
)
from peer.feed.errors import CommentRefused, CursorError, FeedError, NotHolderError
from peer.feed.gossip import RecordRejected
from peer.gating.delegation import DelegationError
from peer.gating.errors import (
    BuyError,
    GatingError,
    KeyVerificationError,
    NoKeyServerError,
    NotPremiumError,
    ProtocolError,
    UnknownChallengeError,
    UnknownPostError,
    UnknownRenditionError,
    UnlockFailedError,
)
from peer.p2p.errors import (
    DialError,
    InvalidMultiaddrError,
    NotConnectedError,
    P2PError,
    RequestTimeoutError,
)
from storage.errors import (
    BlockNotFoundError,
    ContentUnavailableError,
    InvalidCIDError,
    InvalidRangeError,
    RelayLimitedError,
    StorageError,
)
from storage.media.errors import InputRejected, MediaError, ToolError
from tokens.curve import CurveError
from tokens.errors import (
    ChainUnavailableError,
    DeadlineError,
    InsufficientFundsError,
    NoCreatorTokenError,
    SlippageError,
    SpendLimitError,
    TokenExistsError,
    TokensError,
    TransactionError,
    WalletError,
)


class ApiError(Exception):
    """An error raised by the HTTP layer itself, carrying its status and code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ForbiddenHost(ApiError):
    def __init__(self, host: str) -> None:
        super().__init__(403, "forbidden_host", f"Host {host!r} is not allowed; use 127.0.0.1")


class ForbiddenOrigin(ApiError):
    def __init__(self, origin: str | None) -> None:
        super().__init__(403, "forbidden_origin", f"Origin {origin!r} is not allowed")


class MissingSecret(ApiError):
    def __init__(self) -> None:
        super().__init__(403, "missing_secret", "missing or wrong X-Toktok-Secret header")


class MissingSession(ApiError):
    def __init__(self) -> None:
        super().__init__(
            403,
            "missing_session",
            "this resource needs the UI session cookie or the CLI credential; "
            "run 'toktok open' to log the browser in",
        )


class CliOnly(ApiError):
    def __init__(self) -> None:
        super().__init__(
            403,
            "cli_only",
            "this route takes a local path and accepts only the CLI credential from api.json, "
            "never the browser session; use the toktok command",
        )


class PathInDataDir(ApiError):
    def __init__(self, path: str, data_dir: str) -> None:
        super().__init__(
            403,
            "path_in_data_dir",
            f"{path} is inside the data dir {data_dir}; its keys, wallet and credentials are "
            "never added or published",
        )


class UnsupportedMediaType(ApiError):
    def __init__(self, expected: str) -> None:
        super().__init__(415, "unsupported_media_type", f"request body must be {expected}")


@dataclass(frozen=True)
class ErrorRow:
    """One row of the error table."""

    exc_type: type[BaseException]
    status: int
    code: str


ERROR_TABLE: tuple[ErrorRow, ...] = (
    ErrorRow(UnknownPostError, 404, "unknown_post"),
    ErrorRow(UnknownRenditionError, 404, "unknown_rendition"),
    ErrorRow(NotPremiumError, 409, "not_premium"),
    ErrorRow(NoWalletError, 409, "no_wallet"),
    ErrorRow(BuyError, 409, "buy_refused"),
    ErrorRow(NoKeyServerError, 409, "no_key_server"),
    ErrorRow(UnlockFailedError, 403, "unlock_refused"),
    ErrorRow(KeyVerificationError, 502, "bad_key"),
    ErrorRow(ProtocolError, 502, "key_protocol_error"),
    ErrorRow(DelegationError, 502, "delegation_failed"),
    ErrorRow(UnknownChallengeError, 404, "unknown_challenge"),
    ErrorRow(GatingError, 500, "gating_error"),
    ErrorRow(RecordRejected, 422, "record_rejected"),
    ErrorRow(CursorError, 400, "bad_cursor"),
    ErrorRow(NotHolderError, 402, "not_holder"),
    ErrorRow(CommentRefused, 409, "comment_refused"),
    ErrorRow(FeedError, 500, "feed_error"),
    ErrorRow(InputRejected, 422, "bad_media"),
    ErrorRow(ToolError, 500, "media_tool_failed"),
    ErrorRow(MediaError, 422, "media_error"),
    ErrorRow(InvalidCIDError, 400, "bad_cid"),
    ErrorRow(InvalidRangeError, 416, "bad_range"),
    ErrorRow(RelayLimitedError, 504, "relay_limited"),
    ErrorRow(ContentUnavailableError, 504, "content_unavailable"),
    ErrorRow(BlockNotFoundError, 404, "not_found"),
    ErrorRow(StorageError, 500, "storage_error"),
    ErrorRow(ChainUnavailableError, 503, "chain_unavailable"),
    ErrorRow(CurveError, 409, "beyond_curve"),
    ErrorRow(NoCreatorTokenError, 404, "no_creator_token"),
    ErrorRow(TokenExistsError, 409, "token_exists"),
    ErrorRow(SpendLimitError, 402, "spend_limit"),
    ErrorRow(InsufficientFundsError, 402, "insufficient_funds"),
    ErrorRow(SlippageError, 409, "slippage"),
    ErrorRow(DeadlineError, 409, "deadline"),
    ErrorRow(TransactionError, 502, "transaction_failed"),
    ErrorRow(WalletError, 409, "wallet_error"),
    ErrorRow(TokensError, 500, "chain_error"),
    ErrorRow(SelfFollowError, 400, "follow_self"),
    ErrorRow(PremiumNeedsTokenError, 409, "premium_needs_token"),
    ErrorRow(BadRequestError, 400, "bad_request"),
    ErrorRow(DataDirLockedError, 409, "data_dir_locked"),
    ErrorRow(ConfigError, 400, "bad_config"),
    ErrorRow(DaemonError, 502, "daemon_error"),
    ErrorRow(PeerError, 500, "peer_error"),
    ErrorRow(InvalidMultiaddrError, 400, "bad_multiaddr"),
    ErrorRow(DialError, 502, "dial_failed"),
    ErrorRow(NotConnectedError, 404, "not_connected"),
    ErrorRow(RequestTimeoutError, 504, "p2p_timeout"),
    ErrorRow(P2PError, 502, "p2p_error"),
)


RELAY_LIMITED = (
    "the creator is reachable only through a relay, which limits transfers; the clip will "
    "play once a fan has replicated it or a direct connection succeeds"
)


def describe(exc: BaseException) -> tuple[int, str, str]:
    """(status, code, message) for any exception."""
    if isinstance(exc, ApiError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, RelayLimitedError):
        return 504, "relay_limited", f"{RELAY_LIMITED} ({exc})"
    for row in ERROR_TABLE:
        if isinstance(exc, row.exc_type):
            return row.status, row.code, str(exc)
    return 500, "internal", "internal error; see the daemon log"
