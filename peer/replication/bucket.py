"""A token bucket limiting replication bandwidth (bytes per second).

Tokens are bytes. ``take(n)`` is called after a block of ``n`` bytes arrived (its size is not
known before): the bucket may go into debt, and the caller sleeps until the debt is repaid,
so over any long window the fetched bytes stay within ``rate * window + burst``. A rate of 0
means unlimited. The clock and the sleep are injected (tests drive them by hand).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """``rate`` bytes per second, at most ``burst`` bytes saved up."""

    def __init__(
        self,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate < 0 or burst < 0:
            raise ValueError("rate and burst must be >= 0")
        self.rate, self.burst = float(rate), float(burst)
        self._clock, self._sleep = clock, sleep
        self._tokens = float(burst)
        self._at = clock()
        self._lock = asyncio.Lock()

    @property
    def unlimited(self) -> bool:
        return self.rate == 0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def delay_after(self, amount: int) -> float:
        """Spend ``amount`` tokens now; the seconds to wait until the bucket is out of debt."""
        if self.unlimited:
            return 0.0
        self._refill()
        self._tokens -= amount
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    async def take(self, amount: int) -> None:
        """Account ``amount`` bytes and wait while the bucket is in debt (callers queue up)."""
        if self.unlimited:
            return
        async with self._lock:
            wait = self.delay_after(amount)
            if wait > 0:
                await self._sleep(wait)
