"""Holder side over the p2p fake: unlock, cache, verification, fallbacks; decrypted playback."""

from __future__ import annotations

import dataclasses
import os

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from support.gating_world import TOKEN, World

from peer.gating import protocol as proto
from peer.gating.errors import (
    LockedError,
    NoKeyServerError,
    ProtocolError,
    SealError,
    UnknownRenditionError,
    UnlockFailedError,
)
from peer.gating.http import media_response
from peer.gating.playback import decrypted_media
from peer.gating.testing import store_premium_clip
from storage.crypto import ClipKey
from storage.errors import ClipKeyNotFoundError


async def test_unlock_releases_verifies_and_caches_the_key(world: World) -> None:
    world.give_threshold()
    key = await world.unlocker.unlock(world.post)
    assert key == world.clip.key
    assert world.released.get(world.post.manifest) == world.clip.key
    world.chain.down = True  # the cached key needs no server and no chain
    assert await world.unlocker.unlock(world.post) == world.clip.key


async def test_a_non_holder_gets_the_not_holder_code(world: World) -> None:
    with pytest.raises(UnlockFailedError) as info:
        await world.unlocker.unlock(world.post)
    assert info.value.code == "not_holder"
    with pytest.raises(ClipKeyNotFoundError):
        world.released.get(world.post.manifest)


async def test_a_wrong_key_from_a_server_is_not_cached(world: World) -> None:
    world.give_threshold()

    class Liar:
        def get(self, clip_id: str) -> ClipKey:
            return ClipKey(os.urandom(32))

        def has(self, clip_id: str) -> bool:
            return True

    world.server._keys = Liar()
    with pytest.raises(UnlockFailedError) as info:
        await world.unlocker.unlock(world.post)
    assert "does not open" in str(info.value) or "decrypt" in str(info.value).lower()
    with pytest.raises(ClipKeyNotFoundError):
        world.released.get(world.post.manifest)


async def test_an_unreachable_server_is_skipped_for_the_profile_server(world: World) -> None:
    world.give_threshold()
    post = dataclasses.replace(world.post, key_servers=("12D3KooWAbcdefghijkmnopqrstuvwxyzABCDEF",))
    world.posts.profiles[post.creator.lower()] = (world.server_host.peer_id,)
    assert await world.unlocker.unlock(post) == world.clip.key


async def test_a_post_without_key_servers_says_so(world: World) -> None:
    post = dataclasses.replace(world.post, key_servers=())
    with pytest.raises(NoKeyServerError):
        await world.unlocker.unlock(post)


async def test_batch_unlock_reports_each_post(world: World) -> None:
    world.give_threshold()
    clip = await store_premium_clip(world.store, world.post.creator, sizes=(5000,))
    world.creator_keys.put(clip.manifest_cid, clip.key)
    other = dataclasses.replace(
        world.post, post_id=b"\x09" * 32, manifest=clip.manifest_cid, min_balance=10**30
    )
    world.posts.add(other)
    results = await world.unlocker.unlock_many([world.post, other])
    assert results[0].key == world.clip.key
    assert results[1].key is None
    assert isinstance(results[1].error, UnlockFailedError)


async def test_playback_without_a_key_is_locked_with_requirements(world: World) -> None:
    world.chain.set_balance(TOKEN, world.holder.address, 3)
    world.chain.mine(2)
    with pytest.raises(LockedError) as info:
        await decrypted_media(
            world.post, "720p", world.store, [world.released],
            viewer=world.holder.address, checker=world.checker,
        )  # fmt: skip
    req = info.value.requirements
    assert req.balance == 3
    assert req.missing == world.post.min_balance - 3
    assert req.to_json()["minBalance"] == str(world.post.min_balance)


async def test_playback_range_reads_equal_the_plaintext(world: World) -> None:
    world.give_threshold()
    await world.unlocker.unlock(world.post)
    media = await decrypted_media(world.post, "720p", world.store, [world.released])
    plain = world.clip.plaintexts["720p"]
    assert media.size == len(plain)
    for start, end in ((0, 1), (4095, 4097), (10_000, 70_123), (len(plain) - 5, len(plain) + 9)):
        assert await media.read(start, end) == plain[start:end]
    pieces = [p async for p in media.iter_range(100, len(plain), piece=10_000)]
    assert b"".join(pieces) == plain[100:]


async def test_unknown_rendition_is_named(world: World) -> None:
    with pytest.raises(UnknownRenditionError):
        await decrypted_media(world.post, "2160p", world.store, [world.creator_keys])


@pytest.mark.parametrize(
    ("header", "status", "content_range"),
    [
        (None, 200, None),
        ("bytes=0-9", 206, "bytes 0-9/{size}"),
        ("bytes=-10", 206, "bytes {last10}-{last}/{size}"),
        ("bytes=5-3", 200, None),  # invalid syntax: ignored, as the gateway does (RFC 9110)
        ("bytes=0-1,5-6", 200, None),  # several ranges: the whole body
        ("bytes={size}-", 416, "bytes */{size}"),
        ("bytes=-0", 416, "bytes */{size}"),
    ],
)
async def test_decrypted_media_answers_ranges_as_the_gateway_does(
    world: World, header: str | None, status: int, content_range: str | None
) -> None:
    world.give_threshold()
    await world.unlocker.unlock(world.post)
    media = await decrypted_media(world.post, "720p", world.store, [world.released])
    plain = world.clip.plaintexts["720p"]
    size = len(plain)
    values = {"size": size, "last": size - 1, "last10": size - 10}

    async def handler(request: web.Request) -> web.StreamResponse:
        return await media_response(request, media)

    app = web.Application()
    app.router.add_get("/media", handler)
    async with TestClient(TestServer(app)) as client:
        headers = {} if header is None else {"Range": header.format(**values)}
        response = await client.get("/media", headers=headers)
        assert response.status == status
        expected = None if content_range is None else content_range.format(**values)
        assert response.headers.get("Content-Range") == expected
        body = await response.read()
    if status == 200:
        assert body == plain
    elif status == 206:
        assert body == plain[:10] if header == "bytes=0-9" else plain[-10:]


def test_sealing_round_trip_and_tamper_detection() -> None:
    key = ClipKey.generate()
    eph = X25519PrivateKey.generate()
    sealed = proto.seal(key, proto.public_bytes(eph), b"\x01" * 32, "bafkreiclip")
    assert proto.open_sealed(eph, sealed) == key
    for changed in (
        dataclasses.replace(sealed, post_id=b"\x02" * 32),
        dataclasses.replace(sealed, clip="bafkreiother"),
        dataclasses.replace(sealed, sealed=bytes([sealed.sealed[0] ^ 1]) + sealed.sealed[1:]),
    ):
        with pytest.raises(SealError):
            proto.open_sealed(eph, changed)
    with pytest.raises(SealError):
        proto.open_sealed(X25519PrivateKey.generate(), sealed)


def test_wire_codec_round_trips_and_is_strict() -> None:
    req = proto.KeyRequest(b"\xab" * 32, "text", b"\x01" * 65)
    assert proto.decode_request(proto.encode_key_request(req)) == req
    grant = proto.NonceGrant("a" * 24, 123)
    assert proto.decode_response(proto.encode_response(grant)) == grant
    for bad in (
        b"[]", b'{"v":2,"op":"nonce"}', b'{"v":1,"op":"nonce","x":1}', b'{"v":1,"op":"other"}',
        b'{"v":1,"op":"key","post":"0xAB","message":"m","sig":"0x00"}', b"\xff", b"NaN",
        b'{"v":true,"op":"nonce"}', b"{" * 9000,
    ):  # fmt: skip
        with pytest.raises(ProtocolError):
            proto.decode_request(bad)
    with pytest.raises(ProtocolError):
        proto.decode_response(b'{"v":1,"ok":false,"code":"made_up","error":"x"}')
