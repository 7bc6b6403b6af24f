"""Real aiohttp UI and content servers on loopback, and answers checked against the OpenAPI doc.

* :class:`ApiSchema` validates one answer (status, content type, JSON body) against the OpenAPI
  description generated from the route table (``peer.api.openapi.build``); an undocumented route
  or status, or a body that does not match its schema, is an ``AssertionError``.
* :class:`CheckedClient` is the aiohttp test client the unit API tests use: every answer from an
  API path is checked before the test sees it.
* :func:`api_schema_check` (an autouse fixture when this module is a pytest plugin, or imported
  into a conftest) checks every ``urllib`` answer from a loopback API path, which covers
  ``DaemonClient`` and ``Daemon.get`` in the daemon integration tests, and every server-sent
  event an in-process server sends (``peer.api.events.encode``) against its ``x-events``
  schema, and every bus event of a documented kind when it is published.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import urllib.error
import urllib.request
import urllib.response
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from peer.api import events, openapi
from peer.api.auth import ApiAuth, Session
from peer.api.context import ApiContext
from peer.api.routes import ROUTES, Route
from peer.api.schemas import SCHEMAS, RouteSchema, obj
from peer.api.security import HostPolicy
from peer.api.server import build_content_app, build_ui_app
from peer.bus import Event, EventBus
from peer.daemon.services import Readiness
from storage.embedded import EmbeddedContentStore
from storage.gateway import add_routes

SECRETS = Session(secret="s3cret-header-value", cookie="c00kie-value")
AUTH = ApiAuth(SECRETS, cli_token="cli-t0ken-value")
CLI = {"Authorization": f"Bearer {AUTH.cli_token}"}
JSON = "application/json"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def is_api_path(path: str) -> bool:
    return path == "/healthz" or path.startswith("/api/")


class ApiSchema:
    """Checks answers against one OpenAPI document."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self._paths: list[tuple[re.Pattern[str], str]] = []
        for template in doc["paths"]:
            regex = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
            self._paths.append((re.compile(f"^{regex}$"), template))
        # static paths win over templated ones (e.g. /publish/file over /publish/{job})
        self._paths.sort(key=lambda p: p[1].count("{"))
        self._validators: dict[str, Draft202012Validator] = {}

    def operation(self, method: str, path: str) -> tuple[str | None, dict[str, Any] | None]:
        """(template, operation) of a request; the operation is None if the method has none."""
        method = "get" if method.upper() == "HEAD" else method.lower()
        matches = [t for rx, t in self._paths if rx.match(path)]
        for template in matches:
            if method in self.doc["paths"][template]:
                return template, self.doc["paths"][template][method]
        return (matches[0] if matches else None), None

    def check(
        self, method: str, path: str, status: int, content_type: str, body: bytes | None
    ) -> None:
        """Fail unless ``status`` is documented for the route and ``body`` fits its schema."""
        where = f"{method} {path} -> {status}"
        template, op = self.operation(method, path)
        if op is None:
            # no such route: only the refusals the server gives any unknown request
            assert status in (403, 404, 405), f"{where}: undocumented route"
            if body is not None:
                self._validate(where, {"$ref": "#/components/schemas/Error"}, body, "error")
            return
        responses = op["responses"]
        assert str(status) in responses, (
            f"{where}: status {status} is not documented (documented: {sorted(responses)})"
        )
        content = responses[str(status)].get("content")
        if content is None:
            assert not body, f"{where}: documented without a body, got {body!r:.200}"
            return
        media = [t for t in content if _type_matches(t, content_type)]
        assert media, f"{where}: content type {content_type!r} is not one of {sorted(content)}"
        if media[0] == JSON:
            assert body is not None, f"{where}: JSON answer not read"
            key = f"{template} {method.lower()} {status}"
            self._validate(where, content[JSON]["schema"], body, key)

    def check_event(self, kind: str, payload: object) -> None:
        """Fail unless ``kind`` is a documented event and ``payload`` fits its schema."""
        events = self.doc["x-events"]
        assert kind in events, f"event {kind!r} is not documented (x-events: {sorted(events)})"
        self._validate(f"event {kind}", events[kind], json.dumps(payload).encode(), kind)

    def _validate(self, where: str, schema: dict[str, Any], body: bytes, key: str) -> None:
        validator = self._validators.get(key)
        if validator is None:
            root = {"components": self.doc["components"], "allOf": [schema]}
            validator = Draft202012Validator(root)
            self._validators[key] = validator
        try:
            value = json.loads(body)
        except ValueError:
            raise AssertionError(f"{where}: body is not JSON: {body!r:.200}") from None
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        assert not errors, f"{where}: body does not match its schema: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message:.300}"
            for e in errors[:5]
        )


def _type_matches(documented: str, actual: str) -> bool:
    if documented.endswith("/*"):
        return actual.startswith(documented[:-1])
    return documented == actual


@cache
def daemon_schema() -> ApiSchema:
    """The document a daemon serves: the real route table and schemas."""
    return ApiSchema(openapi.build(ROUTES))


class CheckedClient(TestClient[web.Request, web.Application]):
    """A test client that checks every API answer against ``schema`` before returning it."""

    def __init__(self, server: TestServer, schema: ApiSchema) -> None:
        super().__init__(server)
        self.schema = schema

    async def _request(self, method: str, path: Any, **kwargs: Any) -> ClientResponse:
        response = await super()._request(method, path, **kwargs)
        target = urlsplit(str(path)).path
        if is_api_path(target):
            ctype = response.content_type
            body = await response.read() if ctype == JSON else None
            self.schema.check(method, target, response.status, ctype, body)
        return response


# ---------------------------------------------------------------------------------- urllib


def checked_urlopen(real: Any, schema: ApiSchema) -> Any:
    def urlopen(url: Any, *args: Any, **kwargs: Any) -> Any:
        request = url if isinstance(url, urllib.request.Request) else urllib.request.Request(url)
        parts = urlsplit(request.full_url)
        if parts.hostname not in LOOPBACK or not is_api_path(parts.path):
            return real(url, *args, **kwargs)
        method = request.get_method()
        try:
            response = real(url, *args, **kwargs)
        except urllib.error.HTTPError as exc:
            body = exc.read()
            ctype = exc.headers.get_content_type()
            schema.check(method, parts.path, exc.code, ctype, body if ctype == JSON else None)
            raise urllib.error.HTTPError(
                exc.url, exc.code, exc.msg, exc.headers, io.BytesIO(body)
            ) from None
        ctype = response.headers.get_content_type()
        if ctype != JSON:
            schema.check(method, parts.path, response.status, ctype, None)
            return response
        with response:
            body = response.read()
        schema.check(method, parts.path, response.status, ctype, body)
        return urllib.response.addinfourl(
            io.BytesIO(body), response.headers, response.url, response.status
        )

    return urlopen


@pytest.fixture(autouse=True, scope="session")
def api_schema_check() -> Iterator[None]:
    """Check every urllib answer from a loopback API path against the daemon's OpenAPI doc
    (session-wide, so module-scoped fixtures that drive daemons are checked too)."""
    with pytest.MonkeyPatch.context() as patch:
        real = urllib.request.urlopen
        patch.setattr(urllib.request, "urlopen", checked_urlopen(real, daemon_schema()))
        patch.setattr(events, "encode", checked_encode(events.encode, daemon_schema()))
        patch.setattr(EventBus, "publish", checked_publish(EventBus.publish, daemon_schema()))
        yield


def checked_encode(real: Any, schema: ApiSchema) -> Any:
    """``peer.api.events.encode`` that checks each server-sent event first."""

    def encode(kind: str, payload: object) -> bytes:
        schema.check_event(kind, payload)
        return bytes(real(kind, payload))

    return encode


def checked_publish(real: Any, schema: ApiSchema) -> Any:
    """``EventBus.publish`` that checks events of documented kinds (the bus also carries test
    events of kinds of their own; the SSE check refuses those on the wire)."""

    def publish(bus: EventBus, event: Event) -> None:
        if event.kind in schema.doc["x-events"]:
            schema.check_event(event.kind, event.payload())
        real(bus, event)

    return publish


# ------------------------------------------------------------------------ in-process servers


async def echo(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


# The real table plus one route of each kind the security layer distinguishes.
TEST_ROUTES = (
    *ROUTES,
    Route("POST", "/api/v1/test/mutate", echo, "a state-changing route"),
    Route("GET", "/api/v1/test/wallet", echo, "a GET"),
    Route("POST", "/api/v1/test/path", echo, "a route taking a local path", cli_only=True),
    Route("POST", "/api/v1/test/upload", echo, "an upload", upload=True),
)
_OK = RouteSchema({200: obj({"ok": {"const": True}})})
TEST_SCHEMAS: dict[tuple[str, str], RouteSchema] = {
    **SCHEMAS,
    ("POST", "/api/v1/test/mutate"): _OK,
    ("GET", "/api/v1/test/wallet"): _OK,
    ("POST", "/api/v1/test/path"): _OK,
    ("POST", "/api/v1/test/upload"): _OK,
}


SAMPLE_PARAMS = {
    "post_id": "0x" + "ab" * 32,
    "comment_id": "0x" + "cd" * 32,
    "address": "0x" + "11" * 20,
    "token": "0x" + "22" * 20,
    "job": "job1",
    "rendition": "720p",
    "cid": "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
    "filename": "app.js",
    "tag": "cats",
    "tx": "0x" + "ef" * 32,
}


def concrete(path: str) -> str:
    """A request path for a route path: sample values in place of {params}."""
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PARAMS[m.group(1)], path)


def full_status() -> dict[str, Any]:
    """What the composition root's status provider answers (all keys of ``Status``)."""
    return {
        "version": "test",
        "peer_id": None,
        "p2p_addrs": [],
        "reachability": None,
        "data_dir": "/nonexistent",
        "ui_url": "http://127.0.0.1:1/",
        "content_url": "http://127.0.0.1:2/",
        "ports": {"p2p": None, "ui": 1, "content": 2},
        "notices": [],
        "uptime_s": 0.0,
        "chain": {"mode": "off"},
        "wallet": {"address": None, "state": "none"},
        "wallet_address": None,
        "storage": {"backend": "embedded"},
        "bitswap": None,
    }


@dataclass
class Servers:
    ui: CheckedClient
    content: TestClient[web.Request, web.Application]
    readiness: Readiness
    bus: EventBus
    ctx: ApiContext
    store: EmbeddedContentStore

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.ui.port}"


@contextlib.asynccontextmanager
async def serve_api(
    routes: tuple[Route, ...] = TEST_ROUTES,
    schemas: Mapping[tuple[str, str], RouteSchema] = TEST_SCHEMAS,
    ctx: ApiContext | None = None,
) -> AsyncIterator[Servers]:
    """Both servers with ``routes`` (the content port with the real gateway on a memory store);
    the Host policies know the bound ports; UI answers are checked against the OpenAPI doc."""
    readiness = Readiness()
    readiness.require("http")
    bus = EventBus()
    ctx = ctx or ApiContext(readiness=readiness, bus=bus, status=full_status)
    store = EmbeddedContentStore.memory()
    ui_policy, content_policy = HostPolicy(), HostPolicy()
    app = build_ui_app(ctx, AUTH, ui_policy, content_policy, routes, schemas)
    doc: dict[str, Any] = app[openapi.OPENAPI]
    ui = CheckedClient(TestServer(app), ApiSchema(doc))
    content_app = build_content_app(content_policy)
    add_routes(content_app, store)
    content = TestClient(TestServer(content_app))
    await ui.start_server()
    await content.start_server()
    ui_policy.port, content_policy.port = ui.port, content.port
    try:
        yield Servers(ui, content, ctx.readiness, ctx.bus, ctx, store)
    finally:
        await ui.close()
        await content.close()
