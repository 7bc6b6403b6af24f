"""CID string syntax (``is_cid``, the feed's manifest rule): the UnixFS vectors are CIDs, near
misses are not."""

from __future__ import annotations

import pytest
from support.vectors import unixfs_vectors

from storage.cid import is_cid


def test_every_unixfs_vector_cid_is_accepted() -> None:
    for vector in unixfs_vectors():
        assert is_cid(vector["v0"]), vector["v0"]
        assert is_cid(vector["v1"]), vector["v1"]


@pytest.mark.parametrize(
    "text",
    [
        "BAFKREIGKGWDVR5WSPZWPIUTSSN4XPJ2I7WEDSHNWPHHNU7OHX4PQAXXIPE",  # base32 upper
        "f01551220" + "ab" * 32,  # base16, raw, sha2-256
        "F01551220" + "AB" * 32,
        "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",  # base58btc CIDv1
    ],
)
def test_other_multibase_encodings_are_accepted(text: str) -> None:
    assert is_cid(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Qm",
        "QmVb2nQKSpHn7t8t2Mw9uxnVtrhaUc1t6Dx5DXCgc5r2r",  # v0 one char short
        "QmVb2nQKSpHn7t8t2Mw9uxnVtrhaUc1t6Dx5DXCgc5r2r0",  # '0' is not base58
        "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxip",  # digest truncated
        "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipeaa",  # trailing bytes
        "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipf",  # non-zero pad bits
        "bAFKREIGKGWDVR5WSPZWPIUTSSN4XPJ2I7WEDSHNWPHHNU7OHX4PQAXXIPE",  # mixed case
        "xafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe",  # unknown multibase
        "f02551220" + "ab" * 32,  # CID version 2
        "f0155122" + "ab" * 32,  # odd hex length
        "f01d500" + "1220" + "ab" * 32,  # non-minimal varint (0x55 as d5 00)
        "f01551200",  # empty digest
        "https://example.org/clip.mp4",
        "b" + "a" * 300,
        " bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe",  # surrounding space
        "f0155 1220" + "ab" * 32,  # space inside base16
    ],
)
def test_non_cids_are_refused(text: str) -> None:
    assert not is_cid(text)
