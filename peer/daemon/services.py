"""Service lifecycle and readiness, shared by the composition root and the HTTP API.

A service is anything with an async ``start()`` that returns once it is ready (explicit readiness,
like trio's ``task_status.started()``) and an async ``stop()`` that releases everything it owns.
The composition root starts services in order and stops them in reverse order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class StartStop(Protocol):
    """Anything with an async start/stop pair (e.g. the libp2p host)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Service(Protocol):
    """A start/stop pair owned by the composition root."""

    name: str

    async def start(self) -> None:
        """Start and return only when ready to serve."""

    async def stop(self) -> None:
        """Stop and release every thread, socket, process and file the service owns."""


@dataclass
class Readiness:
    """Which required services are ready; ``/healthz`` is 200 only when all of them are."""

    required: list[str] = field(default_factory=list)
    _ready: set[str] = field(default_factory=set)
    _failed: dict[str, str] = field(default_factory=dict)

    def require(self, name: str) -> None:
        if name not in self.required:
            self.required.append(name)

    def set_ready(self, name: str) -> None:
        self._failed.pop(name, None)
        self._ready.add(name)

    def set_not_ready(self, name: str, reason: str) -> None:
        self._ready.discard(name)
        self._failed[name] = reason

    @property
    def ready(self) -> bool:
        return bool(self.required) and all(n in self._ready for n in self.required)

    def snapshot(self) -> dict[str, str]:
        """Service name -> "ready", "starting" or the reason it is not ready."""
        return {
            name: "ready" if name in self._ready else self._failed.get(name, "starting")
            for name in self.required
        }


class Managed:
    """Gives a start/stop object a service name for the composition root."""

    def __init__(self, name: str, target: StartStop) -> None:
        self.name = name
        self.target = target

    async def start(self) -> None:
        await self.target.start()

    async def stop(self) -> None:
        await self.target.stop()
