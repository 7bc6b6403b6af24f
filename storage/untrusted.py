"""The one decoder for JSON bytes that come from outside the process (pure).

Every decoder of bytes from a peer, a file a peer made, an HTTP request or an RPC answer goes
through :func:`loads`; ``tests/unit/test_json_callers.py`` fails when a module of ``peer``,
``storage`` or ``tokens`` calls ``json.loads`` / ``json.load`` / ``.json()`` elsewhere. The
checks run in this order, each before any work proportional to the nesting happens:

1. **size**: more than ``max_bytes`` is refused without looking at the bytes;
2. **UTF-8**: strictly (``json.loads`` on bytes would also guess UTF-16/32);
3. **depth**: a non-recursive scan of the bytes (strings and escapes honoured) refuses
   nesting deeper than ``max_depth`` and unbalanced brackets. This is what keeps CPython's C
   decoder away from deep input: with a high recursion limit (``py_ecc`` sets 100,000) it
   overflows the C stack at about 65,600 levels and the process dies with SIGSEGV;
4. **parse** with ``json.loads``: duplicate object keys, ``NaN`` / ``Infinity`` and, when
   ``integers_only``, any number with a fraction or exponent are refused.

Every refusal is a :class:`~storage.errors.UntrustedJsonError` (a ``ValueError``) whose
``reason`` names the rule; callers translate it into their own protocol error.
"""

from __future__ import annotations

import json
from typing import Any, Final

from storage.errors import UntrustedJsonError

DEFAULT_MAX_DEPTH: Final = 16
"""Deepest nesting accepted unless a caller says otherwise (no Toktok format nests beyond 4)."""

_SAME_BRACKETS: Final = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE: Final = bytes(b for b in range(256) if b not in b'"[]{}')


def check_depth(data: bytes, max_depth: int) -> None:
    """Raise :class:`UntrustedJsonError` if ``data`` nests deeper than ``max_depth`` or its
    brackets outside strings do not balance; never recurses, and every step is a linear
    C-level bytes operation whatever the input.

    Escaped backslashes, then escaped quotes are cut out (JSON reads escapes left to right,
    as ``replace`` does), so every quote left delimits a string. Only quotes and brackets are
    kept (``{}`` mapped to ``[]``), empty strings are dropped, then whatever lies between
    pairs of quotes. Each round removes every ``[]`` present at its start: exactly the
    innermost level, so a balanced sequence of depth *d* is empty after *d* rounds and an
    unbalanced one stops shrinking. (Invalid JSON may be read differently here than by the
    parser, but only after the point where the parser stops with an error.)
    """
    unescaped = data.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = unescaped.translate(_SAME_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    brackets = b"".join(structure.split(b'"')[::2])
    if b"[" * (max_depth + 1) in brackets:  # the common attack, refused in one pass
        raise UntrustedJsonError(f"JSON nests deeper than {max_depth} levels", "too-deep")
    for _ in range(max_depth):
        if not brackets:
            return
        reduced = brackets.replace(b"[]", b"")
        if len(reduced) == len(brackets):
            raise UntrustedJsonError("JSON brackets do not balance", "syntax")
        brackets = reduced
    if brackets:
        raise UntrustedJsonError(f"JSON nests deeper than {max_depth} levels", "too-deep")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            message = f"duplicate key {key[:40]!r} in a JSON object"
            raise UntrustedJsonError(message, "duplicate-key")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise UntrustedJsonError(f"{name} is not allowed (not JSON)", "constant")


def _no_float(text: str) -> Any:
    raise UntrustedJsonError(f"non-integer number {text[:20]!r} (only integers allowed)", "number")


# Built once: ``json.loads`` with hooks would build a new decoder (and scanner) per call.
_INTEGERS_ONLY: Final = json.JSONDecoder(
    object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_no_float
)
_ANY_NUMBER: Final = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def loads(
    data: bytes,
    *,
    max_bytes: int,
    max_depth: int = DEFAULT_MAX_DEPTH,
    integers_only: bool = False,
    what: str = "JSON document",
) -> Any:
    """Parse untrusted JSON ``data`` within ``max_bytes`` and ``max_depth``.

    ``what`` names the document in error messages ("sync request", "manifest").
    """
    if len(data) > max_bytes:
        raise UntrustedJsonError(
            f"{what} is {len(data)} bytes; the limit is {max_bytes}", "too-large"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UntrustedJsonError(f"{what} is not UTF-8", "not-utf8") from exc
    try:
        check_depth(data, max_depth)
    except UntrustedJsonError as exc:
        raise UntrustedJsonError(f"{what}: {exc}", exc.reason) from None
    try:
        return (_INTEGERS_ONLY if integers_only else _ANY_NUMBER).decode(text)
    except UntrustedJsonError as exc:
        raise UntrustedJsonError(f"{what}: {exc}", exc.reason) from None
    except RecursionError as exc:  # unreachable after check_depth; kept as a second guard
        raise UntrustedJsonError(f"{what} nests too deeply", "too-deep") from exc
    except ValueError as exc:
        reason = "number" if "digits" in str(exc) else "syntax"
        raise UntrustedJsonError(f"{what} is not valid JSON: {exc}", reason) from exc
