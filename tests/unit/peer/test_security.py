"""ARCHITECTURE "Local HTTP surface" on every route of the table, through real aiohttp servers.

Route-wide tests serve the whole table with *recording* handlers, so a refused request is
proven never to reach its handler (not just answered 403 afterwards).
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import FormData, web
from support.http import (
    CLI,
    SAMPLE_PARAMS,
    SECRETS,
    TEST_ROUTES,
    TEST_SCHEMAS,
    Servers,
    concrete,
    serve_api,
)

from peer.api.routes import Route
from peer.api.schemas import RouteSchema, obj
from peer.api.security import SECRET_HEADER, SESSION_COOKIE, HostPolicy
from peer.api.server import build_content_app
from storage.embedded import EmbeddedContentStore
from storage.gateway import add_routes


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


STATE_CHANGING = [r for r in TEST_ROUTES if r.state_changing]
API_GETS = [r for r in TEST_ROUTES if r.method == "GET" and r.path != "/healthz"]
CLI_ONLY = [r for r in TEST_ROUTES if r.cli_only]
GET_PATHS = {r.path for r in TEST_ROUTES if r.method == "GET"}
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain"]
COOKIE = {"Cookie": f"{SESSION_COOKIE}={SECRETS.cookie}"}


@dataclass
class Recorded:
    """Servers whose route handlers only record that they ran."""

    servers: Servers
    calls: list[str] = field(default_factory=list)

    def good(self, route: Route | None = None) -> dict[str, str]:
        """A well-formed request's headers: the browser session, or the CLI token on a route
        only the CLI may use."""
        if route is not None and route.cli_only:
            return {"Origin": self.servers.origin, **CLI}
        return {"Origin": self.servers.origin, SECRET_HEADER: SECRETS.secret, **COOKIE}


@pytest.fixture
async def recorded() -> AsyncIterator[Recorded]:
    calls: list[str] = []

    def recorder(route: Route) -> Route:
        async def handler(request: web.Request) -> web.Response:
            calls.append(route_id(route))
            return web.json_response({"ok": True})

        return dataclasses.replace(route, handler=handler)

    # a handler that ran answers {"ok": true}: document exactly that for every route
    answered = obj({"ok": {"const": True}})
    schemas: dict[tuple[str, str], RouteSchema] = {
        key: dataclasses.replace(spec, ok={200: answered}, media=())
        for key, spec in TEST_SCHEMAS.items()
    }
    async with serve_api(tuple(recorder(r) for r in TEST_ROUTES), schemas) as servers:
        yield Recorded(servers, calls)


def _app_routes(app: web.Application) -> list[tuple[str, str]]:
    found = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        if "prefix" in info:
            path = path.rstrip("/") + "/{filename}"
        found.append((route.method, path))
    return found


def _content_routes() -> list[tuple[str, str]]:
    app = build_content_app(HostPolicy())
    add_routes(app, EmbeddedContentStore.memory())
    return _app_routes(app)


# --------------------------------------------------------------------------------- Host


@pytest.mark.parametrize("route", TEST_ROUTES, ids=route_id)
async def test_foreign_host_is_refused_on_every_ui_route(recorded: Recorded, route: Route) -> None:
    ui = recorded.servers.ui
    for host in ["evil.example:80", "127.0.0.1", "127.0.0.1:1", "localhost.evil.com", ""]:
        headers = {"Host": host, **recorded.good()}
        response = await ui.request(route.method, concrete(route.path), headers=headers, json={})
        assert response.status == 403, host
        assert (await response.json())["error"]["code"] == "forbidden_host"
    assert recorded.calls == []


async def test_foreign_host_is_refused_on_the_page_and_static_files(recorded: Recorded) -> None:
    ui = recorded.servers.ui
    paths = [concrete(p) for m, p in _app_routes(ui.app) if m == "GET" and not p.startswith("/api")]
    assert {"/", "/static/app.js"} <= set(paths)
    for path in paths:
        response = await ui.get(path, headers={"Host": "evil.example"})
        assert response.status == 403, path
        assert "toktok-secret" not in await response.text()
        allowed = await ui.get(path, headers=COOKIE)
        assert allowed.status == (403 if path == "/login" else 200), path  # /login needs a token


@pytest.mark.parametrize(("method", "path"), _content_routes())
async def test_foreign_host_is_refused_on_every_content_route(
    servers: Servers, method: str, path: str
) -> None:
    cid = await servers.store.add_bytes(b"some bytes")
    target = path.replace("{cid}", str(cid))
    allowed = await servers.content.request(method, target)
    assert allowed.status == 200
    for host in ["evil.example", f"evil.example:{servers.content.port}", "127.0.0.1:1"]:
        response = await servers.content.request(method, target, headers={"Host": host})
        assert response.status == 403
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "sandbox"
        assert await response.read() != b"some bytes"


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "[::1]"])
async def test_loopback_host_names_are_allowed(servers: Servers, name: str) -> None:
    servers.readiness.set_ready("http")
    response = await servers.ui.get("/healthz", headers={"Host": f"{name}:{servers.ui.port}"})
    assert response.status == 200


# ---------------------------------------------------------------------------- mutations


@pytest.mark.parametrize("route", STATE_CHANGING, ids=route_id)
async def test_mutation_with_foreign_origin_is_refused(recorded: Recorded, route: Route) -> None:
    port = recorded.servers.ui.port
    origins = [None, "http://evil.example", "null", "http://127.0.0.1", f"https://127.0.0.1:{port}",
               f"http://localhost:{port}", f"http://127.0.0.1:{port}/"]  # fmt: skip
    for origin in origins:
        headers = {SECRET_HEADER: SECRETS.secret, **COOKIE}
        if origin is not None:
            headers["Origin"] = origin
        response = await recorded.servers.ui.post(concrete(route.path), headers=headers, json={})
        assert response.status == 403, origin
        assert (await response.json())["error"]["code"] == "forbidden_origin"
    assert recorded.calls == []


@pytest.mark.parametrize("route", STATE_CHANGING, ids=route_id)
async def test_mutation_without_the_secret_is_refused(recorded: Recorded, route: Route) -> None:
    for secret in [None, "", "wrong", SECRETS.secret + "x", SECRETS.secret[:-1], SECRETS.cookie]:
        headers = {"Origin": recorded.servers.origin, **COOKIE}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        response = await recorded.servers.ui.post(concrete(route.path), headers=headers, json={})
        assert response.status == 403, secret
        assert (await response.json())["error"]["code"] == "missing_secret"
    assert recorded.calls == []


def _read_route_for(path: str) -> str | None:
    for template in GET_PATHS:
        if re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", template), path):
            return template
    return None


@pytest.mark.parametrize("route", STATE_CHANGING, ids=route_id)
async def test_get_never_runs_a_state_changing_route(recorded: Recorded, route: Route) -> None:
    path = concrete(route.path)
    response = await recorded.servers.ui.get(path, headers=recorded.good())
    assert route_id(route) not in recorded.calls
    reader = _read_route_for(path)
    if reader is None and route.cli_only:  # refused before the method is even looked at
        assert response.status == 403
        assert recorded.calls == []
    elif reader is None:
        assert response.status == 405
        assert (await response.json())["error"]["code"] == "method_not_allowed"
        assert recorded.calls == []
    else:  # the path also matches a read route (e.g. GET /profile): only that one ran
        assert recorded.calls == [f"GET {reader}"]


@pytest.mark.parametrize("route", STATE_CHANGING, ids=route_id)
async def test_cross_site_form_post_is_refused(recorded: Recorded, route: Route) -> None:
    # What a hostile page's <form method=post> can send: a form body, no custom header, and
    # its own Origin, "null" or none; even a correct-looking Origin lacks the secret.
    ui = recorded.servers.ui
    for ctype in FORM_TYPES:
        for origin in [None, "http://evil.example", "null", recorded.servers.origin]:
            headers = {"Content-Type": ctype, **COOKIE}
            if origin is not None:
                headers["Origin"] = origin
            body = b"--x\r\n\r\na\r\n--x--\r\n" if ctype.startswith("multipart") else b"a=b"
            if ctype.startswith("multipart"):
                headers["Content-Type"] = f"{ctype}; boundary=x"
            response = await ui.post(concrete(route.path), data=body, headers=headers)
            assert response.status == 403, (ctype, origin)
    assert recorded.calls == []


@pytest.mark.parametrize("route", STATE_CHANGING, ids=route_id)
async def test_mutation_with_a_form_body_is_refused_even_with_the_secret(
    recorded: Recorded, route: Route
) -> None:
    for ctype in FORM_TYPES:
        if route.upload and ctype == "multipart/form-data":
            continue
        response = await recorded.servers.ui.post(
            concrete(route.path),
            data=b"a=b",
            headers={**recorded.good(route), "Content-Type": ctype},
        )
        assert response.status == 415, ctype
    assert recorded.calls == []


async def test_well_formed_mutation_is_accepted(recorded: Recorded) -> None:
    response = await recorded.servers.ui.post(
        "/api/v1/test/mutate", json={}, headers=recorded.good()
    )
    assert response.status == 200
    assert recorded.calls == ["POST /api/v1/test/mutate"]


async def test_upload_route_accepts_multipart_only(recorded: Recorded) -> None:
    form = FormData()
    form.add_field("file", io.BytesIO(b"bytes"), filename="clip.mp4", content_type="video/mp4")
    ui = recorded.servers.ui
    ok = await ui.post("/api/v1/test/upload", data=form, headers=recorded.good())
    assert ok.status == 200
    refused = await ui.post("/api/v1/test/upload", json={}, headers=recorded.good())
    assert refused.status == 415
    assert recorded.calls == ["POST /api/v1/test/upload"]


# ----------------------------------------------------------------- reads and path routes


@pytest.mark.parametrize("route", API_GETS, ids=route_id)
async def test_every_api_get_needs_a_credential(recorded: Recorded, route: Route) -> None:
    ui, path = recorded.servers.ui, concrete(route.path)
    headers = {"Origin": recorded.servers.origin, SECRET_HEADER: SECRETS.secret}
    wrong = [
        {},
        {"Cookie": f"{SESSION_COOKIE}=nope"},
        {"Cookie": f"{SESSION_COOKIE}={SECRETS.secret}"},
        {"Cookie": f"{SESSION_COOKIE}={SECRETS.cookie}x"},
        {"Cookie": f"{SESSION_COOKIE}="},
        {"Cookie": f"other={SECRETS.cookie}"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {SECRETS.cookie}"},
        {"Authorization": CLI["Authorization"].lower()},
    ]
    for extra in wrong:
        refused = await ui.get(path, headers={**headers, **extra})
        assert refused.status == 403, extra
        assert (await refused.json())["error"]["code"] == "missing_session"
    assert recorded.calls == []
    for credential in (COOKIE, CLI):
        allowed = await ui.get(path, headers=credential)
        assert allowed.status == 200
    assert recorded.calls == [route_id(route)] * 2


async def test_healthz_and_the_page_need_no_credential(recorded: Recorded) -> None:
    assert (await recorded.servers.ui.get("/healthz")).status == 200
    assert (await recorded.servers.ui.get("/")).status == 200
    assert (await recorded.servers.ui.get("/static/app.js")).status == 200


@pytest.mark.parametrize("route", CLI_ONLY, ids=route_id)
async def test_path_routes_refuse_the_browser_session(recorded: Recorded, route: Route) -> None:
    body = {"path": "/etc/hostname", "title": "t"}
    response = await recorded.servers.ui.post(
        concrete(route.path), headers=recorded.good(), json=body
    )
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "cli_only"
    assert recorded.calls == []
    cli = {"Origin": recorded.servers.origin, **CLI}
    allowed = await recorded.servers.ui.post(concrete(route.path), headers=cli, json=body)
    assert allowed.status == 200
    assert recorded.calls == [route_id(route)]


def test_every_route_taking_a_path_is_cli_only() -> None:
    from peer.api.schemas import SCHEMAS

    takes_path = {
        path
        for (method, path), spec in SCHEMAS.items()
        if spec.body is not None and "path" in spec.body.get("properties", {})
    }
    assert takes_path == {"/api/v1/storage/add", "/api/v1/publish/file"}
    assert takes_path <= {r.path for r in CLI_ONLY}


async def test_no_cors_headers_even_when_asked(servers: Servers) -> None:
    response = await servers.ui.get("/api/v1/status", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = await servers.ui.options(
        "/api/v1/test/mutate",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status in (403, 405)
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]


async def test_healthz_is_503_until_every_required_service_is_ready(servers: Servers) -> None:
    servers.readiness.require("p2p")
    servers.readiness.set_ready("http")
    response = await servers.ui.get("/healthz")
    assert response.status == 503
    assert (await response.json())["not_ready"] == ["p2p"]
    servers.readiness.set_ready("p2p")
    assert (await servers.ui.get("/healthz")).status == 200


# ------------------------------------------------------------------------- content port

DANGEROUS = {
    "html": b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>",
    "html-lower": b"<html><body onload=alert(1)>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    "xml-svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>',
    "xhtml": b'<html xmlns="http://www.w3.org/1999/xhtml"><script>1</script></html>',
    "bom-html": b"\xef\xbb\xbf<html><script>alert(1)</script>",
    "script-text": b"<script>alert(1)</script>",
    "pdf": b"%PDF-1.4 /JavaScript",
}
INLINE_FORBIDDEN = ("html", "svg", "xml", "javascript", "pdf")


@pytest.mark.parametrize("kind", sorted(DANGEROUS))
async def test_content_port_never_serves_html_or_svg_inline(servers: Servers, kind: str) -> None:
    cid = await servers.store.add_bytes(DANGEROUS[kind])
    for method, headers in [("GET", {}), ("HEAD", {}), ("GET", {"Range": "bytes=0-9"})]:
        response = await servers.content.request(method, f"/ipfs/{cid}", headers=headers)
        assert response.status in (200, 206)
        ctype = response.headers["Content-Type"].lower()
        assert not any(word in ctype for word in INLINE_FORBIDDEN), ctype
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ipfs/anything", 400),
        ("/ipfs/" + SAMPLE_PARAMS["cid"], 404),
        ("/nothing", 404),
    ],
)
async def test_content_port_errors_send_nosniff_and_sandbox(
    servers: Servers, path: str, status: int
) -> None:
    response = await servers.content.get(path)
    assert response.status == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox"
    assert "html" not in response.headers["Content-Type"]


async def test_content_port_is_read_only(servers: Servers) -> None:
    cid = await servers.store.add_bytes(b"x")
    for method in ("POST", "PUT", "DELETE"):
        response = await servers.content.request(method, f"/ipfs/{cid}")
        assert response.status == 405
        assert response.headers["Content-Security-Policy"] == "sandbox"
