"""The event bus: typed fan-out that never blocks publishers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from peer.bus import Event, EventBus
from peer.events import ServiceReady, ServiceStopped


@dataclass(frozen=True)
class Tick(Event):
    kind: ClassVar[str] = "test.tick"
    n: int


async def test_subscribers_get_only_the_kinds_they_asked_for() -> None:
    bus = EventBus()
    ready_only = bus.subscribe(ServiceReady)
    everything = bus.subscribe()
    bus.publish(ServiceReady("http"))
    bus.publish(ServiceStopped("http"))
    assert await ready_only.get() == ServiceReady("http")
    assert ready_only.get_nowait() is None
    assert [await everything.get(), await everything.get()] == [
        ServiceReady("http"),
        ServiceStopped("http"),
    ]


async def test_slow_subscriber_drops_oldest_and_counts() -> None:
    bus = EventBus(queue_size=3)
    sub = bus.subscribe(Tick)
    for n in range(5):
        bus.publish(Tick(n))
    assert sub.dropped == 2
    assert [(await sub.get()).payload() for _ in range(3)] == [{"n": 2}, {"n": 3}, {"n": 4}]


async def test_closed_subscription_receives_nothing() -> None:
    bus = EventBus()
    sub = bus.subscribe()
    sub.close()
    bus.publish(Tick(1))
    assert bus.subscriber_count == 0
    assert sub.get_nowait() is None
