"""Who may use the UI/API port: the browser session, the CLI credential and login tokens.

Two credentials open the API (ARCHITECTURE "Local HTTP surface"):

* the **browser session**: the ``toktok_session`` cookie (``HttpOnly; SameSite=Strict``) plus,
  on state-changing requests, the session's CSRF secret in ``X-Toktok-Secret``. The session is
  stored in ``session.json`` (mode 0600) in the data dir, so an open tab keeps working across
  daemon restarts. A browser gets the cookie only by trading a **login token** at ``/login``;
* the **CLI credential**: ``Authorization: Bearer <cli_token>``, a per-launch value written only
  to ``api.json`` (0600). Only it may use routes that take a local path.

Login tokens are single-use, expire after :data:`LOGIN_TOKEN_TTL_S` and are compared in constant
time; they live in memory only (a restart voids them).
"""

from __future__ import annotations

import contextlib
import enum
import hmac
import json
import os
import secrets
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aiohttp import web

from peer.api.headers import SECRET_HEADER, SESSION_COOKIE
from storage import untrusted
from storage.errors import UntrustedJsonError

LOGIN_TOKEN_TTL_S = 600.0
MAX_LOGIN_TOKENS = 32  # outstanding at once; the oldest is dropped beyond that
BEARER = "Bearer "

Clock = Callable[[], float]


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


@dataclass(frozen=True)
class Session:
    """The browser session: cookie value and the CSRF secret sent in ``X-Toktok-Secret``."""

    cookie: str
    secret: str

    @staticmethod
    def generate() -> Session:
        return Session(cookie=secrets.token_urlsafe(32), secret=secrets.token_urlsafe(32))


def load_or_create_session(path: Path) -> Session:
    """The session stored at ``path`` (mode 0600), or a new one written there.

    A file that is unreadable, malformed or readable by others is replaced: a session another
    user could have read is not a session.
    """
    with contextlib.suppress(OSError, UntrustedJsonError, TypeError, KeyError):
        info = os.stat(path)
        if info.st_uid == os.getuid() and not info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raw = untrusted.loads(path.read_bytes(), max_bytes=4096, what="session.json")
            session = Session(cookie=str(raw["cookie"]), secret=str(raw["secret"]))
            if len(session.cookie) >= 32 and len(session.secret) >= 32:
                return session
    session = Session.generate()
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(session), fh)
    os.replace(tmp, path)
    return session


@dataclass
class LoginTokens:
    """One-time login tokens: single use, expire after ``ttl_s``, compared in constant time."""

    ttl_s: float = LOGIN_TOKEN_TTL_S
    clock: Clock = time.monotonic
    _issued: list[tuple[str, float]] = field(default_factory=list)  # (token, expiry)

    def issue(self) -> str:
        self._prune()
        token = secrets.token_urlsafe(32)
        self._issued.append((token, self.clock() + self.ttl_s))
        del self._issued[:-MAX_LOGIN_TOKENS]
        return token

    def redeem(self, token: str) -> bool:
        """True (and the token is spent) when ``token`` was issued, unused and unexpired."""
        self._prune()
        found = None
        for entry in self._issued:  # every entry is compared: no early exit on a match
            if _equal(token, entry[0]):
                found = entry
        if found is None:
            return False
        self._issued.remove(found)
        return True

    def _prune(self) -> None:
        now = self.clock()
        self._issued = [(t, expiry) for t, expiry in self._issued if expiry > now]


class Access(enum.IntEnum):
    """What a request proved: nothing, the browser session, or the CLI credential."""

    NONE = 0
    BROWSER = 1
    CLI = 2


@dataclass
class ApiAuth:
    """The credentials of one daemon launch (the session itself outlives it)."""

    session: Session
    cli_token: str
    tokens: LoginTokens = field(default_factory=LoginTokens)

    @staticmethod
    def generate(session: Session | None = None, clock: Clock = time.monotonic) -> ApiAuth:
        return ApiAuth(
            session=session or Session.generate(),
            cli_token=secrets.token_urlsafe(32),
            tokens=LoginTokens(clock=clock),
        )

    def has_session_cookie(self, cookies: Mapping[str, str]) -> bool:
        value = cookies.get(SESSION_COOKIE, "")
        return bool(value) and _equal(value, self.session.cookie)

    def has_session_secret(self, headers: Mapping[str, str]) -> bool:
        """The CSRF secret of the session in ``X-Toktok-Secret`` (a cross-site form cannot send
        a custom header)."""
        return _equal(headers.get(SECRET_HEADER, ""), self.session.secret)

    def access(self, headers: Mapping[str, str], cookies: Mapping[str, str]) -> Access:
        """What credential a request carries: the CLI bearer token, the session cookie, or none."""
        authorization = headers.get("Authorization", "")
        if authorization.startswith(BEARER) and _equal(
            authorization[len(BEARER) :], self.cli_token
        ):
            return Access.CLI
        return Access.BROWSER if self.has_session_cookie(cookies) else Access.NONE


AUTH = web.AppKey("toktok_api_auth", ApiAuth)
