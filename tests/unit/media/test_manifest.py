"""Clip manifests: canonical encoding and strict decoding (storage/media/manifest.py)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.crypto import ciphertext_size
from storage.media.errors import ManifestError
from storage.media.manifest import (
    Encryption,
    Manifest,
    PosterRef,
    RenditionRef,
    decode_manifest,
    encode_manifest,
)

CREATOR = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"
CID_A = "bafkreic5wr2nbeasgwfl7bnqnsw77fxhfcvhqlndrrk3hhhkpof3laec44"
CID_B = "bafkreihncjhd4ut3nh76mqqqovutggwk2r3spr2z6zp5jqdzvn2ipiezfm"
CID_V0 = "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR"


def free_manifest() -> Manifest:
    return Manifest(
        creator=CREATOR,
        duration_ms=2000,
        poster=PosterRef(CID_B, "image/jpeg", 180, 320, 9400),
        renditions=(
            RenditionRef(CID_A, "video/mp4", "avc1.64001f,mp4a.40.2", 720, 1280, 900_000, 200_216),
            RenditionRef(CID_V0, "video/mp4", "avc1.64001e", 480, 854, 400_000, 100_000),
        ),
    )


def premium_manifest() -> Manifest:
    m = free_manifest()
    rs = tuple(
        replace(r, size=ciphertext_size(r.size), nonce_prefix=bytes([i]) * 7)
        for i, r in enumerate(m.renditions)
    )
    return replace(m, renditions=rs, encryption=Encryption())


@pytest.mark.parametrize("factory", [free_manifest, premium_manifest])
def test_round_trip(factory: Any) -> None:
    m = factory()
    data = encode_manifest(m)
    assert decode_manifest(data) == m
    assert encode_manifest(decode_manifest(data)) == data


def test_encoding_is_canonical_json() -> None:
    data = encode_manifest(premium_manifest())
    obj = json.loads(data)
    assert data == json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    assert obj["v"] == 1
    assert obj["encryption"] == {"chunkSize": 65536, "scheme": "stream-chacha20poly1305"}
    assert obj["renditions"][0]["noncePrefix"] == "00" * 7
    assert b" " not in data
    assert b"." not in data.replace(b"mp4a.40.2", b"").replace(b"avc1.", b"")


def mutate(m: Manifest, fn: Any) -> bytes:
    obj = json.loads(encode_manifest(m))
    fn(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def _set(path: list[Any], value: Any) -> Any:
    def fn(obj: Any) -> None:
        for p in path[:-1]:
            obj = obj[p]
        obj[path[-1]] = value

    return fn


def _del(path: list[Any]) -> Any:
    def fn(obj: Any) -> None:
        for p in path[:-1]:
            obj = obj[p]
        del obj[path[-1]]

    return fn


BAD_FREE = {
    "version 2": _set(["v"], 2),
    "version as bool": _set(["v"], True),
    "unknown top field": _set(["title"], "hi"),
    "missing poster": _del(["poster"]),
    "lowercase creator": _set(["creator"], CREATOR.lower()),
    "bad checksum": _set(["creator"], CREATOR.replace("B", "b", 1)),
    "creator not hex": _set(["creator"], "0x" + "g" * 40),
    "zero duration": _set(["durationMs"], 0),
    "negative duration": _set(["durationMs"], -1),
    "huge duration": _set(["durationMs"], 2**60),
    "string duration": _set(["durationMs"], "2000"),
    "bool width": _set(["renditions", 0, "width"], True),
    "no renditions": _set(["renditions"], []),
    "too many renditions": lambda o: o.update(renditions=o["renditions"] * 5),
    "renditions not a list": _set(["renditions"], {}),
    "rendition not object": _set(["renditions", 0], "x"),
    "bad cid": _set(["renditions", 0, "cid"], "not-a-cid"),
    "uppercase cid": _set(["renditions", 0, "cid"], CID_A.upper()),
    "bad mime": _set(["renditions", 0, "mime"], "text/html"),
    "bad codecs": _set(["renditions", 0, "codecs"], "avc1.<script>"),
    "empty codecs": _set(["renditions", 0, "codecs"], ""),
    "nonce prefix on a free clip": _set(["renditions", 0, "noncePrefix"], "00" * 7),
    "zero size": _set(["renditions", 0, "size"], 0),
    "poster svg": _set(["poster", "mime"], "image/svg+xml"),
    "poster extra field": _set(["poster", "alt"], "x"),
    "poster bad cid": _set(["poster", "cid"], 5),
    "encryption null": _set(["encryption"], None),
}


@pytest.mark.parametrize("case", sorted(BAD_FREE))
def test_malformed_free_manifests_are_typed_errors(case: str) -> None:
    with pytest.raises(ManifestError):
        decode_manifest(mutate(free_manifest(), BAD_FREE[case]))


BAD_PREMIUM = {
    "missing nonce prefix": _del(["renditions", 0, "noncePrefix"]),
    "short nonce prefix": _set(["renditions", 0, "noncePrefix"], "00" * 6),
    "uppercase hex prefix": _set(["renditions", 0, "noncePrefix"], "AB" * 7),
    "shared nonce prefix": _set(["renditions", 1, "noncePrefix"], "00" * 7),
    "unknown scheme": _set(["encryption", "scheme"], "aes-ctr"),
    "zero chunk size": _set(["encryption", "chunkSize"], 0),
    "huge chunk size": _set(["encryption", "chunkSize"], 2**40),
    "extra encryption field": _set(["encryption", "key"], "00"),
    "impossible ciphertext size": _set(["renditions", 0, "size"], 10),
}


@pytest.mark.parametrize("case", sorted(BAD_PREMIUM))
def test_malformed_premium_manifests_are_typed_errors(case: str) -> None:
    with pytest.raises(ManifestError):
        decode_manifest(mutate(premium_manifest(), BAD_PREMIUM[case]))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe",
        b"[]",
        b"null",
        b"{",
        b'{"v":1.0}',
        b'{"v":1e0}',
        b'{"v":NaN}',
        b'{"v":1,"v":1}',
        b"[" * 100_000,
        b" " * (64 * 1024 + 1),
    ],
)
def test_garbage_is_a_manifest_error(data: bytes) -> None:
    with pytest.raises(ManifestError):
        decode_manifest(data)


def test_non_canonical_bytes_are_rejected() -> None:
    obj = json.loads(encode_manifest(free_manifest()))
    for text in (
        json.dumps(obj),  # spaces
        json.dumps(obj, separators=(",", ":")),  # unsorted keys
        json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n",
    ):
        if text.encode() != encode_manifest(free_manifest()):
            with pytest.raises(ManifestError, match="canonical"):
                decode_manifest(text.encode())


def test_a_float_anywhere_is_rejected() -> None:
    data = encode_manifest(free_manifest()).replace(b'"bitrate":900000', b'"bitrate":900000.0')
    with pytest.raises(ManifestError, match="integers"):
        decode_manifest(data)


def test_the_encoder_refuses_what_the_decoder_would_refuse() -> None:
    with pytest.raises(ManifestError):
        encode_manifest(replace(free_manifest(), creator="alice"))


def test_stream_params_come_from_the_rendition() -> None:
    m = premium_manifest()
    params = m.stream_params(m.renditions[1])
    assert params.nonce_prefix == b"\x01" * 7
    assert params.chunk_size == 65536
    with pytest.raises(ManifestError):
        free_manifest().stream_params(free_manifest().renditions[0])


@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_decoder(data: bytes) -> None:
    with contextlib.suppress(ManifestError):
        decode_manifest(data)
