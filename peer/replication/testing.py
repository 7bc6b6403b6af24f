"""Public fakes of the replication ports, for tests and demos.

- :class:`NetworkBlocks`: a :class:`~peer.replication.ports.BlockSource` that reads blocks
  from the local store, else from "remote" stores (as bitswap does from connected peers),
  caching what it fetched locally, unpinned; it counts what it fetched, can go offline and
  can withhold chosen CIDs.
- :class:`MemoryWants`: the wanted posts and own manifests, set by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peer.replication.state import WantedPost
from storage.cid import CID, parse_cid
from storage.embedded import EmbeddedContentStore
from storage.errors import BlockNotFoundError, ContentUnavailableError


class NetworkBlocks:
    """Blocks from ``local``, else from any of ``remotes`` (verified by the local put)."""

    def __init__(self, local: EmbeddedContentStore, remotes: list[EmbeddedContentStore]) -> None:
        self.local, self.remotes = local, remotes
        self.fetched_blocks = 0
        self.fetched_bytes = 0
        self.online = True
        self.withheld: set[str] = set()
        """CIDs (string form) no remote will deliver."""

    async def get_block(self, cid: CID | str, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        key = parse_cid(cid)
        try:
            return self.local.local.blocks.get(key)
        except BlockNotFoundError:
            pass
        if self.online and str(key) not in self.withheld:
            for remote in self.remotes:
                try:
                    data = remote.local.blocks.get(key)
                except BlockNotFoundError:
                    continue
                self.local.local.blocks.put(key, data, verify=True)
                self.fetched_blocks += 1
                self.fetched_bytes += len(data)
                return data
        raise ContentUnavailableError(f"no peer has {key}", str(key))


@dataclass
class MemoryWants:
    """What the feed would say, set by the test."""

    posts: list[WantedPost] = field(default_factory=list)
    own: list[str] = field(default_factory=list)
    withdrawn_ids: set[str] = field(default_factory=set)
    version: int = 0

    def data_version(self) -> int:
        return self.version

    def wanted(self, me: str, limit: int) -> list[WantedPost]:
        ordered = sorted(self.posts, key=lambda p: (-p.created_at, p.post_id))
        return ordered[:limit]

    def own_manifests(self, me: str) -> list[str]:
        return list(self.own)

    def withdrawn(self, post_id: str) -> bool:
        return post_id in self.withdrawn_ids
