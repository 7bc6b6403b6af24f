"""Browser login (one-time tokens for a session cookie), the session file, and path routes.

ARCHITECTURE "Local HTTP surface": ``GET /`` carries the session's secret only for a browser
holding the session cookie; a login token is single-use and expires after ten minutes; the
session outlives a restart; routes that take a local path refuse the data dir.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.http import AUTH, CLI, SECRETS, Servers, full_status, serve_api

from peer.api.auth import LOGIN_TOKEN_TTL_S, ApiAuth, LoginTokens, load_or_create_session
from peer.api.context import ApiContext
from peer.api.security import SECRET_HEADER, SESSION_COOKIE
from peer.bus import EventBus
from peer.daemon.services import Readiness
from peer.datadir import DataDir

COOKIE = {"Cookie": f"{SESSION_COOKIE}={SECRETS.cookie}"}


class Clock:
    """A clock the test moves by hand (no sleeping ten minutes)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------------------- login tokens


def test_a_login_token_works_once() -> None:
    tokens = LoginTokens(clock=Clock())
    token = tokens.issue()
    assert tokens.redeem(token)
    assert not tokens.redeem(token)


def test_a_login_token_expires_after_ten_minutes() -> None:
    clock = Clock()
    tokens = LoginTokens(clock=clock)
    assert LOGIN_TOKEN_TTL_S == 600
    early, late = tokens.issue(), tokens.issue()
    clock.now += LOGIN_TOKEN_TTL_S - 1
    assert tokens.redeem(early)
    clock.now += 1
    assert not tokens.redeem(late)


def test_only_issued_tokens_are_accepted() -> None:
    tokens = LoginTokens(clock=Clock())
    token = tokens.issue()
    for wrong in ["", token[:-1], token + "x", token.upper(), SECRETS.cookie, " " + token]:
        assert not tokens.redeem(wrong), wrong
    assert tokens.redeem(token)


def test_tokens_are_independent() -> None:
    tokens = LoginTokens(clock=Clock())
    first, second = tokens.issue(), tokens.issue()
    assert first != second
    assert tokens.redeem(second)
    assert tokens.redeem(first)


# ---------------------------------------------------------------------------- the session


def test_the_session_is_stored_private_and_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    session = load_or_create_session(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_session(path) == session  # a restart keeps the browser logged in


def test_a_session_file_others_could_read_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    session = load_or_create_session(path)
    os.chmod(path, 0o644)
    replaced = load_or_create_session(path)
    assert replaced != session
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_malformed_session_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    path.write_text("[[[")
    os.chmod(path, 0o600)
    session = load_or_create_session(path)
    assert len(session.cookie) >= 32
    assert load_or_create_session(path) == session


def test_each_launch_gets_a_new_cli_token_but_keeps_the_session(tmp_path: Path) -> None:
    session = load_or_create_session(tmp_path / "session.json")
    first, second = ApiAuth.generate(session), ApiAuth.generate(session)
    assert first.cli_token != second.cli_token
    assert first.session == second.session


# ---------------------------------------------------------------------- page and /login


async def test_the_page_without_a_session_says_how_to_log_in_and_has_no_secret(
    servers: Servers,
) -> None:
    response = await servers.ui.get("/")
    assert response.status == 200
    body = await response.text()
    assert "toktok open" in body
    assert SECRETS.secret not in body
    assert SECRETS.cookie not in body
    assert "toktok-secret" not in body
    assert "<script" not in body
    assert "Set-Cookie" not in response.headers


async def test_the_page_with_the_session_embeds_the_secret_and_sets_no_cookie(
    servers: Servers,
) -> None:
    response = await servers.ui.get("/", headers=COOKIE)
    body = await response.text()
    assert f'content="{SECRETS.secret}"' in body
    assert "Set-Cookie" not in response.headers
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


async def test_login_trades_a_token_for_a_strict_httponly_cookie_once(servers: Servers) -> None:
    token = AUTH.tokens.issue()
    response = await servers.ui.get(f"/login?token={token}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/"  # the token leaves the address bar
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie.value == SECRETS.cookie
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) > 0  # kept across browser restarts
    again = await servers.ui.get(f"/login?token={token}", allow_redirects=False)
    assert again.status == 403
    assert SESSION_COOKIE not in again.cookies
    assert SECRETS.secret not in await again.text()


async def test_an_expired_or_unknown_login_token_is_refused(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(AUTH.tokens, "clock", clock)
    token = AUTH.tokens.issue()
    clock.now += LOGIN_TOKEN_TTL_S
    for query in [f"token={token}", "token=", "", "token=guess", f"token={SECRETS.cookie}"]:
        response = await servers.ui.get(f"/login?{query}", allow_redirects=False)
        assert response.status == 403, query
        assert SESSION_COOKIE not in response.cookies
        assert "toktok open" in await response.text()


async def test_the_cli_gets_login_links_and_the_browser_cannot(servers: Servers) -> None:
    cli = {"Origin": servers.origin, **CLI}
    response = await servers.ui.post("/api/v1/login-links", headers=cli, json={})
    assert response.status == 200
    link = await response.json()
    assert link["url"].startswith(f"http://127.0.0.1:{servers.ui.port}/login?token=")
    assert link["expires_in_s"] == 600
    login = await servers.ui.get(
        link["url"].split(str(servers.ui.port), 1)[1], allow_redirects=False
    )
    assert login.status == 303
    browser = {"Origin": servers.origin, SECRET_HEADER: SECRETS.secret, **COOKIE}
    refused = await servers.ui.post("/api/v1/login-links", headers=browser, json={})
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "cli_only"


# --------------------------------------------------------------------------- path routes


@pytest.fixture
async def with_data_dir(tmp_path: Path) -> AsyncIterator[tuple[Servers, DataDir]]:
    data_dir = DataDir(tmp_path / "data")
    data_dir.ensure()
    (data_dir.p2p / "identity.key").write_bytes(b"private key")
    (data_dir.wallet / "keystore.json").write_text("{}")
    data_dir.api_file.write_text("{}")
    ctx = ApiContext(readiness=Readiness(), bus=EventBus(), status=full_status, data_dir=data_dir)
    async with serve_api(ctx=ctx) as servers:
        yield servers, data_dir


@pytest.mark.parametrize("route", ["/api/v1/storage/add", "/api/v1/publish/file"])
async def test_path_routes_refuse_the_data_dir_even_with_the_cli_token(
    with_data_dir: tuple[Servers, DataDir], tmp_path: Path, route: str
) -> None:
    servers, data_dir = with_data_dir
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "link-to-key").symlink_to(data_dir.p2p / "identity.key")
    (outside / "link-to-dir").symlink_to(data_dir.root)
    inside = [
        data_dir.p2p / "identity.key",
        data_dir.wallet / "keystore.json",
        data_dir.api_file,
        data_dir.session_file,
        data_dir.root,
        data_dir.store / ".." / "p2p" / "identity.key",
        outside / "link-to-key",
        outside / "link-to-dir" / "wallet" / "keystore.json",
        outside / "hard-link-to-key",
    ]
    os.link(data_dir.p2p / "identity.key", outside / "hard-link-to-key")
    cli = {"Origin": servers.origin, **CLI}
    for path in inside:
        body = {"path": str(path), "title": "t"}
        response = await servers.ui.post(route, headers=cli, json=body)
        assert response.status == 403, path
        error = (await response.json())["error"]
        assert error["code"] == "path_in_data_dir"
        assert "inside the data dir" in error["message"]
    nul = await servers.ui.post(
        route, headers=cli, json={"path": f"{outside}/x\x00{data_dir.api_file}", "title": "t"}
    )
    assert nul.status == 400
    harmless = outside / "clip.mp4"
    harmless.write_bytes(b"x")
    passed = await servers.ui.post(route, headers=cli, json={"path": str(harmless), "title": "t"})
    assert passed.status == 503  # past the path check: this test server has no store/publisher
