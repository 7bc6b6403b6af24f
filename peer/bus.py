"""A typed in-process event bus.

Services publish frozen dataclass events; subscribers receive them through bounded queues. A slow
subscriber never blocks a publisher: when its queue is full the oldest event is dropped and the
subscriber's ``dropped`` counter grows (the HTTP API streams the bus as server-sent events and
tells the client when it fell behind).

Every event type has a ``kind`` (its wire name in the SSE stream) and is a frozen dataclass, so
``dataclasses.asdict`` gives its JSON payload.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    """Base of all bus events."""

    kind: ClassVar[str] = "event"

    def payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Subscription:
    """One subscriber's view of the bus; iterate it, and close it when done."""

    def __init__(self, bus: EventBus, kinds: frozenset[type[Event]] | None, maxsize: int) -> None:
        self._bus = bus
        self._kinds = kinds
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def wants(self, event: Event) -> bool:
        return self._kinds is None or isinstance(event, tuple(self._kinds))

    def offer(self, event: Event) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def get(self) -> Event:
        return await self._queue.get()

    def get_nowait(self) -> Event | None:
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            return None

    def close(self) -> None:
        self._bus._remove(self)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.get()


class EventBus:
    """Fan-out of events to subscribers; publish is non-blocking and loop-local."""

    def __init__(self, queue_size: int = 256) -> None:
        self._subscribers: list[Subscription] = []
        self._queue_size = queue_size

    def subscribe(self, *kinds: type[Event]) -> Subscription:
        """Receive events of the given types (all events when none is given)."""
        sub = Subscription(self, frozenset(kinds) or None, self._queue_size)
        self._subscribers.append(sub)
        return sub

    def publish(self, event: Event) -> None:
        for sub in list(self._subscribers):
            if sub.wants(event):
                sub.offer(event)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)
