"""The link between creators and their chain tokens: a cache in front of ``TokenRegistry``.

The factory registers at most one token per creator and never changes it, so a positive answer
is cached for good (bounded LRU). A negative answer ("no token yet") is valid for a block range:
it is reused while the chain head is fewer than ``negative_blocks`` blocks past the block at
which it was read. The head itself is re-read at most every ``head_ttl_s`` seconds. Concurrent
lookups of one creator share one chain call. Errors listed in ``unavailable`` become
``RegistryUnavailable``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from peer.feed.errors import RegistryUnavailable
from peer.feed.ports import TokenRegistry


@dataclass(frozen=True, slots=True)
class TokenCacheOptions:
    """Settings of the token cache."""

    negative_blocks: int = 5
    """A 'no token' answer is reused for this many blocks after it was read."""
    head_ttl_s: float = 1.0
    """The chain head is re-read at most this often."""
    max_entries: int = 100_000
    """Most creators kept (least recently used are dropped)."""


class CachedTokenRegistry:
    """A ``TokenRegistry`` that caches another one."""

    def __init__(
        self,
        inner: TokenRegistry,
        options: TokenCacheOptions | None = None,
        *,
        unavailable: tuple[type[BaseException], ...] = (OSError, TimeoutError),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner = inner
        self._options = options or TokenCacheOptions()
        self._unavailable = unavailable
        self._clock = clock
        self._entries: OrderedDict[str, tuple[str | None, int]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[str | None]] = {}
        self._head: tuple[int, float] | None = None
        self.chain_calls = 0
        """How many ``token_of`` calls reached the inner registry (observability, tests)."""

    async def block_number(self) -> int:
        """The chain head, re-read at most every ``head_ttl_s`` seconds."""
        now = self._clock()
        if self._head is not None and now - self._head[1] < self._options.head_ttl_s:
            return self._head[0]
        try:
            head = await self._inner.block_number()
        except self._unavailable as exc:
            raise RegistryUnavailable(f"chain head unavailable: {exc}") from exc
        self._head = (head, now)
        return head

    async def token_of(self, creator: str) -> str | None:
        """The creator's token, from the cache when still valid."""
        entry = self._entries.get(creator)
        if entry is not None:
            token, block = entry
            if token is not None:
                self._entries.move_to_end(creator)
                return token
            if await self.block_number() - block < self._options.negative_blocks:
                return None
        pending = self._inflight.get(creator)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._inflight[creator] = future
        try:
            token = await self._lookup(creator)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) re-raise it themselves
            raise
        else:
            future.set_result(token)
            return token
        finally:
            del self._inflight[creator]

    async def token_of_fresh(self, creator: str) -> str | None:
        """Bypass the cache (a cached "no token" may be stale: tokens are never unregistered)."""
        return await self._lookup(creator)

    async def _lookup(self, creator: str) -> str | None:
        block = await self.block_number()
        self.chain_calls += 1
        try:
            token = await self._inner.token_of(creator)
        except self._unavailable as exc:
            raise RegistryUnavailable(f"token registry unavailable: {exc}") from exc
        self._entries[creator] = (token, block)
        self._entries.move_to_end(creator)
        while len(self._entries) > self._options.max_entries:
            self._entries.popitem(last=False)
        return token
