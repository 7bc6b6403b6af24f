"""Errors of the peer daemon (config, data dir, composition root, CLI transport).

Exception tree::

    PeerError                      base of everything the daemon raises on purpose
    ├── ConfigError                a config file, variable or flag is invalid (names the setting)
    ├── DataDirError               the data dir cannot be created or read
    │   └── DataDirLockedError     another process owns the data dir (names its pid)
    ├── BadRequestError            a request's fields are invalid (names the field)
    │   ├── SelfFollowError        a user asked to follow themself
    │   └── PremiumNeedsTokenError a premium clip from a creator without a creator token
    ├── NoWalletError              signing, buying or unlocking needs an unlocked wallet
    ├── PostInputError             a new post's title, tags or premium settings break a rule
    ├── DaemonError                talking to a running daemon failed
    │   └── DaemonNotRunningError  no daemon owns the data dir
    └── StartupError               a service failed to start (names the service)

Sub-packages (``peer.p2p``, ``peer.feed``, ...) have their own ``errors.py``.
"""

from __future__ import annotations


class PeerError(Exception):
    """Base class of the daemon's own errors; the message is meant for the user."""


class ConfigError(PeerError):
    """A setting is invalid; the message names the setting and where it came from."""


class DataDirError(PeerError):
    """The data dir cannot be used."""


class DataDirLockedError(DataDirError):
    """Another process holds the data dir's lock."""

    def __init__(self, data_dir: str, pid: int | None) -> None:
        owner = f"process {pid}" if pid else "another process"
        super().__init__(
            f"the data dir {data_dir} is in use by {owner}; "
            "stop that daemon or choose another --data-dir"
        )
        self.pid = pid


class BadRequestError(PeerError):
    """A field of a request is invalid; the message names it."""


class SelfFollowError(BadRequestError):
    """Following oneself is refused: the Following tab would list the user's own clips."""

    def __init__(self) -> None:
        super().__init__("you cannot follow yourself")


class PremiumNeedsTokenError(BadRequestError):
    """A premium clip is for holders of its creator's token; this creator has none yet."""

    def __init__(self) -> None:
        super().__init__(
            "a premium clip is only for holders of your creator token, and you have not "
            "created one yet: create your token first (toktok token create NAME SYMBOL, or "
            '"Create your token" in the web UI), then publish again'
        )


class NoWalletError(PeerError):
    """The operation needs an unlocked wallet; the message says what to do."""

    DEFAULT = (
        "this peer has no unlocked wallet: set TOKTOK_PASSPHRASE (or create one with "
        "'toktok wallet create') and restart the daemon"
    )

    def __init__(self, message: str = DEFAULT) -> None:
        super().__init__(message)


class PostInputError(PeerError):
    """What a user typed for a new post breaks a publish rule (:mod:`peer.post_input`);
    ``field`` is ``title``, ``tags`` or ``min_balance``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class DaemonError(PeerError):
    """A request to the running daemon failed (``status``/``code`` when it answered)."""

    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class DaemonNotRunningError(DaemonError):
    """No daemon is running for the data dir."""


class StartupError(PeerError):
    """A service could not be started."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(f"{service} failed to start: {reason}")
        self.service = service
