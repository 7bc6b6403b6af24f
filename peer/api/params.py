"""The one strict parser of numbers that arrive in requests, with range checks.

Amounts, bounds and counts arrive as JSON numbers or decimal strings. Only ASCII digits are
accepted (``str.isdigit`` and ``int()`` also take ``"٣"``, ``"１"``, ``"²"`` and surrounding
spaces), at most 80 digits, no sign, no exponent; a fraction only where the unit has decimals.
The value is checked against its domain bounds here, before any work starts, so nothing past
the request layer sees an amount it cannot handle (a uint256 overflow, a balance above the
supply cap).
"""

from __future__ import annotations

import re
from typing import Any, Final

from peer.api.errors import ApiError
from tokens.curve import MAX_SUPPLY, to_whole

UINT256_MAX: Final = 2**256 - 1
TOKEN_DECIMALS: Final = 18
MAX_WHOLE_SUPPLY: Final = MAX_SUPPLY // 10**TOKEN_DECIMALS
"""The supply cap in whole tokens (no balance above it can ever be held)."""

_DECIMAL = re.compile(r"([0-9]{1,80})(?:\.([0-9]{1,80}))?", re.ASCII)


def parse_units(
    value: Any,
    name: str,
    *,
    decimals: int = 0,
    minimum: int = 0,
    maximum: int = UINT256_MAX,
    code: str = "bad_amount",
) -> int:
    """``value`` (a JSON integer or an ASCII decimal string, with at most ``decimals``
    fractional digits) as an integer number of base units in ``[minimum, maximum]``."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value) if value >= 0 else "-"
    elif isinstance(value, str):
        text = value
    else:
        raise ApiError(400, code, f"'{name}' must be a decimal string")
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise ApiError(400, code, f"'{name}' must be a decimal number in ASCII digits (0-9)")
    whole, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > decimals:
        allowed = f"at most {decimals} decimal places" if decimals else "no decimal places"
        raise ApiError(400, code, f"'{name}' takes {allowed}")
    units: int = int(whole) * 10**decimals + int(fraction.ljust(decimals, "0") or "0")
    if not minimum <= units <= maximum:
        low, high = _show(minimum, decimals), _show(maximum, decimals)
        raise ApiError(400, code, f"'{name}' must be from {low} to {high}")
    return units


def _show(units: int, decimals: int) -> str:
    return str(to_whole(units, decimals)) if decimals else str(units)


def token_amount(value: Any, name: str = "amount") -> int:
    """Whole tokens (up to 18 decimals) -> base units, more than zero, at most the supply cap."""
    return parse_units(value, name, decimals=TOKEN_DECIMALS, minimum=1, maximum=MAX_SUPPLY)


def base_units(value: Any, name: str) -> int:
    """A bound in base units (TOK): 0 to 2^256 - 1."""
    return parse_units(value, name)


def optional_base_units(body: dict[str, Any], name: str) -> int | None:
    """``base_units`` of ``body[name]``, or None when absent or null."""
    value = body.get(name)
    return None if value is None else base_units(value, name)


def whole_tokens(value: Any, name: str) -> int:
    """A count of whole tokens: 0 to the supply cap."""
    return parse_units(value, name, maximum=MAX_WHOLE_SUPPLY)


def bounded_int(value: Any, name: str, minimum: int, maximum: int, code: str) -> int:
    """A plain integer in ``[minimum, maximum]`` (query parameters such as ``limit``)."""
    return parse_units(value, name, minimum=minimum, maximum=maximum, code=code)
