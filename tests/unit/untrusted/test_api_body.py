"""API request bodies go through the untrusted decoder: 413 above 64 KiB, 400 for deep nesting,
duplicate keys and NaN, whatever the body claims."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from peer.api.context import MAX_JSON_BODY, json_body
from peer.api.errors import ApiError


async def _echo(request: web.Request) -> web.Response:
    try:
        body = await json_body(request)
    except ApiError as exc:
        return web.json_response({"code": exc.code, "message": exc.message}, status=exc.status)
    return web.json_response(body)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"a": [1, {"b": null}]}', 200, None),
        (b"[" * 60_000, 400, "bad_json"),  # under the size cap: refused by the depth scan
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, 400, "bad_json"),
        (b'{"a": 1, "a": 2}', 400, "bad_json"),
        (b'{"a": NaN}', 400, "bad_json"),
        (b"[1]", 400, "bad_json"),
        (b" " * (MAX_JSON_BODY + 1), 413, "request_entity_too_large"),
        (b"[" * 70_000, 413, "request_entity_too_large"),
    ],
)
async def test_hostile_bodies_get_clear_errors(body: bytes, status: int, code: str | None) -> None:
    app = web.Application()
    app.router.add_post("/", _echo)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.post("/", data=body, headers={"Content-Type": "application/json"})
        assert response.status == status
        if code is not None:
            assert (await response.json())["code"] == code
