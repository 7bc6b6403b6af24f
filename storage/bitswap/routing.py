"""Content routing for bitswap: announce what we hold, find who holds what we lack.

The port :class:`ContentRouting` is what a DHT gives bitswap (``provide`` a root CID, ``find
providers`` of a CID as dialable multiaddrs). The p2p layer implements it where a DHT is
reachable (py-libp2p's ``kad_dht``; a user opts in, since tests and the demo stay on loopback
where no DHT exists); without one, bitswap asks only the peers it is connected to.

:class:`MemoryRouting` is the public in-memory fake: one shared provider table.
"""

from __future__ import annotations

from collections import defaultdict

from storage.bitswap.ports import ContentRouting
from storage.cid import CID


class MemoryRouting:
    """A provider table shared by every participant (public fake); each participant uses
    its own :meth:`view`, a :class:`ContentRouting`."""

    def __init__(self) -> None:
        self._table: dict[bytes, list[str]] = defaultdict(list)
        self.lookups = 0

    def view(self, addr: str) -> ContentRouting:
        """The routing handle of the participant reachable at ``addr``."""
        return _Participant(self, addr)

    async def find_providers(self, cid: CID, limit: int) -> list[str]:
        self.lookups += 1
        return list(self._table.get(cid.multihash, []))[:limit]

    def _add(self, cid: CID, addr: str) -> None:
        if addr not in self._table[cid.multihash]:
            self._table[cid.multihash].append(addr)


class _Participant:
    def __init__(self, table: MemoryRouting, addr: str) -> None:
        self._table = table
        self._addr = addr

    async def provide(self, cid: CID) -> None:
        self._table._add(cid, self._addr)

    async def find_providers(self, cid: CID, limit: int) -> list[str]:
        found = await self._table.find_providers(cid, limit + 1)
        return [a for a in found if a != self._addr][:limit]
