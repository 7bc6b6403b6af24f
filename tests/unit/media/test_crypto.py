"""STREAM encryption: round trips, tamper detection, range reads (storage/crypto.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import crypto
from storage.crypto import ClipKey, StreamEncryptor, StreamParams
from storage.errors import DecryptionError, MalformedCiphertextError

KEY = ClipKey(bytes(range(32)))
PARAMS = StreamParams(b"\x01\x02\x03\x04\x05\x06\x07", chunk_size=16)
SEALED = 16 + crypto.TAG_SIZE


def plaintext(n: int) -> bytes:
    return bytes((i * 7 + 3) % 251 for i in range(n))


# Every size class: empty, below one chunk, exactly one, one and a bit, exact multiples.
SIZES = [0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 160]


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_at_every_size_class(size: int) -> None:
    data = plaintext(size)
    ct = crypto.encrypt(KEY, PARAMS, data)
    assert len(ct) == crypto.ciphertext_size(size, 16)
    assert crypto.plaintext_size(len(ct), 16) == size
    assert crypto.decrypt(KEY, PARAMS, ct) == data


@pytest.mark.parametrize("size", [0, 1, 65535, 65536, 65537, 3 * 65536])
def test_round_trip_with_default_chunk_size(size: int) -> None:
    params = StreamParams.generate()
    data = plaintext(size)
    assert crypto.decrypt(KEY, params, crypto.encrypt(KEY, params, data)) == data


@given(st.binary(max_size=200), st.lists(st.integers(0, 40), max_size=12))
def test_incremental_encryption_equals_one_shot(data: bytes, cuts: list[int]) -> None:
    enc = StreamEncryptor(KEY, PARAMS)
    out = bytearray()
    pos = 0
    for cut in cuts:
        out += enc.update(data[pos : pos + cut])
        pos += cut
    out += enc.update(data[pos:]) + enc.finalize()
    assert bytes(out) == crypto.encrypt(KEY, PARAMS, data)


def test_ciphertext_differs_from_plaintext_and_between_prefixes() -> None:
    data = plaintext(64)
    a = crypto.encrypt(KEY, PARAMS, data)
    b = crypto.encrypt(KEY, StreamParams(b"\x09" * 7, 16), data)
    assert data not in a
    assert a != b


@pytest.mark.parametrize("chunk", range(4))
def test_tampering_with_any_chunk_is_detected(chunk: int) -> None:
    ct = bytearray(crypto.encrypt(KEY, PARAMS, plaintext(60)))  # 4 chunks, last one short
    ct[chunk * SEALED + 2] ^= 0x01
    with pytest.raises(DecryptionError):
        crypto.decrypt(KEY, PARAMS, bytes(ct))


@pytest.mark.parametrize("chunk", range(4))
def test_tampering_with_any_tag_is_detected(chunk: int) -> None:
    ct = bytearray(crypto.encrypt(KEY, PARAMS, plaintext(60)))
    end = min(len(ct), (chunk + 1) * SEALED)
    ct[end - 1] ^= 0x80
    with pytest.raises(DecryptionError):
        crypto.decrypt(KEY, PARAMS, bytes(ct))


def test_reordered_chunks_are_detected() -> None:
    ct = crypto.encrypt(KEY, PARAMS, plaintext(64))
    swapped = ct[SEALED : 2 * SEALED] + ct[:SEALED] + ct[2 * SEALED :]
    with pytest.raises(DecryptionError):
        crypto.decrypt(KEY, PARAMS, swapped)


def test_truncation_at_a_chunk_boundary_is_detected() -> None:
    ct = crypto.encrypt(KEY, PARAMS, plaintext(64))
    with pytest.raises(DecryptionError):
        crypto.decrypt(KEY, PARAMS, ct[: 3 * SEALED])


def test_extension_with_a_chunk_from_another_stream_is_detected() -> None:
    ct = crypto.encrypt(KEY, PARAMS, plaintext(32))
    other = crypto.encrypt(KEY, PARAMS, plaintext(48))
    with pytest.raises(DecryptionError):
        crypto.decrypt(KEY, PARAMS, ct + other[2 * SEALED :])


def test_changed_nonce_prefix_is_detected() -> None:
    ct = crypto.encrypt(KEY, PARAMS, plaintext(40))
    with pytest.raises(DecryptionError):
        crypto.decrypt(KEY, StreamParams(b"\x01\x02\x03\x04\x05\x06\x08", 16), ct)


def test_wrong_key_is_detected() -> None:
    ct = crypto.encrypt(KEY, PARAMS, plaintext(40))
    with pytest.raises(DecryptionError):
        crypto.decrypt(ClipKey(bytes(32)), PARAMS, ct)


@pytest.mark.parametrize("bad_size", [0, 15, SEALED + 16, 2 * SEALED + 5])
def test_impossible_ciphertext_sizes_are_malformed(bad_size: int) -> None:
    with pytest.raises(MalformedCiphertextError):
        crypto.plaintext_size(bad_size, 16)


def test_a_one_chunk_verification_opens_only_the_first_chunk() -> None:
    ct = crypto.encrypt(KEY, PARAMS, plaintext(100))
    first = crypto.decrypt_chunk(KEY, PARAMS, 0, ct[:SEALED], last=False)
    assert first == plaintext(100)[:16]


@settings(max_examples=100)
@given(st.integers(0, 120), st.integers(0, 140), st.integers(0, 140))
def test_range_reads_equal_plaintext_slices(size: int, a: int, b: int) -> None:
    start, end = min(a, b), max(a, b)
    data = plaintext(size)
    ct = crypto.encrypt(KEY, PARAMS, data)
    reads: list[tuple[int, int]] = []

    def read(lo: int, hi: int) -> bytes:
        reads.append((lo, hi))
        return ct[lo:hi]

    got = crypto.decrypt_range(KEY, PARAMS, len(ct), start, end, read)
    assert got == data[start:end]
    for lo, hi in reads:  # only the chunks the range needs are read
        assert lo % SEALED == 0
        assert hi - lo <= ((min(end, size) - 1) // 16 - start // 16 + 1) * SEALED


def test_range_read_detects_a_tampered_chunk() -> None:
    ct = bytearray(crypto.encrypt(KEY, PARAMS, plaintext(100)))
    ct[2 * SEALED] ^= 1
    with pytest.raises(DecryptionError):
        crypto.decrypt_range(KEY, PARAMS, len(ct), 33, 40, lambda lo, hi: bytes(ct[lo:hi]))
    # chunks before the tampered one still read fine
    assert (
        crypto.decrypt_range(KEY, PARAMS, len(ct), 0, 20, lambda lo, hi: bytes(ct[lo:hi]))
        == (plaintext(100)[:20])
    )


def test_clip_key_never_shows_its_bytes() -> None:
    key = ClipKey.generate()
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert key.reveal().hex() not in text
        assert "redacted" in text


def test_clip_keys_compare_by_value() -> None:
    assert ClipKey(bytes(32)) == ClipKey(bytes(32))
    assert ClipKey(bytes(32)) != ClipKey(b"\x01" * 32)
    with pytest.raises(ValueError, match="32 bytes"):
        ClipKey(b"short")


def test_bad_parameters_are_rejected() -> None:
    with pytest.raises(MalformedCiphertextError):
        StreamParams(b"\x00" * 6)
    with pytest.raises(MalformedCiphertextError):
        StreamParams(b"\x00" * 7, chunk_size=0)
