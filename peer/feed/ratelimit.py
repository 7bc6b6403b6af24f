"""Token-bucket rate limits keyed by a string (peer id, creator address), bounded in memory.

Pure: the caller passes the current time (seconds, monotonic). Each key gets ``burst`` tokens
refilled at ``rate`` per second; ``allow`` spends one. When more than ``max_keys`` keys are
tracked, the least recently seen are forgotten (a forgotten key starts again with a full
bucket, which only ever errs on the side of letting a message through).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """``rate`` messages per second sustained, ``burst`` at once."""

    rate: float
    burst: float


class RateLimiter:
    """Token buckets for many keys."""

    def __init__(self, limit: Rate, max_keys: int = 50_000) -> None:
        self._limit = limit
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def allow(self, key: str, now: float) -> bool:
        """Spend one token of ``key`` if it has one."""
        tokens, last = self._buckets.get(key, (self._limit.burst, now))
        tokens = min(self._limit.burst, tokens + max(0.0, now - last) * self._limit.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return allowed
