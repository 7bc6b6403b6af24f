"""The ``ContentStore`` conformance suite against the stores of this process.

The embedded store (on disk and in memory, the ``content_store`` fixture of this folder's
conftest) and the stores the daemon actually serves from: ``NetworkContentStore`` (the embedded
store plus bitswap, so reads fetch what is missing) and ``ProvidingContentStore`` (which also
announces every pinned root it adds). Bitswap runs on the p2p fake network here (the fake has
its own conformance suite against the real host); these tests are about the store's contract,
with every block local, and about the announcements the providing store makes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.content_store_suite import ContentStoreSuite

from peer.p2p.testing import FakeNetwork
from storage.bitswap import Bitswap, BitswapOptions, ClientOptions
from storage.bitswap.providing import ProvidingContentStore
from storage.bitswap.store import NetworkContentStore
from storage.cid import CID
from storage.embedded import EmbeddedContentStore
from storage.ports import ContentStore

pytestmark = pytest.mark.integration


class TestEmbedded(ContentStoreSuite):
    """``content_store`` comes from the folder's conftest (disk and memory)."""


@pytest.fixture
async def bitswap_store() -> AsyncIterator[tuple[EmbeddedContentStore, Bitswap]]:
    host = FakeNetwork().host()
    await host.start()
    local = EmbeddedContentStore.memory()  # the disk variant runs in TestEmbedded
    options = BitswapOptions(client=ClientOptions(block_timeout=0.5, fetch_timeout=1))
    bitswap = Bitswap(host, local.local, options)
    await bitswap.start()
    try:
        yield local, bitswap
    finally:
        await bitswap.stop()
        await host.stop()


class TestNetworkContentStore(ContentStoreSuite):
    @pytest.fixture
    def content_store(self, bitswap_store: tuple[EmbeddedContentStore, Bitswap]) -> ContentStore:
        return NetworkContentStore(*bitswap_store)


class TestProvidingContentStore(ContentStoreSuite):
    announced: list[CID]

    @pytest.fixture
    def content_store(self, bitswap_store: tuple[EmbeddedContentStore, Bitswap]) -> ContentStore:
        self.announced = []
        return ProvidingContentStore(*bitswap_store, announce=self.announced.extend)

    async def test_every_pinned_add_is_announced_and_an_unpinned_one_is_not(
        self, content_store: ContentStore, tmp_path: Path
    ) -> None:
        path = tmp_path / "clip.bin"
        path.write_bytes(b"a file")

        async def chunks() -> AsyncIterator[bytes]:
            yield b"a stream"

        pinned = [
            await content_store.add_bytes(b"bytes"),
            await content_store.add_file(path),
            await content_store.add_stream(chunks()),
        ]
        await content_store.add_bytes(b"not pinned", pin=False)
        assert self.announced == pinned
