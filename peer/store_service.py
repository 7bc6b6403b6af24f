"""The content store as a service of the composition root (``<data-dir>/store``)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

from storage.embedded import EmbeddedContentStore


class StoreService:
    """Opens the embedded store off the event loop; ``store`` is usable after ``start()``."""

    name = "store"

    def __init__(self, root: Path) -> None:
        self._root = root
        self._store: EmbeddedContentStore | None = None

    @property
    def store(self) -> EmbeddedContentStore:
        if self._store is None:
            raise RuntimeError("the content store is not open yet")
        return self._store

    @property
    def ready(self) -> bool:
        return self._store is not None

    async def start(self) -> None:
        self._store = await asyncio.to_thread(EmbeddedContentStore.at, self._root)

    async def stop(self) -> None:
        store, self._store = self._store, None
        close = getattr(store.local if store else None, "close", None)
        if callable(close):
            await asyncio.to_thread(close)

    async def status(self) -> dict[str, Any]:
        usage = await self.store.usage()
        return {"backend": "embedded", "root": str(self._root), "usage": dataclasses.asdict(usage)}
