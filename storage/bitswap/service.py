"""The bitswap service: serves our blocks and fetches others' on the peer's libp2p host.

Built by the composition root with the network port (the p2p host) and the peer's
:class:`~storage.local.LocalStore`; ``start()`` registers the bitswap protocols and follows
connection events, ``stop()`` undoes both. Every inbound bitswap stream (another peer's
wantlists, and the blocks and presences it answers us with) is read here and dispatched to the
server (wantlists) or the client (blocks, presences); every outbound message goes on our own
stream to the peer (:mod:`storage.bitswap.sender`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from storage import unixfs
from storage.bitswap.client import BitswapClient, ClientOptions, ClientStats, Session
from storage.bitswap.ports import BitswapNetwork, BitswapStream, ConnectionEvents, ContentRouting
from storage.bitswap.sender import PeerSender
from storage.bitswap.server import BitswapServer, ServerOptions, ServerStats
from storage.bitswap.wire import PROTOCOLS, FrameReader, decode_message
from storage.cid import CID, DAG_PB, parse_cid
from storage.errors import BlockNotFoundError, RelayLimitedError, StorageError
from storage.local import ImportSession, LocalStore
from storage.ports import ProgressCallback

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BitswapOptions:
    """Settings of the bitswap service."""

    client: ClientOptions = field(default_factory=ClientOptions)
    server: ServerOptions = field(default_factory=ServerOptions)
    # Blocks in flight while fetching a DAG (64 x 256 KiB = 16 MiB at most in memory).
    fetch_window: int = 64
    # Bytes asked per read of an inbound stream (each read crosses into the p2p thread).
    read_size: int = 4 * 1024 * 1024
    # Content routing: providers asked per lookup, and the least time between two lookups
    # for the same CID (seconds).
    providers_per_lookup: int = 5
    lookup_interval: float = 10.0


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What :meth:`Bitswap.fetch` did."""

    root: CID
    blocks: int
    fetched_blocks: int
    fetched_bytes: int


@dataclass(frozen=True, slots=True)
class BitswapStats:
    """Counters of both halves."""

    peers: int
    wanted: int
    client: ClientStats
    server: ServerStats
    bad_peers: int


class Bitswap:
    """The bitswap service (see the module docstring)."""

    name = "bitswap"

    def __init__(
        self,
        network: BitswapNetwork,
        local: LocalStore,
        options: BitswapOptions | None = None,
        routing: ContentRouting | None = None,
        relayed: Callable[[str], bool] | None = None,
    ) -> None:
        """``relayed(peer)``: whether we reach ``peer`` only through a relay (see
        :class:`~storage.bitswap.client.BitswapClient`)."""
        self._network = network
        self._local = local
        self.options = options or BitswapOptions()
        self._routing = routing
        self._lookups: dict[bytes, float] = {}
        self._found_none: set[bytes] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._senders: dict[str, PeerSender] = {}
        self._relay_cut_files: OrderedDict[bytes, None] = OrderedDict()
        self._relayed = relayed
        self.client = BitswapClient(
            self._connected, self._sender_for, self.options.client, self._find_providers, relayed
        )
        self.server = BitswapServer(local.blocks, self._sender_for, self.options.server)
        self._events: ConnectionEvents | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._started = False

    # -- lifecycle
    async def start(self) -> None:
        """Serve the bitswap protocols and follow connections."""
        if self._started:
            return
        self._events = self._network.watch_connections()
        self._watcher = asyncio.get_running_loop().create_task(self._watch(self._events))
        for protocol in PROTOCOLS:
            await self._network.set_stream_handler(protocol, self._on_stream)
        self._started = True

    async def stop(self) -> None:
        """Stop serving, fail outstanding fetches, close our streams. Idempotent."""
        if not self._started:
            return
        self._started = False
        for protocol in PROTOCOLS:
            with contextlib.suppress(Exception):
                await self._network.remove_stream_handler(protocol)
        if self._events is not None:
            with contextlib.suppress(Exception):
                await self._events.close()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(BaseException):
                await self._watcher
        self.client.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self.server.close()
        senders, self._senders = list(self._senders.values()), {}
        for sender in senders:
            await sender.close()

    async def __aenter__(self) -> Bitswap:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- fetching
    def session(self, root: CID | str) -> Session:
        """The bitswap session of the DAG under ``root``: pass it to :meth:`get_block` for
        every block of that DAG, so they are asked of the peers that had its other blocks."""
        return self.client.session(parse_cid(root))

    async def get_block(
        self,
        cid: CID | str,
        timeout: float | None = None,  # noqa: ASYNC109
        session: Session | None = None,
    ) -> bytes:
        """A verified block: from our store, else from the network (then cached, unpinned).

        Without ``session`` the block joins the session of the block that linked to it (when
        that one came from the network), else starts its own."""
        cid = parse_cid(cid)
        try:
            return await asyncio.to_thread(self._local.blocks.get, cid)
        except BlockNotFoundError:
            pass
        if session is None:
            session = self.client.session_of(cid)
        data = await self.client.get(cid, timeout, session)
        await asyncio.to_thread(self._local.blocks.put, cid, data, verify=False)
        self.server.block_added(cid)
        if cid.codec == DAG_PB:
            with contextlib.suppress(StorageError):  # not UnixFS: nothing to link
                self.client.link(unixfs.links_of(cid, data), session)
        return data

    async def fetch(
        self,
        root: CID | str,
        *,
        pin: bool = True,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> FetchResult:
        """Fetch the whole DAG under ``root`` into the store (many wants in flight), then pin.

        Raises :class:`ContentUnavailableError` if any block cannot be had; blocks already
        fetched stay in the store unpinned (GC collects them), nothing is pinned.
        """
        root = parse_cid(root)
        session = self.client.session(root)
        held: list[bytes] = []
        window = max(1, self.options.fetch_window)
        queue: deque[CID] = deque([root])
        seen = {root.multihash}
        tasks: set[asyncio.Task[tuple[CID, bytes | None, bool]]] = set()
        blocks = fetched = fetched_bytes = 0
        loop = asyncio.get_running_loop()
        with self._local.session() as store:
            try:
                while queue or tasks:
                    while queue and len(tasks) < window:
                        cid = queue.popleft()
                        self._local._hold(cid.multihash)  # GC guard, see _local_read
                        held.append(cid.multihash)
                        task = loop.create_task(self._fetch_one(cid, store, session, timeout))
                        tasks.add(task)
                    done, tasks = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                    failed = [t.exception() for t in done if t.exception() is not None]
                    if failed and failed[0] is not None:
                        raise failed[0]
                    for task in done:
                        cid, data, was_fetched = task.result()
                        blocks += 1
                        if was_fetched and data is not None:
                            fetched += 1
                            fetched_bytes += len(data)
                            if progress is not None:
                                progress(fetched_bytes, None)
                        if data is not None and cid.codec == DAG_PB:
                            for link in unixfs.links_of(cid, data):
                                if link.multihash not in seen:
                                    seen.add(link.multihash)
                                    queue.append(link)
                if pin:
                    await asyncio.to_thread(store.pin, root)
                    await self.provide(root)
            finally:
                for task in tasks:
                    task.cancel()
                if tasks:
                    await asyncio.wait(tasks)
                self._local._release(held)
        return FetchResult(root, blocks, fetched, fetched_bytes)

    async def _fetch_one(
        self,
        cid: CID,
        store: ImportSession,
        session: Session,
        timeout: float | None,  # noqa: ASYNC109
    ) -> tuple[CID, bytes | None, bool]:
        local = await asyncio.to_thread(self._local_read, cid)
        if local is not None:
            return cid, (local or None), False
        data = await self.client.get(cid, timeout, session)
        await asyncio.to_thread(store.put, cid, data, verify=False)
        self.server.block_added(cid)
        return cid, data, True

    def _local_read(self, cid: CID) -> bytes | None:
        """Block bytes if present (b"" for a present raw block we need not read), else None.

        The caller holds the block (``LocalStore._hold``) so a concurrent GC keeps it until
        the root is pinned."""
        if not self._local.blocks.has(cid):
            return None
        if cid.codec != DAG_PB:
            return b""
        try:
            return self._local.blocks.get(cid)
        except BlockNotFoundError:
            return None

    # -- content routing
    async def provide(self, cid: CID | str) -> bool:
        """Announce ``cid`` through content routing; False (logged) if there is none or it
        failed: providing is best effort and never fails an add or a fetch."""
        if self._routing is None:
            return False
        try:
            await self._routing.provide(parse_cid(cid))
        except Exception as exc:
            logger.info("bitswap: could not provide %s: %s", cid, exc)
            return False
        return True

    def _find_providers(self, cid: CID) -> None:
        if not self._started:
            return
        loop = asyncio.get_running_loop()
        if self._routing is None:
            loop.call_soon(self.client.no_providers, cid)  # nobody else to ask
            return
        last = self._lookups.get(cid.multihash)
        if last is not None and loop.time() - last < self.options.lookup_interval:
            if cid.multihash in self._found_none:
                loop.call_soon(self.client.no_providers, cid)
            return
        self._lookups[cid.multihash] = loop.time()
        self._found_none.discard(cid.multihash)
        task = loop.create_task(self._dial_providers(self._routing, cid))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dial_providers(self, routing: ContentRouting, cid: CID) -> None:
        try:
            found = await routing.find_providers(cid, self.options.providers_per_lookup)
        except Exception as exc:
            logger.info("bitswap: provider lookup for %s failed: %s", cid, exc)
            found = []
        connected = set(self._connected())
        reached = 0
        for addr in found:
            if addr.rpartition("/p2p/")[2] in connected:
                reached += 1
                continue
            try:
                await self._network.connect(addr)  # the connection event re-assigns wants
                reached += 1
            except Exception as exc:
                logger.info("bitswap: could not dial provider %s: %s", addr, exc)
        if not reached:
            if len(self._found_none) > 4096:
                self._found_none.clear()
            self._found_none.add(cid.multihash)
            self.client.no_providers(cid)

    # -- stats
    def stats(self) -> BitswapStats:
        """Counters for ``toktok storage stats``."""
        return BitswapStats(
            len(self._connected()),
            self.client.wanted,
            self.client.stats,
            self.server.stats,
            len(self.client.bad_peers),
        )

    # -- relay limits
    @contextlib.contextmanager
    def noting_relay_cuts(self, root: CID) -> Iterator[None]:
        """Remember ``root`` as a file whose read failed with ``RelayLimitedError`` (see
        :meth:`relay_limited`; the error goes on to the caller), and forget it once a read
        succeeds."""
        try:
            yield
        except RelayLimitedError:
            self._relay_cut_files[root.multihash] = None
            if len(self._relay_cut_files) > 1024:
                self._relay_cut_files.popitem(last=False)
            raise
        self._relay_cut_files.pop(root.multihash, None)

    def relay_limited(self, cid: CID) -> bool:
        """Whether the last read of the file ``cid`` failed because the only peers that had
        it are reached through a relay that cut the transfer (or, for a block, whether a relay
        cut it and it is still not stored here)."""
        if cid.multihash in self._relay_cut_files:
            return True
        return self.client.relay_cut(cid) and not self._local.blocks.has(cid)

    # -- plumbing
    def _connected(self) -> list[str]:
        return [info.peer_id for info in self._network.peers()]

    def _sender_for(self, peer: str) -> PeerSender:
        sender = self._senders.get(peer)
        if sender is None or sender.closed:
            sender = PeerSender(self._network, peer)
            self._senders[peer] = sender
        return sender

    async def _on_stream(self, stream: BitswapStream) -> None:
        peer = stream.peer
        reader = FrameReader()
        relayed = self._relayed is not None and self._relayed(peer)
        try:
            await self._read_stream(stream, reader)
        finally:
            if relayed and reader.buffered:
                # the stream ended inside a message from a peer behind a relay: the relay cut
                # the circuit at its limit while a block was on its way
                logger.info(
                    "bitswap: the relayed connection to %s ended %d B into a message", peer,
                    reader.buffered,
                )  # fmt: skip
                self.client.cut_by_relay(peer)

    async def _read_stream(self, stream: BitswapStream, reader: FrameReader) -> None:
        peer = stream.peer
        while True:
            try:
                data = await stream.read(self.options.read_size)
            except Exception as exc:  # reset by the peer, or our host is stopping
                logger.debug("bitswap stream from %s ended: %s", peer, exc)
                return
            if not data:
                return
            for payload in reader.feed(data):
                msg = decode_message(payload)
                if msg.has_wantlist:
                    self.server.on_wantlist(peer, msg)
                for cid, block in msg.blocks:
                    self.client.on_block(peer, cid, block)
                if msg.presences:
                    self.client.on_presences(peer, msg.presences)

    async def _watch(self, events: ConnectionEvents) -> None:
        async for event in events:
            if event.kind == "connected":
                self.client.peer_connected(event.peer)
            elif event.kind == "disconnected":
                self.client.peer_gone(event.peer)
                self.server.peer_gone(event.peer)
                sender = self._senders.pop(event.peer, None)
                if sender is not None:
                    await sender.close()
