"""The fetching half of bitswap: wants, providers, timeouts, retries, verification.

A *want* is one block we are waiting for, shared by every caller asking for it. Each want is
asked of ONE provider at a time (want-block with send-DONT_HAVE), chosen among connected peers
that have not failed it yet: peers that already delivered blocks come first, then the least
busy. The want moves on to the next provider when the current one

* answers DONT_HAVE,
* does not deliver within ``block_timeout`` (we send it a cancel),
* disconnects, or its stream cannot be written,
* sends a block whose hash matches nothing we asked for (a corrupt or forged block: the
  peer is marked bad for the life of this client and all its wants move elsewhere).

A want with no provider left is parked; it is retried on every new connection and every
``retry_interval``, and reported as *starved* (the service then looks for providers through
content routing, when it has one, and dials them). A caller waits at most ``fetch_timeout``
and then gets :class:`~storage.errors.ContentUnavailableError`, never empty bytes; when no
peer was ever asked and routing knows no provider (``no_providers``), it gets it at once.

**Relayed providers.** A peer we reach only through a relay (``relayed(peer)``) is asked like
any other, but relays limit the bytes and the time of each relayed connection. When the
service sees such a peer's stream end in the middle of a message (:meth:`cut_by_relay`: the
relay reset the circuit at its limit while a block was on its way), every block still wanted
that was asked of that peer is remembered as *cut by a relay*: it is no longer asked of
relayed peers, and once no direct peer is left to ask, the caller gets
:class:`~storage.errors.RelayLimitedError` at once (instead of waiting ``fetch_timeout``, or
re-fetching the same bytes over a new relayed connection that the relay would cut again). A
relayed provider that merely disconnects or times out is treated like any other (a circuit
also ends for reasons that have nothing to do with the block).

Blocks are verified by construction: the received block's CID is computed from OUR hash of
its bytes (``wire.block_cid``) and matched against the want by multihash.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from storage.bitswap.sender import PeerSender
from storage.bitswap.wire import Presence, PresenceType, WantEntry
from storage.cid import CID
from storage.errors import ContentUnavailableError, RelayLimitedError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Timeouts of the fetching side (seconds)."""

    # How long one provider may take to deliver one block before we ask another.
    block_timeout: float = 10.0
    # How long a caller waits for a block in total before ContentUnavailableError.
    fetch_timeout: float = 60.0
    # How often a want nobody could serve is asked again of every connected peer.
    retry_interval: float = 5.0


@dataclass
class ClientStats:
    """Counters for ``toktok storage stats``."""

    blocks_received: int = 0
    bytes_received: int = 0
    duplicate_blocks: int = 0
    rejected_blocks: int = 0
    timeouts: int = 0


@dataclass(eq=False)
class _Want:
    cid: CID
    future: asyncio.Future[bytes]
    waiters: int = 0
    current: str | None = None
    tried: set[str] = field(default_factory=set)
    asked: set[str] = field(default_factory=set)
    timer: asyncio.TimerHandle | None = None


class BitswapClient:
    """Tracks wants and providers; see the module docstring."""

    def __init__(
        self,
        connected: Callable[[], list[str]],
        sender_for: Callable[[str], PeerSender],
        options: ClientOptions | None = None,
        starved: Callable[[CID], None] | None = None,
        relayed: Callable[[str], bool] | None = None,
    ) -> None:
        self._connected = connected
        self._relayed = relayed or _never
        self._relay_cut: OrderedDict[bytes, None] = OrderedDict()
        self._starved = starved
        self._sender_for = sender_for
        self.options = options or ClientOptions()
        self._wants: dict[bytes, _Want] = {}
        self._recent: OrderedDict[bytes, None] = OrderedDict()
        self._inflight: Counter[str] = Counter()
        self._delivered: Counter[str] = Counter()
        self.bad_peers: set[str] = set()
        self.stats = ClientStats()

    # -- public
    async def get(self, cid: CID, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        """The verified bytes of ``cid`` from the network."""
        key = cid.multihash
        want = self._wants.get(key)
        if want is None:
            want = _Want(cid, asyncio.get_running_loop().create_future())
            self._wants[key] = want
            self._remember(key)
            self._assign(want)
        want.waiters += 1
        limit = self.options.fetch_timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(want.future), limit)
        except TimeoutError:
            raise ContentUnavailableError(
                f"no connected peer delivered block {cid} within {limit:g} s "
                f"({len(want.asked)} peers asked); connect to a peer that has it",
                str(cid),
                asked=len(want.asked),
            ) from None
        finally:
            want.waiters -= 1
            if want.waiters == 0 and self._wants.get(key) is want:
                self._drop(want, cancel=True)

    def relay_cut(self, cid: CID) -> bool:
        """Whether a relay cut the transfer of ``cid`` (see the module docstring)."""
        return cid.multihash in self._relay_cut

    @property
    def wanted(self) -> int:
        """Blocks currently wanted."""
        return len(self._wants)

    def on_block(self, peer: str, cid: CID, data: bytes) -> bool:
        """A block arrived from ``peer``; True if it answered a want."""
        want = self._wants.get(cid.multihash)
        if want is None:
            if cid.multihash in self._recent:
                self.stats.duplicate_blocks += 1
            else:
                self._reject_peer(peer, f"sent block {cid}, which we never asked for")
            return False
        self.stats.blocks_received += 1
        self.stats.bytes_received += len(data)
        self._delivered[peer] += 1
        previous = want.current
        self._drop(want, cancel=previous is not None and previous != peer)
        if not want.future.done():
            want.future.set_result(data)
        return True

    def on_presences(self, peer: str, presences: tuple[Presence, ...]) -> None:
        """HAVE / DONT_HAVE answers from ``peer``."""
        for presence in presences:
            want = self._wants.get(presence.cid.multihash)
            if want is None or presence.type is not PresenceType.DONT_HAVE:
                continue
            if want.current == peer:
                self._unassign(want)
                want.tried.add(peer)
                self._assign(want)

    def no_providers(self, cid: CID) -> None:
        """Content routing found no provider of ``cid`` (or there is none to ask). A want that
        has not been asked of any peer and has nobody to ask fails now (the caller gets
        ``ContentUnavailableError`` at once instead of after ``fetch_timeout``); a want some
        peer already has (or had) keeps waiting, since that peer may still get the block."""
        want = self._wants.get(cid.multihash)
        if want is None or want.current is not None or want.asked or want.future.done():
            return
        if any(p not in want.tried and p not in self.bad_peers for p in self._connected()):
            return
        self._drop(want, cancel=False)
        want.future.set_exception(
            ContentUnavailableError(
                f"no provider known for block {cid}: no connected peer to ask and content "
                "routing found none; connect to a peer that has it",
                str(cid),
                asked=0,
            )
        )

    def peer_connected(self, peer: str) -> None:
        """Give parked wants a chance with the new peer."""
        for want in list(self._wants.values()):
            if want.current is None:
                self._assign(want)

    def peer_gone(self, peer: str) -> None:
        """Move the peer's wants elsewhere."""
        self._move_wants_from(peer)
        self._inflight.pop(peer, None)

    def close(self) -> None:
        """Fail every outstanding want (the service is stopping)."""
        for want in list(self._wants.values()):
            self._drop(want, cancel=False)
            if not want.future.done():
                want.future.set_exception(
                    ContentUnavailableError(f"bitswap stopped while fetching {want.cid}")
                )

    # -- internals
    def _remember(self, key: bytes) -> None:
        self._recent[key] = None
        if len(self._recent) > 65536:
            self._recent.popitem(last=False)

    def cut_by_relay(self, peer: str) -> None:
        """A relay cut the circuit to ``peer`` while a message was on its way: every want
        asked of it is cut by a relay (see the module docstring), and is moved on now."""
        for want in list(self._wants.values()):
            if peer not in want.asked or want.current not in (peer, None):
                continue  # never asked of it, or another provider is on it
            self._relay_cut[want.cid.multihash] = None
            if len(self._relay_cut) > 4096:
                self._relay_cut.popitem(last=False)
            if want.current == peer:
                self._unassign(want)
                want.tried.add(peer)
            if want.current is None:
                self._assign(want)

    def _reject_peer(self, peer: str, why: str) -> None:
        self.stats.rejected_blocks += 1
        if peer not in self.bad_peers:
            logger.warning("bitswap: ignoring peer %s from now on: it %s", peer, why)
            self.bad_peers.add(peer)
        self._move_wants_from(peer)

    def _move_wants_from(self, peer: str) -> None:
        for want in list(self._wants.values()):
            if want.current == peer:
                self._unassign(want)
                want.tried.add(peer)
                self._assign(want)

    def _assign(self, want: _Want) -> None:
        if want.timer is not None:
            want.timer.cancel()
            want.timer = None
        cut = want.cid.multihash in self._relay_cut
        candidates = [
            p
            for p in self._connected()
            if p not in want.tried and p not in self.bad_peers and not (cut and self._relayed(p))
        ]
        loop = asyncio.get_running_loop()
        if not candidates and cut:
            self._fail_relay_limited(want)
            return
        if not candidates:
            want.current = None
            want.timer = loop.call_later(self.options.retry_interval, self._retry, want)
            if self._starved is not None:
                self._starved(want.cid)  # e.g. look for providers on the DHT
            return
        peer = min(candidates, key=lambda p: (self._delivered[p] == 0, self._inflight[p]))
        want.current = peer
        want.asked.add(peer)
        self._inflight[peer] += 1
        want.timer = loop.call_later(self.options.block_timeout, self._timed_out, want, peer)
        entry = WantEntry(want.cid, priority=1, send_dont_have=True)
        self._sender_for(peer).queue_wants([entry], self._send_failed)

    def _fail_relay_limited(self, want: _Want) -> None:
        self._drop(want, cancel=False)
        if not want.future.done():
            want.future.set_exception(
                RelayLimitedError(
                    f"block {want.cid}: the only peers that had it are reached through a relay, "
                    "and the relay cut the transfer (relays limit the bytes and the time of "
                    "each relayed connection); no directly connected peer has it",
                    str(want.cid),
                    asked=len(want.asked),
                )
            )

    def _unassign(self, want: _Want) -> None:
        if want.timer is not None:
            want.timer.cancel()
            want.timer = None
        if want.current is not None:
            self._inflight[want.current] -= 1
            want.current = None

    def _drop(self, want: _Want, *, cancel: bool) -> None:
        peer = want.current
        self._unassign(want)
        self._wants.pop(want.cid.multihash, None)
        if cancel and peer is not None:
            entry = WantEntry(want.cid, cancel=True)
            self._sender_for(peer).queue_wants([entry], self._send_failed)

    def _timed_out(self, want: _Want, peer: str) -> None:
        if want.current != peer or self._wants.get(want.cid.multihash) is not want:
            return
        self.stats.timeouts += 1
        logger.debug("bitswap: %s did not deliver %s in time", peer, want.cid)
        self._drop_assignment_with_cancel(want, peer)
        want.tried.add(peer)
        self._assign(want)

    def _drop_assignment_with_cancel(self, want: _Want, peer: str) -> None:
        self._unassign(want)
        self._sender_for(peer).queue_wants([WantEntry(want.cid, cancel=True)], self._send_failed)

    def _retry(self, want: _Want) -> None:
        if self._wants.get(want.cid.multihash) is not want or want.current is not None:
            return
        want.timer = None
        want.tried.clear()
        self._assign(want)

    def _send_failed(self, peer: str, entries: list[WantEntry]) -> None:
        keys = {e.cid.multihash for e in entries}
        for want in list(self._wants.values()):
            if want.current == peer and want.cid.multihash in keys:
                self._unassign(want)
                want.tried.add(peer)
                self._assign(want)


def _never(_peer: str) -> bool:
    return False
