"""Clip manifests: build, encode canonically, decode strictly (pure).

A manifest is canonical JSON: UTF-8, keys sorted, no insignificant whitespace, integers only
(no floats, no exponents), no duplicate keys. :func:`decode_manifest` accepts exactly the bytes
:func:`encode_manifest` produces for some valid manifest, so one clip has one manifest CID.

Schema version 1::

    {
      "v": 1,
      "creator": "0x<checksummed address>",
      "durationMs": <int>,
      "poster": {"cid", "mime", "width", "height", "size"},
      "renditions": [                      # 1..8 entries, largest first
        {"cid", "mime", "codecs", "width", "height", "bitrate", "size",
         "noncePrefix": "<14 hex>"}        # noncePrefix only in premium clips
      ],
      "encryption": {"scheme": "stream-chacha20poly1305", "chunkSize": <int>}   # premium only
    }

``size`` is the byte size of the content behind ``cid`` (for premium renditions, the
ciphertext); ``bitrate`` is bits per second of the plaintext rendition. Title and tags are not
in the manifest: they belong to the signed post.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from eth_utils.address import is_checksum_address

from storage import untrusted
from storage.cid import CID
from storage.crypto import (
    MAX_CHUNK_SIZE,
    MIN_CHUNK_SIZE,
    NONCE_PREFIX_SIZE,
    SCHEME,
    StreamParams,
    plaintext_size,
)
from storage.errors import InvalidCIDError, MalformedCiphertextError, UntrustedJsonError
from storage.media.errors import ManifestError

SCHEMA_VERSION: Final = 1
MAX_MANIFEST_BYTES: Final = 64 * 1024
"""Replication cap (ARCHITECTURE "Feed rules")."""
MAX_DEPTH: Final = 4
"""Deepest nesting of a manifest (``{"renditions": [{...}]}`` nests 3 levels)."""
MAX_RENDITIONS: Final = 8
_MAX_INT: Final = 2**53 - 1
_MAX_DIM: Final = 16384
_CODECS_RE: Final = re.compile(r"[A-Za-z0-9]+(\.[A-Za-z0-9]+)*(,[A-Za-z0-9]+(\.[A-Za-z0-9]+)*)*")
_HEX_RE: Final = re.compile(r"[0-9a-f]+")
_VIDEO_MIMES: Final = frozenset({"video/mp4"})
_IMAGE_MIMES: Final = frozenset({"image/jpeg", "image/webp"})


@dataclass(frozen=True, slots=True)
class PosterRef:
    """The poster image."""

    cid: str
    mime: str
    width: int
    height: int
    size: int


@dataclass(frozen=True, slots=True)
class RenditionRef:
    """One rendition; ``nonce_prefix`` is set exactly when the clip is premium."""

    cid: str
    mime: str
    codecs: str
    width: int
    height: int
    bitrate: int
    size: int
    nonce_prefix: bytes | None = None

    @property
    def name(self) -> str:
        """``<short side>p`` (``720p`` for 720x1280), as players label vertical video: the name
        the API and the decrypted-media route use."""
        return f"{min(self.width, self.height)}p"


@dataclass(frozen=True, slots=True)
class Encryption:
    """How the renditions of a premium clip are encrypted (the key is never here)."""

    scheme: str = SCHEME
    chunk_size: int = 64 * 1024


@dataclass(frozen=True, slots=True)
class Manifest:
    """A clip manifest (schema version 1)."""

    creator: str
    duration_ms: int
    poster: PosterRef
    renditions: tuple[RenditionRef, ...]
    encryption: Encryption | None = None

    @property
    def premium(self) -> bool:
        """True if the renditions are encrypted."""
        return self.encryption is not None

    def stream_params(self, rendition: RenditionRef) -> StreamParams:
        """Decryption parameters of ``rendition`` (premium clips only)."""
        if self.encryption is None or rendition.nonce_prefix is None:
            raise ManifestError("this clip is not encrypted")
        return StreamParams(rendition.nonce_prefix, self.encryption.chunk_size)


# ------------------------------------------------------------------------------- encoding
def _poster_obj(p: PosterRef) -> dict[str, Any]:
    return {"cid": p.cid, "mime": p.mime, "width": p.width, "height": p.height, "size": p.size}


def _rendition_obj(r: RenditionRef) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "cid": r.cid,
        "mime": r.mime,
        "codecs": r.codecs,
        "width": r.width,
        "height": r.height,
        "bitrate": r.bitrate,
        "size": r.size,
    }
    if r.nonce_prefix is not None:
        obj["noncePrefix"] = r.nonce_prefix.hex()
    return obj


def manifest_to_obj(m: Manifest) -> dict[str, Any]:
    """The JSON object of a manifest (validated)."""
    obj: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "creator": m.creator,
        "durationMs": m.duration_ms,
        "poster": _poster_obj(m.poster),
        "renditions": [_rendition_obj(r) for r in m.renditions],
    }
    if m.encryption is not None:
        obj["encryption"] = {"scheme": m.encryption.scheme, "chunkSize": m.encryption.chunk_size}
    manifest_from_obj(obj)  # the encoder never writes what the decoder would refuse
    return obj


def canonical_json(obj: Any) -> bytes:
    """Canonical bytes of a JSON value (sorted keys, compact, UTF-8)."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def encode_manifest(m: Manifest) -> bytes:
    """Canonical JSON bytes of a manifest."""
    data = canonical_json(manifest_to_obj(m))
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError("manifest exceeds 64 KiB")
    return data


# ------------------------------------------------------------------------------- decoding
def decode_manifest(data: bytes) -> Manifest:
    """Parse manifest bytes from the network; any deviation raises :class:`ManifestError`."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError("manifest exceeds 64 KiB")
    try:
        obj = untrusted.loads(
            data, max_bytes=MAX_MANIFEST_BYTES, max_depth=MAX_DEPTH, integers_only=True,
            what="manifest",
        )  # fmt: skip
    except UntrustedJsonError as exc:
        raise ManifestError(str(exc)) from exc
    manifest = manifest_from_obj(obj)
    if canonical_json(obj) != data:
        raise ManifestError("manifest is not in canonical form (key order, spacing, escapes)")
    return manifest


def _fields(
    obj: Any, where: str, required: set[str], optional: frozenset[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ManifestError(f"{where} must be an object")
    keys = set(obj)
    if missing := required - keys:
        raise ManifestError(f"{where} lacks {', '.join(sorted(missing))}")
    if unknown := keys - required - optional:
        raise ManifestError(f"{where} has unknown field(s) {', '.join(sorted(unknown))}")
    return obj


def _int(obj: dict[str, Any], key: str, where: str, lo: int = 0, hi: int = _MAX_INT) -> int:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ManifestError(f"{where}.{key} must be an integer")
    if not lo <= value <= hi:
        raise ManifestError(f"{where}.{key} is out of range")
    return value


def _str(obj: dict[str, Any], key: str, where: str, max_len: int = 256) -> str:
    value = obj[key]
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise ManifestError(f"{where}.{key} must be a non-empty string")
    return value


def _cid(obj: dict[str, Any], where: str) -> str:
    text = _str(obj, "cid", where, 128)
    try:
        cid = CID.parse(text)
    except InvalidCIDError as exc:
        raise ManifestError(f"{where}.cid is not a CID") from exc
    if str(cid) != text:
        raise ManifestError(f"{where}.cid is not in canonical string form")
    return text


def manifest_from_obj(obj: Any) -> Manifest:
    """Validate a parsed JSON value as a manifest."""
    top = _fields(
        obj,
        "manifest",
        {"v", "creator", "durationMs", "poster", "renditions"},
        frozenset({"encryption"}),
    )
    if top["v"] != SCHEMA_VERSION or isinstance(top["v"], bool):
        raise ManifestError(f"unsupported manifest version {top['v']!r}")
    creator = _str(top, "creator", "manifest", 42)
    if not is_checksum_address(creator):
        raise ManifestError("manifest.creator must be a checksummed 0x address")
    duration = _int(top, "durationMs", "manifest", 1)

    p = _fields(top["poster"], "poster", {"cid", "mime", "width", "height", "size"})
    if p["mime"] not in _IMAGE_MIMES:
        raise ManifestError("poster.mime must be image/jpeg or image/webp")
    poster = PosterRef(
        _cid(p, "poster"),
        p["mime"],
        _int(p, "width", "poster", 1, _MAX_DIM),
        _int(p, "height", "poster", 1, _MAX_DIM),
        _int(p, "size", "poster", 1),
    )

    encryption: Encryption | None = None
    if "encryption" in top:
        e = _fields(top["encryption"], "encryption", {"scheme", "chunkSize"})
        if e["scheme"] != SCHEME:
            raise ManifestError(f"encryption.scheme must be {SCHEME!r}")
        encryption = Encryption(
            SCHEME, _int(e, "chunkSize", "encryption", MIN_CHUNK_SIZE, MAX_CHUNK_SIZE)
        )

    items = top["renditions"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_RENDITIONS:
        raise ManifestError(f"manifest.renditions must list 1 to {MAX_RENDITIONS} renditions")
    renditions = tuple(_rendition(item, i, encryption) for i, item in enumerate(items))
    prefixes = [r.nonce_prefix for r in renditions if r.nonce_prefix is not None]
    if len(set(prefixes)) != len(prefixes):
        raise ManifestError("renditions must not share a nonce prefix")
    return Manifest(creator, duration, poster, renditions, encryption)


def _rendition(item: Any, i: int, encryption: Encryption | None) -> RenditionRef:
    where = f"renditions[{i}]"
    base = {"cid", "mime", "codecs", "width", "height", "bitrate", "size"}
    r = _fields(item, where, base | ({"noncePrefix"} if encryption else set()))
    if r["mime"] not in _VIDEO_MIMES:
        raise ManifestError(f"{where}.mime must be video/mp4")
    codecs = _str(r, "codecs", where, 128)
    if not _CODECS_RE.fullmatch(codecs):
        raise ManifestError(f"{where}.codecs is malformed")
    size = _int(r, "size", where, 1)
    prefix: bytes | None = None
    if encryption is not None:
        text = _str(r, "noncePrefix", where, 2 * NONCE_PREFIX_SIZE)
        if len(text) != 2 * NONCE_PREFIX_SIZE or not _HEX_RE.fullmatch(text):
            raise ManifestError(f"{where}.noncePrefix must be {NONCE_PREFIX_SIZE} bytes of hex")
        prefix = bytes.fromhex(text)
        try:
            plaintext_size(size, encryption.chunk_size)
        except MalformedCiphertextError as exc:
            raise ManifestError(f"{where}.size is impossible for the encryption") from exc
    return RenditionRef(
        cid=_cid(r, where),
        mime=r["mime"],
        codecs=codecs,
        width=_int(r, "width", where, 2, _MAX_DIM),
        height=_int(r, "height", where, 2, _MAX_DIM),
        bitrate=_int(r, "bitrate", where, 1),
        size=size,
        nonce_prefix=prefix,
    )
