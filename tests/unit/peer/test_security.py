"""ARCHITECTURE "Local HTTP surface" on every route of the table, through a real aiohttp server."""

from __future__ import annotations

import io

import pytest
from aiohttp import FormData
from support.http import SECRETS, TEST_ROUTES, Servers

from peer.api.routes import Route
from peer.api.security import SECRET_HEADER, SESSION_COOKIE


def good_headers(s: Servers) -> dict[str, str]:
    return {"Origin": s.origin, SECRET_HEADER: SECRETS.secret}


@pytest.mark.parametrize("route", TEST_ROUTES, ids=lambda r: f"{r.method} {r.path}")
@pytest.mark.parametrize(
    "host", ["evil.example:80", "127.0.0.1", "127.0.0.1:1", "localhost.evil.com"]
)
async def test_foreign_host_is_refused_on_every_ui_route(
    servers: Servers, route: Route, host: str
) -> None:
    headers = {
        "Host": host,
        **good_headers(servers),
        "Cookie": f"{SESSION_COOKIE}={SECRETS.cookie}",
    }
    response = await servers.ui.request(route.method, route.path, headers=headers, json={})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "forbidden_host"


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]"])
async def test_loopback_host_names_are_allowed(servers: Servers, name: str) -> None:
    servers.readiness.set_ready("http")
    response = await servers.ui.get("/healthz", headers={"Host": f"{name}:{servers.ui.port}"})
    assert response.status == 200


async def test_foreign_host_is_refused_on_the_content_port(servers: Servers) -> None:
    response = await servers.content.get("/ipfs/bafy", headers={"Host": "evil.example"})
    assert response.status == 403
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"


async def test_content_port_sends_nosniff_and_sandbox(servers: Servers) -> None:
    response = await servers.content.get("/ipfs/anything")
    assert response.status == 404
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"


STATE_CHANGING = [r for r in TEST_ROUTES if r.state_changing]


@pytest.mark.parametrize("route", STATE_CHANGING, ids=lambda r: r.path)
@pytest.mark.parametrize(
    "origin", [None, "http://evil.example", "null", "http://127.0.0.1", "https://127.0.0.1:{port}"]
)
async def test_mutation_with_foreign_origin_is_refused(
    servers: Servers, route: Route, origin: str | None
) -> None:
    headers = {SECRET_HEADER: SECRETS.secret}
    if origin is not None:
        headers["Origin"] = origin.format(port=servers.ui.port)
    response = await servers.ui.post(route.path, headers=headers, json={})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "forbidden_origin"


@pytest.mark.parametrize("route", STATE_CHANGING, ids=lambda r: r.path)
@pytest.mark.parametrize("secret", [None, "", "wrong", SECRETS.secret + "x"])
async def test_mutation_without_the_secret_is_refused(
    servers: Servers, route: Route, secret: str | None
) -> None:
    headers = {"Origin": servers.origin}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    response = await servers.ui.post(route.path, headers=headers, json={})
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "missing_secret"


async def test_cross_site_form_post_is_refused(servers: Servers) -> None:
    # What a hostile page's <form method=post> can send: no custom header, a form body.
    response = await servers.ui.post(
        "/api/v1/test/mutate",
        data={"a": "b"},
        headers={
            "Origin": "http://evil.example",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status == 403


async def test_mutation_needs_a_json_body(servers: Servers) -> None:
    response = await servers.ui.post(
        "/api/v1/test/mutate",
        data="a=b",
        headers={**good_headers(servers), "Content-Type": "text/plain"},
    )
    assert response.status == 415


async def test_well_formed_mutation_is_accepted(servers: Servers) -> None:
    response = await servers.ui.post("/api/v1/test/mutate", json={}, headers=good_headers(servers))
    assert response.status == 200
    assert await response.json() == {"ok": True}


async def test_upload_route_accepts_multipart_only(servers: Servers) -> None:
    form = FormData()
    form.add_field("file", io.BytesIO(b"bytes"), filename="clip.mp4", content_type="video/mp4")
    ok = await servers.ui.post("/api/v1/test/upload", data=form, headers=good_headers(servers))
    assert ok.status == 200
    refused = await servers.ui.post("/api/v1/test/upload", json={}, headers=good_headers(servers))
    assert refused.status == 415


async def test_sensitive_get_needs_the_session_cookie(servers: Servers) -> None:
    refused = await servers.ui.get("/api/v1/test/wallet")
    assert refused.status == 403
    assert (await refused.json())["error"]["code"] == "missing_session"
    wrong = await servers.ui.get(
        "/api/v1/test/wallet", headers={"Cookie": f"{SESSION_COOKIE}=nope"}
    )
    assert wrong.status == 403
    allowed = await servers.ui.get(
        "/api/v1/test/wallet", headers={"Cookie": f"{SESSION_COOKIE}={SECRETS.cookie}"}
    )
    assert allowed.status == 200


async def test_page_sets_strict_cookie_csp_and_embeds_the_secret(servers: Servers) -> None:
    response = await servers.ui.get("/")
    assert response.status == 200
    body = await response.text()
    assert f'content="{SECRETS.secret}"' in body
    cookie = response.headers["Set-Cookie"]
    assert f"{SESSION_COOKIE}={SECRETS.cookie}" in cookie
    assert "SameSite=Strict" in cookie
    assert "HttpOnly" in cookie
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_no_cors_headers_even_when_asked(servers: Servers) -> None:
    response = await servers.ui.get("/api/v1/status", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_healthz_is_503_until_every_required_service_is_ready(servers: Servers) -> None:
    servers.readiness.require("p2p")
    servers.readiness.set_ready("http")
    response = await servers.ui.get("/healthz")
    assert response.status == 503
    assert (await response.json())["not_ready"] == ["p2p"]
    servers.readiness.set_ready("p2p")
    assert (await servers.ui.get("/healthz")).status == 200
