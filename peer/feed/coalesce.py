"""Coalescing of point lookups: many concurrent awaits, one reader-thread hop.

Under gossip load hundreds of validators ask "is this id stored?" at once. Instead of one
executor round trip each, ``Coalescer.get(key)`` parks the caller, and one job scheduled on the
next loop iteration answers every parked key with a single batched query. Pure asyncio; the
batch function runs wherever ``run`` sends it (the index's reader pool).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

BatchFn = Callable[[list[K]], Awaitable[dict[K, V]]]


class Coalescer(Generic[K, V]):
    """Answers ``get(key)`` calls in batches of at most ``max_batch`` keys."""

    def __init__(self, batch: BatchFn[K, V], default: V, max_batch: int = 500) -> None:
        self._batch = batch
        self._default = default
        self._max_batch = max_batch
        self._pending: dict[K, list[asyncio.Future[V]]] = {}
        self._scheduled = False

    async def get(self, key: K) -> V:
        """The value for ``key`` (``default`` if the batch has none for it)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = loop.create_future()
        self._pending.setdefault(key, []).append(future)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, {}
        keys = list(pending)
        for start in range(0, len(keys), self._max_batch):
            chunk = {k: pending[k] for k in keys[start : start + self._max_batch]}
            task = asyncio.ensure_future(self._answer(chunk))
            task.add_done_callback(_retrieve)

    async def _answer(self, chunk: dict[K, list[asyncio.Future[V]]]) -> None:
        try:
            values = await self._batch(list(chunk))
        except BaseException as exc:
            for futures in chunk.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(exc)
            return
        for key, futures in chunk.items():
            value = values.get(key, self._default)
            for future in futures:
                if not future.done():
                    future.set_result(value)


def _retrieve(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()
