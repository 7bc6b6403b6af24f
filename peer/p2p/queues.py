"""Bounded asyncio-side queues behind ``Subscription`` and ``EventStream`` (real and fake).

Producers call ``push`` from the asyncio loop's thread (the real host posts there with
``call_soon_threadsafe``). When full, the oldest item is dropped and counted: the network
side is never blocked by a slow consumer, and a slow consumer sees the newest data.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from .ports import ConnectionEvent, Message

T = TypeVar("T")


class BoundedFeed(Generic[T]):
    def __init__(self, capacity: int, on_close: Callable[[], Awaitable[None]] | None) -> None:
        if capacity < 1:
            raise ValueError("queue capacity must be at least 1")
        self._items: collections.deque[T] = collections.deque()
        self._capacity = capacity
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._on_close = on_close
        self._dropped = 0

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def closed(self) -> bool:
        return self._closed

    def push(self, item: T) -> None:
        if self._closed:
            return
        if len(self._items) >= self._capacity:
            self._items.popleft()
            self._dropped += 1
        self._items.append(item)
        self._wake()

    def end(self) -> None:
        """Stop without calling ``on_close`` (the producer went away)."""
        self._closed = True
        self._wake()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake()
        if self._on_close is not None:
            await self._on_close()

    async def get(self) -> T:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def __aiter__(self) -> BoundedFeed[T]:
        return self

    async def __anext__(self) -> T:
        return await self.get()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class MessageFeed(BoundedFeed[Message]):
    """A ``Subscription``: messages of one topic."""

    def __init__(
        self, topic: str, capacity: int, on_close: Callable[[], Awaitable[None]] | None
    ) -> None:
        super().__init__(capacity, on_close)
        self.topic = topic


class EventFeed(BoundedFeed[ConnectionEvent]):
    """An ``EventStream``: connection events."""
