"""Publishing end to end: probe -> transcode -> (encrypt) -> add + pin -> manifest, against the
in-memory store and the on-disk store of a data dir."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from integration.media.media_helpers import CREATOR, FAST, files_under

from storage import crypto
from storage.cid import CID
from storage.clipkeys import ClipKeyStore, ScryptParams
from storage.crypto import ClipKey
from storage.embedded import EmbeddedContentStore
from storage.errors import DecryptionError, StoreIOError
from storage.media import playback
from storage.media.errors import ManifestError, MediaError, NotAVideo
from storage.media.manifest import decode_manifest
from storage.media.pipeline import ClipPublisher, MediaSettings
from storage.media.progress import Progress, Stage

pytestmark = pytest.mark.integration
KDF = ScryptParams(n=2**4)


@pytest.fixture(params=["memory", "disk"])
def data_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    request.node.store_kind = request.param
    return tmp_path / "data"


@pytest.fixture
def store(request: pytest.FixtureRequest, data_dir: Path) -> EmbeddedContentStore:
    if request.node.store_kind == "memory":
        return EmbeddedContentStore.memory()
    return EmbeddedContentStore.at(data_dir / "store", fsync=False)


@pytest.fixture
def keys(data_dir: Path) -> ClipKeyStore:
    return ClipKeyStore(data_dir / "keys", "wallet passphrase", kdf=KDF)


def publisher(store: Any, data_dir: Path, keys: ClipKeyStore | None = None) -> ClipPublisher:
    return ClipPublisher(store, MediaSettings(data_dir / "tmp", transcode=FAST), keys)


async def read_all(store: EmbeddedContentStore, cid: str | CID) -> bytes:
    return b"".join([piece async for piece in store.open(cid)])


async def test_publishing_pins_renditions_poster_and_manifest(
    samples: dict[str, Path], store: EmbeddedContentStore, data_dir: Path
) -> None:
    seen: list[Progress] = []
    clip = await publisher(store, data_dir).publish(
        samples["portrait"], creator=CREATOR, progress=seen.append
    )
    manifest = decode_manifest(await read_all(store, clip.manifest_cid))
    assert manifest == clip.manifest
    assert not manifest.premium
    assert manifest.creator == CREATOR
    assert 1900 <= manifest.duration_ms <= 2100
    pinned = {str(p.cid) for p in await store.pins()}
    [rendition] = manifest.renditions
    assert {str(clip.manifest_cid), manifest.poster.cid, rendition.cid} <= pinned
    body = await read_all(store, rendition.cid)
    assert len(body) == rendition.size
    assert body[4:8] == b"ftyp"
    assert (await read_all(store, manifest.poster.cid))[:3] == b"\xff\xd8\xff"
    stages = [p.stage for p in seen]
    assert stages[0] is Stage.PROBE
    assert stages[-1] is Stage.DONE
    assert Stage.TRANSCODE in stages
    assert Stage.ADD in stages
    assert files_under(data_dir / "tmp") == []
    assert set(clip.timings) >= {"probe", "transcode", "encrypt", "add", "manifest", "total"}


async def test_the_same_file_twice_gives_the_same_cids(
    samples: dict[str, Path], store: EmbeddedContentStore, data_dir: Path
) -> None:
    pub = publisher(store, data_dir)
    a = await pub.publish(samples["rotated"], creator=CREATOR)
    b = await pub.publish(samples["rotated"], creator=CREATOR)
    assert a.manifest_cid == b.manifest_cid
    assert a.manifest_bytes == b.manifest_bytes
    other = EmbeddedContentStore.memory()
    c = await publisher(other, data_dir).publish(samples["rotated"], creator=CREATOR)
    assert c.manifest_cid == a.manifest_cid


async def test_premium_renditions_are_encrypted_and_decrypt_to_the_free_ones(
    samples: dict[str, Path], store: EmbeddedContentStore, data_dir: Path, keys: ClipKeyStore
) -> None:
    pub = publisher(store, data_dir, keys)
    free = await pub.publish(samples["portrait"], creator=CREATOR)
    premium = await pub.publish(samples["portrait"], creator=CREATOR, premium=True)
    m = premium.manifest
    assert m.premium
    assert m.poster == free.manifest.poster  # the poster stays public
    key = keys.get(str(premium.manifest_cid))
    for enc, plain in zip(m.renditions, free.manifest.renditions, strict=True):
        assert enc.cid != plain.cid
        ciphertext = await read_all(store, enc.cid)
        assert len(ciphertext) == enc.size == crypto.ciphertext_size(plain.size)
        plaintext = await read_all(store, plain.cid)
        assert plaintext[:4096] not in ciphertext
        params = m.stream_params(enc)
        assert crypto.decrypt(key, params, ciphertext) == plaintext
        # random access through the store: only the needed chunks are fetched
        assert playback.plaintext_size(m, enc) == len(plaintext)
        for start, end in [(0, 10), (65530, 65600), (len(plaintext) - 7, len(plaintext) + 50)]:
            got = await playback.read_plaintext_range(store, m, enc, key, start, end)
            assert got == plaintext[start:end]
        assert await playback.read_plaintext_range(store, m, enc, key, len(plaintext), 10**9) == b""
    await playback.verify_key(store, m, key)
    assert premium.timings["encrypt"] > 0


async def test_a_wrong_key_does_not_open_a_premium_rendition(
    samples: dict[str, Path], store: EmbeddedContentStore, data_dir: Path, keys: ClipKeyStore
) -> None:
    clip = await publisher(store, data_dir, keys).publish(
        samples["no-audio"], creator=CREATOR, premium=True
    )
    with pytest.raises(DecryptionError):
        await playback.verify_key(store, clip.manifest, ClipKey.generate())
    await playback.verify_key(store, clip.manifest, keys.get(str(clip.manifest_cid)))


def key_forms(key: ClipKey) -> list[bytes]:
    raw = key.reveal()
    b64 = base64.b64encode(raw)
    url = base64.urlsafe_b64encode(raw)
    return [raw, raw.hex().encode(), raw.hex().upper().encode(), b64, url, url.rstrip(b"=")]


async def test_no_form_of_the_clip_key_is_in_the_data_dir_or_the_logs(
    samples: dict[str, Path],
    store: EmbeddedContentStore,
    data_dir: Path,
    keys: ClipKeyStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clip = await publisher(store, data_dir, keys).publish(
        samples["portrait"], creator=CREATOR, premium=True
    )
    key = keys.get(str(clip.manifest_cid))
    files = files_under(data_dir)
    assert any(p.name.endswith(".key") for p in files)
    if (data_dir / "store").exists():  # the on-disk store: blocks, pins.sqlite and its WAL
        assert any(p.suffix == ".sqlite" or "wal" in p.name for p in files)
    blob = b"".join(p.read_bytes() for p in files)
    logs = caplog.text.encode() + repr(clip).encode()
    for form in key_forms(key):
        assert form not in blob
        assert form not in logs


async def test_premium_without_a_key_store_is_refused_before_any_work(
    samples: dict[str, Path], store: EmbeddedContentStore, data_dir: Path
) -> None:
    with pytest.raises(MediaError, match="clip-key store"):
        await publisher(store, data_dir).publish(samples["portrait"], creator=CREATOR, premium=True)
    assert await store.pins() == []


async def test_a_bad_creator_is_refused_before_any_work(
    samples: dict[str, Path], store: EmbeddedContentStore, data_dir: Path
) -> None:
    with pytest.raises(ManifestError, match="checksummed"):
        await publisher(store, data_dir).publish(samples["portrait"], creator=CREATOR.lower())
    assert await store.pins() == []


async def test_a_bad_input_loses_nothing(
    hostile_dir: Path, store: EmbeddedContentStore, data_dir: Path
) -> None:
    with pytest.raises(NotAVideo):
        await publisher(store, data_dir).publish(hostile_dir / "random.mp4", creator=CREATOR)
    assert await store.pins() == []
    assert files_under(data_dir / "tmp") == []


class FailingManifestStore:
    """Delegates to a real store but fails when the manifest is added."""

    def __init__(self, inner: EmbeddedContentStore) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def add_bytes(self, data: bytes, *, cid_version: int = 1, pin: bool = True) -> CID:
        raise StoreIOError("disk full")

    def open(self, cid: CID | str) -> AsyncIterator[bytes]:
        return self.inner.open(cid)


async def test_a_failure_after_adding_removes_only_the_new_pins(
    samples: dict[str, Path], store: EmbeddedContentStore, data_dir: Path
) -> None:
    earlier = await publisher(store, data_dir).publish(samples["portrait"], creator=CREATOR)
    before = await store.pins()
    failing = publisher(FailingManifestStore(store), data_dir)
    with pytest.raises(StoreIOError, match="disk full"):
        await failing.publish(samples["portrait"], creator=CREATOR)  # same renditions: kept
    with pytest.raises(StoreIOError, match="disk full"):
        await failing.publish(samples["landscape"], creator=CREATOR)  # new renditions: unpinned
    assert await store.pins() == before
    assert await store.is_pinned(earlier.manifest_cid)
    assert files_under(data_dir / "tmp") == []


class RecordingStore:
    """Delegates to a real store and records how each add was asked to pin."""

    def __init__(self, inner: EmbeddedContentStore) -> None:
        self.inner = inner
        self.add_pins: list[bool] = []
        self.pin_calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def add_file(self, path: Path, progress: Any = None, *, pin: bool = True) -> CID:
        self.add_pins.append(pin)
        return await self.inner.add_file(path, progress, pin=pin)

    async def add_stream(self, chunks: AsyncIterator[bytes], *, pin: bool = True) -> CID:
        self.add_pins.append(pin)
        return await self.inner.add_stream(chunks, pin=pin)

    async def add_bytes(self, data: bytes, *, cid_version: int = 1, pin: bool = True) -> CID:
        self.add_pins.append(pin)
        return await self.inner.add_bytes(data, cid_version=cid_version, pin=pin)

    async def pin(self, cid: CID | str, *, recursive: bool = True) -> None:
        self.pin_calls += 1
        await self.inner.pin(cid, recursive=recursive)


@pytest.mark.parametrize("premium", [False, True])
async def test_every_new_pin_is_journalled_before_it_exists_and_added_in_one_step(
    samples: dict[str, Path],
    store: EmbeddedContentStore,
    data_dir: Path,
    keys: ClipKeyStore,
    premium: bool,
) -> None:
    journalled: list[CID] = []

    async def journal(cid: CID) -> None:
        assert not await store.is_pinned(cid), "the journal hears of a pin before it exists"
        journalled.append(cid)

    recording = RecordingStore(store)
    clip = await publisher(recording, data_dir, keys).publish(
        samples["portrait"], creator=CREATOR, premium=premium, journal=journal
    )
    assert {str(c) for c in journalled} == {str(p.cid) for p in await store.pins()}
    assert journalled[-1] == clip.manifest_cid
    assert recording.add_pins
    assert all(recording.add_pins), "every add pins in the same step"
    assert recording.pin_calls == 0

    again: list[CID] = []

    async def journal_again(cid: CID) -> None:
        again.append(cid)

    await publisher(store, data_dir, keys).publish(
        samples["portrait"], creator=CREATOR, premium=premium, journal=journal_again
    )
    if not premium:  # the same CIDs are pinned already: nothing of ours to journal
        assert again == []
