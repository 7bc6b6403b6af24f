"""HTTP ``Range`` headers (RFC 9110, section 14), pure: used by the IPFS gateway and by the
decrypted-media route, so both answer the same header the same way.

Only one ``bytes=`` range is honoured. No header, several ranges, another unit, or a range that
is not valid syntax (``bytes=-``, a last byte before the first as in ``bytes=5-3``) is ignored:
the whole content is sent with 200, as RFC 9110 asks of an invalid range. A valid range that no
byte of the content satisfies raises :class:`~storage.errors.RangeNotSatisfiableError` (416).
"""

from __future__ import annotations

import re

from storage.errors import RangeNotSatisfiableError

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
"""One ``bytes=first-last`` range (either side may be empty)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` half-open and clamped to ``size`` for one satisfiable range, or None
    when the header is to be ignored (serve the whole content)."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last n bytes
        n = int(last)
        if n == 0 or size == 0:
            raise RangeNotSatisfiableError(f"range {header} selects no byte of {size}", size)
        return max(size - n, 0), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiableError(f"range {header} is outside 0-{size - 1}", size)
    end = size if not last else int(last) + 1
    return start, min(end, size)
