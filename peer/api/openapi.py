"""The OpenAPI 3.1 description of the API, generated from the route table and :mod:`schemas`.

:func:`build` is pure: routes + schemas in, a JSON-ready dict out. ``build_ui_app`` builds it
once per application and ``GET /api/v1/openapi.json`` serves it. Routes without a schema are
left out (a unit test proves every route of the table has one), so a test client that validates
answers against this document fails on an undocumented route or status.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from peer.api.errors import ERROR_TABLE
from peer.api.headers import SECRET_HEADER, SESSION_COOKIE
from peer.api.schemas import (
    ADDRESS,
    COMPONENTS,
    EVENTS,
    SCHEMAS,
    UPLOAD_FORM,
    RouteSchema,
    Schema,
    event_component,
    ref,
)
from peer.api.security import PUBLIC_PATHS

if TYPE_CHECKING:
    from peer.api.routes import Route

OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("toktok_openapi", dict)
JSON = "application/json"
_PARAM = re.compile(r"\{(\w+)\}")

PATH_PARAMS: dict[str, tuple[Schema, str]] = {
    "post_id": ({"type": "string", "pattern": "^(0x)?[0-9a-fA-F]{64}$"}, "post id (0x + hex)"),
    "comment_id": (
        {"type": "string", "pattern": "^(0x)?[0-9a-fA-F]{64}$"},
        "comment id (0x + hex)",
    ),
    "address": (ADDRESS, "creator address"),
    "token": (ADDRESS, "token contract address"),
    "job": ({"type": "string"}, "publish job id"),
    "rendition": ({"type": "string"}, "rendition name, e.g. 720p"),
}
VALIDATED_PARAMS = {"post_id", "comment_id", "address", "token"}  # a malformed one is 400

COMMON_ERRORS = frozenset({403, 500})
MUTATION_ERRORS = frozenset({400, 413, 415})

_STATUS_TEXT = {
    200: "OK",
    202: "Accepted",
    206: "Partial content",
    400: "Bad request",
    402: "Payment required",
    403: "Forbidden (Host, Origin, credential, CLI-only route or path inside the data dir)",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    415: "Unsupported media type",
    416: "Range not satisfiable",
    422: "Unprocessable",
    500: "Internal error",
    502: "Bad gateway (a remote peer or the chain failed)",
    503: "Service unavailable",
    504: "Timed out",
}


def _codes_for(status: int) -> list[str]:
    return sorted({row.code for row in ERROR_TABLE if row.status == status})


def _error_response(status: int, body: Schema | None) -> dict[str, Any]:
    text = _STATUS_TEXT.get(status, "Error")
    codes = _codes_for(status)
    if codes:
        text += "; error-table codes: " + ", ".join(codes)
    if body is None:
        return {"description": text + " (no body)"}
    return {"description": text, "content": {JSON: {"schema": body}}}


def _operation(route: Route, spec: RouteSchema) -> dict[str, Any]:
    names = _PARAM.findall(route.path)
    params: list[dict[str, Any]] = []
    for name in names:
        schema, text = PATH_PARAMS.get(name, ({"type": "string"}, name))
        params.append(
            {"name": name, "in": "path", "required": True, "schema": schema, "description": text}
        )
    for q in spec.query:
        params.append(
            {
                "name": q.name,
                "in": "query",
                "required": q.required,
                "schema": q.schema,
                **({"description": q.description} if q.description else {}),
            }
        )
    op: dict[str, Any] = {
        "operationId": route.method.lower() + re.sub(r"\W+", "_", route.path).rstrip("_"),
        "summary": route.summary,
        "tags": [_tag(route.path)],
    }
    errors = set(COMMON_ERRORS | spec.errors)
    if route.state_changing:
        errors |= MUTATION_ERRORS
        params.append(
            {
                "name": "Origin",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "must be exactly http://<the request's Host>",
            }
        )
        op["security"] = _security(route)
        if route.upload:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": UPLOAD_FORM,
                        "encoding": {"file": {"contentType": "video/*, application/octet-stream"}},
                    }
                },
            }
        elif spec.body is not None:
            op["requestBody"] = {"required": True, "content": {JSON: {"schema": spec.body}}}
    else:
        op["security"] = _security(route)
    if set(names) & VALIDATED_PARAMS:
        errors.add(400)
    if params:
        op["parameters"] = params
    responses: dict[str, Any] = {}
    for status, schema in sorted(spec.ok.items()):
        types = spec.media or (JSON,)
        responses[str(status)] = {
            "description": _STATUS_TEXT.get(status, "OK"),
            "content": {t: {"schema": schema} for t in types},
        }
    for status in sorted(errors):
        body = spec.error_bodies.get(status, ref("Error"))
        responses[str(status)] = _error_response(status, body)
    op["responses"] = responses
    return op


def _security(route: Route) -> list[dict[str, list[str]]]:
    """Who may call a route: nobody needs anything for /healthz; path routes take only the CLI
    token; mutations from the browser need the cookie and the secret header."""
    if route.path in PUBLIC_PATHS:
        return []
    if route.cli_only:
        return [{"cli": []}]
    if route.state_changing:
        return [{"cli": []}, {"session": [], "secret": []}]
    return [{"cli": []}, {"session": []}]


def _tag(path: str) -> str:
    parts = path.removeprefix("/api/v1/").strip("/").split("/")
    return "node" if path == "/healthz" else parts[0].removesuffix(".json")


def build(
    routes: Iterable[Route],
    schemas: Mapping[tuple[str, str], RouteSchema] = SCHEMAS,
    version: str = "1",
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes`` (those with an entry in ``schemas``)."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        spec = schemas.get((route.method, route.path))
        if spec is None:
            continue
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, spec)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Toktok peer local API",
            "version": version,
            "description": (
                "Served on 127.0.0.1 only. Every request needs Host 127.0.0.1:<port>, "
                "localhost:<port> or [::1]:<port>. Every route but /healthz needs a credential: "
                "the CLI token (Authorization: Bearer, from api.json) or the browser session "
                f"(the {SESSION_COOKIE} cookie, got at /login with a one-time token from "
                "'toktok open'). State-changing requests need Origin http://<Host>, a JSON body "
                f"(multipart on the upload) and, from the browser, the {SECRET_HEADER} header; "
                "routes that take a local path accept only the CLI token. Generated from "
                "peer/api/routes.py and peer/api/schemas.py; see docs/API.md."
            ),
        },
        "servers": [{"url": "http://127.0.0.1:{port}", "variables": {"port": {"default": "8080"}}}],
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {
                "cli": {"type": "http", "scheme": "bearer"},
                "secret": {"type": "apiKey", "in": "header", "name": SECRET_HEADER},
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            },
        },
        "x-events": {kind: ref(event_component(kind)) for kind in EVENTS},
        "x-error-table": [
            {"exception": row.exc_type.__name__, "status": row.status, "code": row.code}
            for row in ERROR_TABLE
        ],
    }


async def document(request: web.Request) -> web.Response:
    """``GET /api/v1/openapi.json``: the description of the application serving it."""
    return web.json_response(request.app[OPENAPI])
