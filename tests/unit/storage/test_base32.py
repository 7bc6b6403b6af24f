"""storage.cid's base32 decoder agrees with the standard library's on every input."""

from __future__ import annotations

import base64
import binascii

from hypothesis import given
from hypothesis import strategies as st

from storage.cid import b32decode, b32encode


def _reference(text: str) -> bytes | None:
    """The standard library's base32 plus the canonical-encoding check of multibase."""
    upper = text.upper()
    if set(upper) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"):
        return None
    try:
        raw = base64.b32decode(upper + "=" * (-len(upper) % 8))
    except (binascii.Error, ValueError):
        return None
    return raw if b32encode(raw) == text.lower() else None


def _ours(text: str) -> bytes | None:
    try:
        return b32decode(text)
    except ValueError:
        return None


@given(st.binary(max_size=80))
def test_base32_of_any_bytes_decodes_back(raw: bytes) -> None:
    assert b32decode(b32encode(raw)) == raw
    assert b32decode(b32encode(raw).upper()) == raw


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567AZ1=", max_size=40))
def test_decoding_agrees_with_the_standard_library(text: str) -> None:
    assert _ours(text) == _reference(text)
