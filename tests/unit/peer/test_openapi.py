"""The OpenAPI description: generated from the route table, complete, valid, and enforced."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from support.http import (
    CLI,
    SECRETS,
    ApiSchema,
    Servers,
    checked_urlopen,
    concrete,
    daemon_schema,
)

from peer.api import openapi
from peer.api.errors import ERROR_TABLE
from peer.api.routes import ROUTES, Route
from peer.api.schemas import SCHEMAS, error_codes
from peer.api.security import SECRET_HEADER, SESSION_COOKIE

API_DIR = Path(openapi.__file__).parent
JSON = "application/json"
DOC = openapi.build(ROUTES)


def op(method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = DOC["paths"][path][method.lower()]
    return operation


def test_every_route_has_a_schema_and_every_schema_a_route() -> None:
    table = {(r.method, r.path) for r in ROUTES}
    assert len(table) == len(ROUTES), "a route is listed twice"
    assert set(SCHEMAS) == table


def test_every_route_is_an_operation_with_a_unique_id() -> None:
    ids = [op(r.method, r.path)["operationId"] for r in ROUTES]
    assert len(set(ids)) == len(ROUTES)
    assert all(op(r.method, r.path)["summary"] == r.summary for r in ROUTES)


async def test_the_document_is_served(servers: Servers) -> None:
    response = await servers.ui.get("/api/v1/openapi.json", headers=CLI)
    assert response.status == 200
    served = await response.json()
    assert served["openapi"] == "3.1.0"
    assert {(m.upper(), p) for p, ops in served["paths"].items() for m in ops} >= {
        (r.method, r.path) for r in ROUTES
    }


def test_every_schema_in_the_document_is_valid_json_schema() -> None:
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for ops in DOC["paths"].values():
        for operation in ops.values():
            bodies = [r.get("content", {}) for r in operation["responses"].values()]
            bodies.append(operation.get("requestBody", {}).get("content", {}))
            bodies += [{"p": p} for p in operation.get("parameters", [])]
            for content in bodies:
                for media in content.values():
                    Draft202012Validator.check_schema(media["schema"])


def test_security_follows_the_route_kind() -> None:
    schemes = DOC["components"]["securitySchemes"]
    assert schemes["secret"] == {"type": "apiKey", "in": "header", "name": SECRET_HEADER}
    assert schemes["session"] == {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}
    assert schemes["cli"] == {"type": "http", "scheme": "bearer"}
    for route in ROUTES:
        operation = op(route.method, route.path)
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if route.path == "/healthz":
            assert operation["security"] == [], route.path
        elif route.cli_only:
            assert operation["security"] == [{"cli": []}], route.path
        elif route.state_changing:
            assert operation["security"] == [{"cli": []}, {"session": [], "secret": []}]
        else:
            assert operation["security"] == [{"cli": []}, {"session": []}], route.path
        if route.state_changing:
            assert "Origin" in headers
            assert {"400", "403", "413", "415"} <= set(operation["responses"])
        assert {"403", "500"} <= set(operation["responses"])


def test_every_path_parameter_is_described() -> None:
    for route in ROUTES:
        names = re.findall(r"\{(\w+)\}", route.path)
        params = [p for p in op(route.method, route.path).get("parameters", [])]
        assert sorted(p["name"] for p in params if p["in"] == "path") == sorted(names)
        assert all(p["required"] for p in params if p["in"] == "path")


def test_the_upload_is_a_multipart_form_with_a_file() -> None:
    (upload,) = [r for r in ROUTES if r.upload]
    body = op(upload.method, upload.path)["requestBody"]["content"]
    assert list(body) == ["multipart/form-data"]
    assert body["multipart/form-data"]["schema"]["required"] == ["file"]
    assert "202" in op(upload.method, upload.path)["responses"]


def test_error_codes_include_the_whole_error_table() -> None:
    enum = DOC["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    assert set(enum["enum"]) >= {row.code for row in ERROR_TABLE}
    listed = {(row["code"], row["status"]) for row in DOC["x-error-table"]}
    assert listed == {(row.code, row.status) for row in ERROR_TABLE}


def test_every_error_code_the_http_layer_raises_is_documented() -> None:
    raised: set[str] = set()
    for source in API_DIR.glob("*.py"):
        text = source.read_text()
        raised |= set(re.findall(r"\(\s*\d{3},\s*\"([a-z_]+)\"", text))  # ApiError(status, "c")
        raised |= set(re.findall(r"\"code\":\s*\"([a-z_]+)\"", text))
        raised |= {
            f"{w}_unavailable" for w in re.findall(r"_required\(\s*[^,]+,\s*\"(\w+)\"", text)
        }
    assert raised, "the scan found nothing; did the sources move?"
    assert raised <= set(error_codes())


def test_json_error_bodies_of_every_status_use_the_error_schema() -> None:
    for ops in DOC["paths"].values():
        for operation in ops.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400 and "content" in response:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema["$ref"].rsplit("/", 1)[1] in {"Error", "Locked", "Health"}


# the checker must be able to fail, or the suites' validation proves nothing


def test_an_undocumented_status_fails() -> None:
    with pytest.raises(AssertionError, match="not documented"):
        daemon_schema().check("GET", "/api/v1/status", 418, "application/json", b"{}")


def test_a_body_off_its_schema_fails() -> None:
    schema = daemon_schema()
    with pytest.raises(AssertionError, match="does not match"):
        schema.check("GET", "/api/v1/posts/0x" + "1" * 64, 200, "application/json", b'{"id": 1}')
    error = b'{"error": {"code": "no_such_code", "message": "x"}}'
    with pytest.raises(AssertionError, match="does not match"):
        schema.check("GET", "/api/v1/feed", 400, "application/json", error)
    with pytest.raises(AssertionError, match="content type"):
        schema.check("GET", "/api/v1/feed", 200, "text/html", None)
    with pytest.raises(AssertionError, match="undocumented route"):
        schema.check("GET", "/api/v1/nowhere", 200, "application/json", b"{}")


def test_a_static_path_wins_over_a_template() -> None:
    template, operation = daemon_schema().operation("POST", "/api/v1/publish/file")
    assert (template, operation is None) == ("/api/v1/publish/file", False)
    template, operation = daemon_schema().operation("GET", "/api/v1/publish/abc")
    assert (template, operation is None) == ("/api/v1/publish/{job}", False)


REPLICATION = {
    "enabled": True,
    "budget_bytes": 1 << 30,
    "used_bytes": 12,
    "pinned_posts": 1,
    "queued": 0,
    "failed": 0,
    "evicted": 2,
    "last_error": None,
}


@pytest.mark.parametrize(
    ("replication", "valid"),
    [
        (None, True),
        (REPLICATION, True),
        ({**REPLICATION, "last_error": "disk full"}, True),
        ({k: v for k, v in REPLICATION.items() if k != "queued"}, False),
        ({**REPLICATION, "extra": 1}, False),
        ({**REPLICATION, "used_bytes": -1}, False),
    ],
)
def test_storage_stats_carry_the_agreed_replication_shape(
    replication: dict[str, Any] | None, valid: bool
) -> None:
    body = {
        "backend": "embedded",
        "root": "/data/store",
        "usage": {"blocks": 1, "bytes": 2, "pins": 3},
        "replication": replication,
    }
    kubo = {"backend": "kubo", "health": {"ok": True}, "replication": replication}
    check = daemon_schema().check
    for raw in (json.dumps(body).encode(), json.dumps(kubo).encode()):
        if valid:
            check("GET", "/api/v1/storage", 200, "application/json", raw)
        else:
            with pytest.raises(AssertionError):
                check("GET", "/api/v1/storage", 200, "application/json", raw)


def test_storage_stats_always_say_whether_replication_runs() -> None:
    body = {"backend": "embedded", "root": "/s", "usage": {"blocks": 0, "bytes": 0, "pins": 0}}
    with pytest.raises(AssertionError, match="does not match its schema"):
        daemon_schema().check("GET", "/api/v1/storage", 200, JSON, json.dumps(body).encode())


def test_the_checked_client_uses_the_served_document(servers: Servers) -> None:
    assert isinstance(servers.ui.schema, ApiSchema)
    assert "/api/v1/test/mutate" in servers.ui.schema.doc["paths"]
    assert SECRETS.secret not in str(servers.ui.schema.doc)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_every_route_answers_as_documented_without_its_services(
    servers: Servers, route: Route
) -> None:
    # No p2p, feed, chain, store, wallet, gating or publish: every handler must still answer
    # with a documented status and body (the checked client fails the test otherwise).
    headers = {"Origin": servers.origin, SECRET_HEADER: SECRETS.secret}
    headers["Cookie"] = f"{SESSION_COOKIE}={SECRETS.cookie}"
    if route.cli_only:
        headers = {"Origin": servers.origin, **CLI}
    path = concrete(route.path)
    if route.upload:
        form = FormData()
        form.add_field("file", b"x", filename="a.mp4", content_type="video/mp4")
        response = await servers.ui.post(path, data=form, headers=headers)
    elif route.state_changing:
        response = await servers.ui.request(route.method, path, json={}, headers=headers)
    else:
        response = await servers.ui.get(path, headers=headers)
    assert response.status < 500 or response.status == 503
    response.close()


async def test_urllib_answers_are_checked_and_still_readable(servers: Servers) -> None:
    # the hook the daemon integration suites use (DaemonClient, Daemon.get go through urllib)
    urlopen = checked_urlopen(urllib.request.urlopen, daemon_schema())
    base = servers.origin

    def fetch(path: str, cookie: bool = False) -> tuple[int, Any]:
        request = urllib.request.Request(base + path)
        if cookie:
            request.add_header("Cookie", f"{SESSION_COOKIE}={SECRETS.cookie}")
        try:
            with urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    status, body = await asyncio.to_thread(fetch, "/api/v1/status", True)
    assert (status, body["version"]) == (200, "test")
    status, body = await asyncio.to_thread(fetch, "/api/v1/wallet")
    assert (status, body["error"]["code"]) == (403, "missing_session")
    with pytest.raises(AssertionError, match="undocumented route"):
        await asyncio.to_thread(fetch, "/api/v1/test/wallet", True)
