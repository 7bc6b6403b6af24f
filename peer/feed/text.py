"""Text fields of signed records: what we refuse to sign, and how others' text is shown.

Control characters (Unicode category Cc: C0, DEL, C1) and lone surrogates (Cs) have no place
in a title, tag, name or address list: they break terminals and logs and hide text. We refuse
them when we sign a record; others' records that contain them are Ignored by the validator (no
penalty); text already stored is shown with them escaped (``\\u0000`` form).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

_REFUSED = frozenset({"Cc", "Cs"})


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character or a lone surrogate."""
    return any(unicodedata.category(ch) in _REFUSED for ch in text)


def first_control(texts: Iterable[str]) -> str | None:
    """The first refused character found in ``texts``, escaped (None if there is none)."""
    for text in texts:
        for ch in text:
            if unicodedata.category(ch) in _REFUSED:
                return f"\\u{ord(ch):04x}"
    return None


def escape_controls(text: str) -> str:
    """``text`` with every refused character written as ``\\uXXXX`` (visible, inert)."""
    if not has_control(text):
        return text
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _REFUSED else ch for ch in text
    )
