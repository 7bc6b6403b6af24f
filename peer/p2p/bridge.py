"""One trio event loop in a dedicated thread, reachable from asyncio (and back).

Inward (asyncio -> trio) calls schedule a task in the trio thread with
``TrioToken.run_sync_soon`` and resolve an asyncio future with ``loop.call_soon_threadsafe``;
no thread ever blocks waiting for the other loop. Outward (trio -> asyncio) calls use
``asyncio.run_coroutine_threadsafe`` and wake the trio task with ``run_sync_soon``.
Cancelling the asyncio caller cancels the trio task, and vice versa.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import trio

from .errors import HostNotRunningError, HostStartError, P2PError

T = TypeVar("T")
logger = logging.getLogger(__name__)

TrioMain = Callable[..., Awaitable[None]]
"""The body of the trio thread: sets everything up, calls ``task_status.started(nursery)``
with the nursery bridged calls run in, returns after the stop event fires (cleaning up)."""


class TrioThread:
    """Owns the trio thread. ``start`` returns once ``main`` reported readiness."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._nursery: trio.Nursery | None = None
        self._stop: trio.Event | None = None
        self._finished: asyncio.Future[None] | None = None
        self.crash: BaseException | None = None

    @property
    def running(self) -> bool:
        return self._nursery is not None

    @property
    def nursery(self) -> trio.Nursery:
        """The nursery bridged calls run in (trio thread only)."""
        if self._nursery is None:
            raise HostNotRunningError()
        return self._nursery

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise HostNotRunningError()
        return self._loop

    async def start(self, main: TrioMain, timeout: float) -> None:  # noqa: ASYNC109
        if self._thread is not None:
            raise HostStartError("the p2p host was already started once; create a new one")
        loop = asyncio.get_running_loop()
        self._loop = loop
        ready: asyncio.Future[None] = loop.create_future()
        self._finished = loop.create_future()
        self._thread = threading.Thread(
            target=self._thread_main, args=(main, ready), name=self._name, daemon=True
        )
        self._thread.start()
        try:
            await asyncio.wait_for(asyncio.shield(ready), timeout)
        except TimeoutError:
            await self.stop()
            raise HostStartError(f"the p2p host did not become ready within {timeout} s") from None
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Ask ``main`` to finish, then wait until the thread has exited."""
        token, stop_event = self._token, self._stop
        if token is not None and stop_event is not None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(stop_event.set)
        if self._finished is not None:
            await asyncio.shield(self._finished)
        if self._thread is not None:
            self._thread.join()
        self._nursery = None

    def _thread_main(self, main: TrioMain, ready: asyncio.Future[None]) -> None:
        loop = self.loop
        try:
            trio.run(self._trio_main, main, ready)
        except BaseException as exc:
            self.crash = exc
            if ready.done():  # it had started: this is a crash, not a failed start
                logger.error("the %s thread crashed", self._name, exc_info=exc)
            leaf = _first_leaf(exc)
            error = leaf if isinstance(leaf, Exception) else HostStartError(repr(leaf))
            loop.call_soon_threadsafe(_set_exception, ready, error)
        finally:
            self._nursery = None
            self._token = None
            assert self._finished is not None
            loop.call_soon_threadsafe(_set_result, self._finished, None)

    async def _trio_main(self, main: TrioMain, ready: asyncio.Future[None]) -> None:
        self._stop = trio.Event()
        self._token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as outer:
            self._nursery = await outer.start(main, self._stop)
            self.loop.call_soon_threadsafe(_set_result, ready, None)

    # asyncio -> trio ---------------------------------------------------------------------

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``await fn(*args)`` in the trio thread and return its result here."""
        token, nursery = self._token, self._nursery
        if token is None or nursery is None:
            raise HostNotRunningError()
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        scope = trio.CancelScope()

        async def task() -> None:
            try:
                with scope:
                    result = await fn(*args)
            except BaseException as exc:
                if isinstance(exc, trio.Cancelled):
                    loop.call_soon_threadsafe(_set_exception, fut, HostNotRunningError())
                    raise
                loop.call_soon_threadsafe(_set_exception, fut, exc)
                if not isinstance(exc, Exception):
                    raise
            else:
                if scope.cancelled_caught:
                    loop.call_soon_threadsafe(_set_exception, fut, HostNotRunningError())
                else:
                    loop.call_soon_threadsafe(_set_result, fut, result)

        try:
            token.run_sync_soon(nursery.start_soon, task)
        except trio.RunFinishedError:
            raise HostNotRunningError() from None
        try:
            return await fut
        except asyncio.CancelledError:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(scope.cancel)
            raise

    def post(self, fn: Callable[..., object], *args: Any) -> None:
        """Call ``fn(*args)`` soon in the trio thread (fire and forget)."""
        token = self._token
        if token is None:
            raise HostNotRunningError()
        try:
            token.run_sync_soon(fn, *args)
        except trio.RunFinishedError:
            raise HostNotRunningError() from None

    # trio -> asyncio ---------------------------------------------------------------------

    async def call_asyncio(self, fn: Callable[..., Coroutine[Any, Any, T]], *args: Any) -> T:
        """From the trio thread: run coroutine ``fn(*args)`` on the asyncio loop, await it."""
        cf: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(fn(*args), self.loop)
        done = trio.Event()
        token = trio.lowlevel.current_trio_token()

        def wake(_: object) -> None:
            with contextlib.suppress(trio.RunFinishedError):
                token.run_sync_soon(done.set)

        cf.add_done_callback(wake)
        try:
            await done.wait()
        except trio.Cancelled:
            cf.cancel()
            raise
        return cf.result()

    def post_asyncio(self, fn: Callable[..., object], *args: Any) -> None:
        """From the trio thread: call ``fn(*args)`` soon on the asyncio loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(fn, *args)


def _set_result(fut: asyncio.Future[T], value: T) -> None:
    if not fut.done():
        fut.set_result(value)


def _set_exception(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _first_leaf(exc: BaseException) -> BaseException:
    """The most useful exception inside (nested) exception groups: our own errors first."""
    if not isinstance(exc, BaseExceptionGroup):
        return exc
    leaves = [_first_leaf(e) for e in exc.exceptions]
    for leaf in leaves:
        if isinstance(leaf, P2PError):
            return leaf
    return leaves[0] if leaves else exc
