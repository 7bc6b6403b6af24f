"""The one decoder for JSON from outside (storage.untrusted): caps, depth scan, strictness."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.errors import UntrustedJsonError
from storage.untrusted import DEFAULT_MAX_DEPTH, check_depth, loads


def _reason(data: bytes, **kwargs: Any) -> str:
    kwargs.setdefault("max_bytes", 10**7)
    with pytest.raises(UntrustedJsonError) as info:
        loads(data, **kwargs)
    return info.value.reason


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_valid_json_decodes_as_json_loads_does() -> None:
    data = b'{"a": [1, {"b": "[[[{{\\"\\\\"}, -2, true, null, 1.5], "c": "\xc3\xa9"}'
    assert loads(data, max_bytes=1000) == json.loads(data)


def test_the_size_cap_is_checked_before_anything_else() -> None:
    assert loads(b"[1]", max_bytes=3) == [1]
    assert _reason(b"[1] ", max_bytes=3) == "too-large"
    assert _reason(b"[" * 70_000, max_bytes=65_536) == "too-large"


def test_deep_nesting_is_refused_before_parsing_at_any_depth() -> None:
    assert loads(_nested(DEFAULT_MAX_DEPTH), max_bytes=100) is not None
    assert _reason(_nested(DEFAULT_MAX_DEPTH + 1)) == "too-deep"
    assert _reason(_nested(70_000)) == "too-deep"
    assert _reason(b"[" * 70_000) == "too-deep"
    assert _reason(b'{"a":' * 70_000 + b"1" + b"}" * 70_000) == "too-deep"
    assert _reason(b"[1," * 70_000) == "too-deep"


def test_the_depth_limit_is_exact_for_mixed_brackets() -> None:
    four = b'{"a":[{"b":[]}]}'
    check_depth(four, 4)
    with pytest.raises(UntrustedJsonError, match="deeper than 3"):
        check_depth(four, 3)
    siblings = b"[" + b"[[]]," * 1000 + b"[]]"
    check_depth(siblings, 3)
    with pytest.raises(UntrustedJsonError):
        check_depth(siblings, 2)


def test_brackets_inside_strings_and_escapes_do_not_count() -> None:
    assert loads(b'["' + b"[" * 70_000 + b'"]', max_bytes=10**6) == ["[" * 70_000]
    assert loads(b'["\\\\", "[[[", "\\"[["]', max_bytes=100, max_depth=1) == ["\\", "[[[", '"[[']
    # an escaped quote does not end the string, so the brackets after it are still inside
    assert loads(b'["\\"[[[[[["]', max_bytes=100, max_depth=1) == ['"[[[[[[']


def test_unbalanced_brackets_are_refused() -> None:
    assert _reason(b"[[]") == "syntax"
    assert _reason(b"]") == "syntax"
    assert _reason(b"[}") == "syntax"


def test_duplicate_keys_are_refused_at_every_level() -> None:
    assert _reason(b'{"a":1,"a":1}') == "duplicate-key"
    assert _reason(b'{"x":{"a":1,"a":2}}') == "duplicate-key"
    assert loads(b'{"a":{"a":1}}', max_bytes=100) == {"a": {"a": 1}}


def test_numbers_and_constants() -> None:
    assert _reason(b"[NaN]") == "constant"
    assert _reason(b"[-Infinity]") == "constant"
    assert _reason(b"[1.5]", integers_only=True) == "number"
    assert _reason(b"[1e3]", integers_only=True) == "number"
    assert loads(b"[1.5]", max_bytes=10) == [1.5]
    assert _reason(b"[" + b"9" * 5000 + b"]") == "number"


def test_encoding_and_syntax() -> None:
    assert _reason(b'"\xff"') == "not-utf8"
    assert _reason(b"\xff\xfe[\x00]\x00") == "not-utf8"  # no UTF-16 guessing
    assert _reason(b"") == "syntax"
    assert _reason(b'"abc') == "syntax"
    assert _reason(b"[1,]") == "syntax"


def test_errors_are_value_errors_naming_the_document() -> None:
    with pytest.raises(ValueError, match=r"^manifest: JSON nests deeper"):
        loads(_nested(50), max_bytes=1000, what="manifest")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
        max_leaves=30,
    )
)
def test_any_json_value_within_the_depth_decodes_unchanged(value: object) -> None:
    data = json.dumps(value).encode()
    if _depth(value) > DEFAULT_MAX_DEPTH:
        assert _reason(data) == "too-deep"
    else:
        assert loads(data, max_bytes=10**6) == value


@given(st.binary(max_size=300) | st.text('[]{}"\\,:1 a', max_size=300).map(str.encode))
def test_arbitrary_bytes_give_a_value_or_a_typed_error(data: bytes) -> None:
    with contextlib.suppress(UntrustedJsonError):  # any other exception fails the test
        loads(data, max_bytes=1000, max_depth=4)
