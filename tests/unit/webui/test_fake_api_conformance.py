"""The UI tests' fake peer (``tests/support/fake_api.py``) answers what the daemon documents.

Browser tests run the page against :class:`FakePeer` where a state is hard to reach with real
peers. That is honest only while the fake keeps to the daemon's contract, so every route the fake
serves must be a route of the daemon's table, and every answer it gives, driven here through each
route, must validate against the daemon's OpenAPI document (the real route table and schemas,
not a document built from the fake's own routes).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import FormData
from support.fake_api import ANA, ANA_TOKEN, BEN, E18, FakePeer
from support.http import SECRETS, Servers, daemon_schema, serve_api

from peer.api.routes import ROUTES
from peer.api.schemas import SCHEMAS
from peer.api.security import SECRET_HEADER, SESSION_COOKIE


@pytest.fixture
async def fake(tmp_path: Path) -> AsyncIterator[tuple[FakePeer, Servers]]:
    media = tmp_path / "clip.mp4"
    media.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    poster = tmp_path / "poster.png"
    poster.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32))
    peer = FakePeer(media=media, poster=poster)
    peer.add_post(BEN, "Sunset over the bay", tags=["travel"])
    peer.add_post(ANA, "Members only cut", premium=True, tags=["cats"])
    async with serve_api(peer.routes(), SCHEMAS) as servers:
        servers.ui.schema = daemon_schema()
        yield peer, servers


def test_every_route_of_the_fake_is_a_documented_route_of_the_daemon(tmp_path: Path) -> None:
    daemon = {(r.method, r.path) for r in ROUTES}
    fake = {(r.method, r.path) for r in FakePeer(media=tmp_path / "x").routes()}
    assert fake - daemon == set(), "the fake serves routes the daemon does not have"
    assert all(key in SCHEMAS for key in fake), "every route the fake serves has a schema"


async def test_every_answer_of_the_fake_validates_against_the_daemons_document(
    fake: tuple[FakePeer, Servers],
) -> None:
    peer, servers = fake
    ui = servers.ui
    session = {
        "Origin": servers.origin,
        SECRET_HEADER: SECRETS.secret,
        "Cookie": f"{SESSION_COOKIE}={SECRETS.cookie}",
    }
    free, premium = peer.posts[1]["id"], peer.posts[0]["id"]
    gets = [
        "/api/v1/status",
        "/api/v1/peers",
        "/api/v1/feed",
        "/api/v1/feed?tab=following",
        "/api/v1/search?q=sunset",
        f"/api/v1/posts/{free}",
        f"/api/v1/posts/{free}/clip",
        f"/api/v1/creators/{ANA}",
        f"/api/v1/creators/{ANA}/posts",
        f"/api/v1/tokens/{ANA_TOKEN}",
        f"/api/v1/tokens/{ANA_TOKEN}/quote?side=buy&amount=2",
        f"/api/v1/tokens/{ANA_TOKEN}/history",
        f"/api/v1/tokens/{ANA_TOKEN}/holders",
        "/api/v1/wallet",
        "/api/v1/profile",
        "/api/v1/storage",
        f"/api/v1/clips/{premium}/buy-plan",
    ]
    posts: list[tuple[str, object]] = [
        (f"/api/v1/posts/{free}/like", {}),
        (f"/api/v1/posts/{free}/unlike", {}),
        (f"/api/v1/creators/{ANA}/follow", {"on": True}),
        (f"/api/v1/tokens/{ANA_TOKEN}/buy", {"amount": "5", "max_cost": str(E18), "confirm": True}),
        ("/api/v1/profile", {"name": "me"}),
        (f"/api/v1/clips/{premium}/unlock", {}),
    ]
    answered = []
    for path in gets:
        response = await ui.get(path, headers=session)
        answered.append((path, response.status))
    for path, body in posts:
        response = await ui.post(path, headers=session, json=body)
        answered.append((path, response.status))
    form = FormData()
    form.add_field("file", b"\x00" * 64, filename="clip.mp4", content_type="video/mp4")
    form.add_field("title", "A new clip")
    response = await ui.post("/api/v1/publish", headers=session, data=form)
    answered.append(("/api/v1/publish", response.status))
    job = (await response.json())["job"]
    states = []
    for _ in range(200):
        response = await ui.get(f"/api/v1/publish/{job}", headers=session)
        states.append((await response.json())["state"])
        if states[-1] != "running":
            break
        await asyncio.sleep(0.02)
    assert states[-1] == "done"
    # Each answer was checked against the daemon's document by the client; the fake must also
    # have succeeded, so the check covered the success shapes the UI reads.
    assert [a for a in answered if a[1] not in (200, 202)] == []
    assert len(answered) == len(gets) + len(posts) + 1
