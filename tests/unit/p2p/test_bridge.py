"""The asyncio <-> trio bridge, without any network."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
import trio
import trio.lowlevel

from peer.p2p.bridge import TrioThread
from peer.p2p.errors import HostNotRunningError, HostStartError


async def idle_main(stop: trio.Event, task_status: Any) -> None:
    async with trio.open_nursery() as tasks:
        task_status.started(tasks)
        await stop.wait()
        tasks.cancel_scope.cancel()


async def test_calls_run_in_the_trio_thread_and_return_results() -> None:
    bridge = TrioThread("bridge-test")
    await bridge.start(idle_main, timeout=5)

    async def where(x: int) -> tuple[str, int]:
        await trio.lowlevel.checkpoint()
        return threading.current_thread().name, x * 2

    assert await bridge.run(where, 21) == ("bridge-test", 42)
    await bridge.stop()
    assert not any(t.name == "bridge-test" for t in threading.enumerate())


async def test_trio_exceptions_reach_the_asyncio_caller() -> None:
    bridge = TrioThread("bridge-test")
    await bridge.start(idle_main, timeout=5)

    async def boom() -> None:
        raise KeyError("nope")

    with pytest.raises(KeyError, match="nope"):
        await bridge.run(boom)
    await bridge.run(trio.sleep, 0)  # still usable after a failure
    await bridge.stop()


async def test_cancelling_the_asyncio_caller_cancels_the_trio_task() -> None:
    bridge = TrioThread("bridge-test")
    await bridge.start(idle_main, timeout=5)
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(bridge.run(forever), 0.2)
    for _ in range(100):
        if cancelled.is_set():
            break
        await asyncio.sleep(0.01)
    assert cancelled.is_set()
    await bridge.stop()


async def test_trio_can_await_asyncio_coroutines() -> None:
    bridge = TrioThread("bridge-test")
    await bridge.start(idle_main, timeout=5)
    loop_thread = threading.current_thread().name

    async def on_asyncio() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    async def from_trio() -> str:
        return await bridge.call_asyncio(on_asyncio)

    assert await bridge.run(from_trio) == loop_thread
    await bridge.stop()


async def test_a_failing_main_fails_start_and_ends_the_thread() -> None:
    async def broken_main(stop: trio.Event, task_status: Any) -> None:
        raise HostStartError("cannot listen")

    bridge = TrioThread("bridge-test")
    with pytest.raises(HostStartError, match="cannot listen"):
        await bridge.start(broken_main, timeout=5)
    assert not any(t.name == "bridge-test" for t in threading.enumerate())
    with pytest.raises(HostNotRunningError):
        await bridge.run(trio.sleep, 0)


async def test_calls_after_stop_say_the_host_is_not_running() -> None:
    bridge = TrioThread("bridge-test")
    await bridge.start(idle_main, timeout=5)
    await bridge.stop()
    await bridge.stop()  # idempotent
    with pytest.raises(HostNotRunningError):
        await bridge.run(trio.sleep, 0)
