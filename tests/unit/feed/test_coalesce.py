"""Coalesced lookups: concurrent gets share one batch; errors reach every waiter."""

from __future__ import annotations

import asyncio

import pytest

from peer.feed.coalesce import Coalescer


async def test_concurrent_gets_are_answered_by_one_batch() -> None:
    batches: list[list[int]] = []

    async def batch(keys: list[int]) -> dict[int, str | None]:
        batches.append(sorted(keys))
        return {k: f"v{k}" for k in keys if k % 2 == 0}

    coalescer: Coalescer[int, str | None] = Coalescer(batch, None)
    results = await asyncio.gather(*(coalescer.get(k) for k in [1, 2, 3, 4, 2]))
    assert results == [None, "v2", None, "v4", "v2"]
    assert batches == [[1, 2, 3, 4]]
    assert await coalescer.get(6) == "v6"
    assert len(batches) == 2


async def test_batches_are_split_at_the_maximum() -> None:
    sizes: list[int] = []

    async def batch(keys: list[int]) -> dict[int, int]:
        sizes.append(len(keys))
        return {k: k for k in keys}

    coalescer: Coalescer[int, int] = Coalescer(batch, -1, max_batch=3)
    assert await asyncio.gather(*(coalescer.get(k) for k in range(7))) == list(range(7))
    assert sorted(sizes) == [1, 3, 3]


async def test_a_failing_batch_fails_every_waiter() -> None:
    async def batch(keys: list[int]) -> dict[int, int]:
        raise RuntimeError("disk on fire")

    coalescer: Coalescer[int, int] = Coalescer(batch, 0)
    results = await asyncio.gather(coalescer.get(1), coalescer.get(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    with pytest.raises(RuntimeError, match="disk on fire"):
        await coalescer.get(3)
