"""The fetching half of bitswap: sessions, wants, timeouts, verification.

A *want* is one block we are waiting for, shared by every caller asking for it. Wants belong
to *sessions*: one per DAG (a fetch, a read of a file, or the blocks linked from a dag-pb block
fetched earlier in the session), with the peers known to hold blocks of that DAG. The
behaviour follows bitswap sessions as go-bitswap/boxo and Helia describe them:

* a want whose session knows no connected peer yet (the root of a DAG) is **broadcast** as
  want-have, with send-DONT_HAVE, to every connected peer at once; the first peer answering
  HAVE gets the want-block, and every peer that answers HAVE (or delivers) joins the session;
* a want whose session has peers goes as want-block to ONE of them (the least busy, among
  equals one that delivered before: later blocks of a DAG spread over the session's peers)
  and as want-have to the others, so a fallback is known if the chosen one lacks it;
* DONT_HAVE moves the want-block to the next peer that said HAVE at once; when every peer
  asked said DONT_HAVE, the want is broadcast to the connected peers not asked yet;
* a peer holding the want-block that neither delivers nor answers within ``block_timeout``
  gets a cancel and the want moves on. A peer that never answers a want-have costs nothing
  while another peer answers, since want-haves go to all at once;
* every ``retry_interval`` a want nobody said HAVE to is broadcast again to every connected
  peer (one that said DONT_HAVE may have fetched the block since) and reported as *starved*
  (the service then looks for providers through content routing, when it has one, and dials
  them; a new connection is asked for every live want with no HAVE yet);
* when the block arrives, every peer still holding the want (want-have unanswered, or the
  want-block) gets a cancel;
* a block whose hash matches nothing we asked for (a corrupt or forged block) marks its peer
  bad for the life of this client, and its wants move elsewhere.

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

A caller waits at most ``fetch_timeout`` and then gets
:class:`~storage.errors.ContentUnavailableError`, never empty bytes; when no peer was ever
asked and routing knows no provider (``no_providers``), it gets it at once.

Blocks are verified by construction: the received block's CID is computed from OUR hash of
its bytes (``wire.block_cid``) and matched against the want by multihash.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from storage.bitswap.sender import PeerSender
from storage.bitswap.wire import Presence, PresenceType, WantEntry, WantType
from storage.cid import CID
from storage.errors import ContentUnavailableError, RelayLimitedError

logger = logging.getLogger(__name__)

_MAX_SESSIONS = 1024
_MAX_LINKS = 65536
_MAX_RECENT = 65536


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Timeouts of the fetching side (seconds)."""

    # How long the peer asked for a block may take to deliver it before we ask another.
    block_timeout: float = 10.0
    # How long a caller waits for a block in total before ContentUnavailableError.
    fetch_timeout: float = 60.0
    # How often a want no peer said HAVE to is broadcast again (and routing asked).
    retry_interval: float = 2.0


@dataclass
class ClientStats:
    """Counters for ``toktok storage stats``."""

    blocks_received: int = 0
    bytes_received: int = 0
    duplicate_blocks: int = 0
    rejected_blocks: int = 0
    timeouts: int = 0
    want_haves_sent: int = 0
    want_blocks_sent: int = 0
    cancels_sent: int = 0
    broadcasts: int = 0


class Session:
    """The peers known to hold blocks of one DAG (those that said HAVE or delivered)."""

    __slots__ = ("peers",)

    def __init__(self) -> None:
        self.peers: dict[str, None] = {}  # insertion-ordered set

    def add(self, peer: str) -> None:
        self.peers.setdefault(peer, None)


@dataclass(eq=False)
class _Want:
    cid: CID
    future: asyncio.Future[bytes]
    sessions: list[Session]
    waiters: int = 0
    block_peer: str | None = None  # the peer asked for the block
    timer: asyncio.TimerHandle | None = None  # its block_timeout
    pending: set[str] = field(default_factory=set)  # asked want-have, no answer yet
    haves: list[str] = field(default_factory=list)  # said HAVE, not asked for the block
    refused: set[str] = field(default_factory=set)  # DONT_HAVE / timed out since a broadcast
    asked: set[str] = field(default_factory=set)  # every peer ever asked
    ticker: asyncio.TimerHandle | None = None  # the next re-broadcast


class BitswapClient:
    """Tracks sessions, wants and providers; see the module docstring."""

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
        # blocks we had recently, with the sessions that wanted them (a late HAVE joins them)
        self._recent: OrderedDict[bytes, tuple[Session, ...]] = OrderedDict()
        self._sessions: OrderedDict[bytes, Session] = OrderedDict()
        self._links: OrderedDict[bytes, Session] = OrderedDict()
        self._inflight: Counter[str] = Counter()
        self._delivered: Counter[str] = Counter()
        self.bad_peers: set[str] = set()
        self.stats = ClientStats()

    # -- sessions
    def session(self, root: CID) -> Session:
        """The session of the DAG under ``root`` (kept for the most recent roots)."""
        key = root.multihash
        found = self._sessions.get(key)
        if found is None:
            found = self._sessions[key] = Session()
            if len(self._sessions) > _MAX_SESSIONS:
                self._sessions.popitem(last=False)
        else:
            self._sessions.move_to_end(key)
        return found

    def link(self, children: Iterable[CID], session: Session) -> None:
        """Blocks linked from a block of ``session``: their wants join it when asked for
        without a session of their own."""
        for child in children:
            self._links[child.multihash] = session
            self._links.move_to_end(child.multihash)
        while len(self._links) > _MAX_LINKS:
            self._links.popitem(last=False)

    def session_of(self, cid: CID) -> Session:
        """The session a want for ``cid`` joins: its parent's, else its own as a root."""
        return self._links.get(cid.multihash) or self.session(cid)

    # -- public
    async def get(
        self,
        cid: CID,
        timeout: float | None = None,  # noqa: ASYNC109
        session: Session | None = None,
    ) -> bytes:
        """The verified bytes of ``cid`` from the network."""
        key = cid.multihash
        if session is None:
            session = self.session_of(cid)
        want = self._wants.get(key)
        if want is None:
            want = _Want(cid, asyncio.get_running_loop().create_future(), [session])
            self._wants[key] = want
            self._start(want)
        elif not any(s is session for s in want.sessions):
            want.sessions.append(session)
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
                self._finish(want, cancel=True)

    def relay_cut(self, cid: CID) -> bool:
        """Whether a relay cut the transfer of ``cid`` (see the module docstring)."""
        return cid.multihash in self._relay_cut

    def cut_by_relay(self, peer: str) -> None:
        """A relay cut the circuit to ``peer`` while a message was on its way: every want
        asked of it is cut by a relay (see the module docstring); its relayed peers are
        dropped and the want moves on now."""
        for want in list(self._wants.values()):
            if peer not in want.asked or want.block_peer not in (peer, None):
                continue  # never asked of it, or another provider is on it
            self._relay_cut[want.cid.multihash] = None
            if len(self._relay_cut) > 4096:
                self._relay_cut.popitem(last=False)
            for other in [*want.pending, *want.haves]:
                if self._relayed(other):
                    self._drop(want, other)
            if want.block_peer == peer:
                self._drop(want, peer)
            self._advance(want)

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
        for session in want.sessions:
            session.add(peer)
        want.pending.discard(peer)
        if want.block_peer == peer:
            self._release(want)
        self._finish(want, cancel=True)
        if not want.future.done():
            want.future.set_result(data)
        return True

    def on_presences(self, peer: str, presences: tuple[Presence, ...]) -> None:
        """HAVE / DONT_HAVE answers from ``peer``."""
        if peer in self.bad_peers:
            return
        for presence in presences:
            key = presence.cid.multihash
            want = self._wants.get(key)
            if want is None:
                if presence.type is PresenceType.HAVE:  # late: it still holds the DAG
                    for session in self._recent.get(key, ()):
                        session.add(peer)
                continue
            if presence.type is PresenceType.HAVE:
                self._on_have(want, peer)
            else:
                self._on_refusal(want, peer)

    def no_providers(self, cid: CID) -> None:
        """Content routing found no provider of ``cid`` (or there is none to ask). A want that
        has not been asked of any peer and has nobody to ask fails now (the caller gets
        ``ContentUnavailableError`` at once instead of after ``fetch_timeout``); a want some
        peer already has (or had) keeps waiting, since that peer may still get the block."""
        want = self._wants.get(cid.multihash)
        if want is None or want.asked or want.future.done():
            return
        if any(p not in want.refused and p not in self.bad_peers for p in self._connected()):
            return
        self._finish(want, cancel=False)
        want.future.set_exception(
            ContentUnavailableError(
                f"no provider known for block {cid}: no connected peer to ask and content "
                "routing found none; connect to a peer that has it",
                str(cid),
                asked=0,
            )
        )

    def peer_connected(self, peer: str) -> None:
        """Ask the new peer for every want nobody said HAVE to yet."""
        for want in list(self._wants.values()):
            want.refused.discard(peer)
            idle = want.block_peer is None and not want.haves and peer not in want.pending
            if idle and self._usable(want, peer):
                self._ask_haves(want, [peer])

    def peer_gone(self, peer: str) -> None:
        """Move the peer's wants elsewhere."""
        for want in list(self._wants.values()):
            self._forget_peer(want, peer)
        self._inflight.pop(peer, None)

    def close(self) -> None:
        """Fail every outstanding want (the service is stopping)."""
        for want in list(self._wants.values()):
            self._finish(want, cancel=False)
            if not want.future.done():
                want.future.set_exception(
                    ContentUnavailableError(f"bitswap stopped while fetching {want.cid}")
                )

    # -- asking
    def _start(self, want: _Want) -> None:
        members = self._members(want)
        if members:
            best = min(members, key=lambda p: (self._inflight[p], self._delivered[p] == 0))
            self._ask_block(want, best)
            self._ask_haves(want, [p for p in members if p != best])
        else:
            self._broadcast(want)
        self._arm_ticker(want)

    def _usable(self, want: _Want, peer: str) -> bool:
        """Neither bad, nor refused since the last broadcast, nor relayed for a want a
        relay cut."""
        if peer in self.bad_peers or peer in want.refused:
            return False
        return not (want.cid.multihash in self._relay_cut and self._relayed(peer))

    def _members(self, want: _Want) -> list[str]:
        """Connected, usable peers of the want's sessions, in the order they joined."""
        connected = set(self._connected())
        out: dict[str, None] = {}
        for session in want.sessions:
            for peer in session.peers:
                if peer in connected and self._usable(want, peer):
                    out[peer] = None
        return list(out)

    def _broadcast(self, want: _Want) -> bool:
        """Want-have to every connected peer not asked (or refused) yet; starved if the want
        has nobody left to wait for. True if someone was asked."""
        targets = [
            p
            for p in self._connected()
            if self._usable(want, p)
            and p not in want.pending
            and p != want.block_peer
            and p not in want.haves
        ]
        if targets:
            self.stats.broadcasts += 1
            self._ask_haves(want, targets)
            return True
        idle = want.block_peer is None and not want.haves and not want.pending
        if idle and want.cid.multihash in self._relay_cut:
            self._fail_relay_limited(want)
        elif idle and self._starved is not None:
            self._starved(want.cid)  # e.g. look for providers on the DHT
        return False

    def _ask_haves(self, want: _Want, peers: list[str]) -> None:
        entry = WantEntry(want.cid, want_type=WantType.HAVE, send_dont_have=True)
        for peer in peers:
            want.pending.add(peer)
            want.asked.add(peer)
            self.stats.want_haves_sent += 1
            self._sender_for(peer).queue_wants([entry], self._send_failed)

    def _ask_block(self, want: _Want, peer: str) -> None:
        if peer in want.haves:
            want.haves.remove(peer)
        want.pending.discard(peer)
        want.block_peer = peer
        want.asked.add(peer)
        self._inflight[peer] += 1
        loop = asyncio.get_running_loop()
        want.timer = loop.call_later(self.options.block_timeout, self._timed_out, want, peer)
        self.stats.want_blocks_sent += 1
        entry = WantEntry(want.cid, priority=1, send_dont_have=True)
        self._sender_for(peer).queue_wants([entry], self._send_failed)

    def _cancel(self, want: _Want, peer: str) -> None:
        self.stats.cancels_sent += 1
        self._sender_for(peer).queue_wants([WantEntry(want.cid, cancel=True)], self._send_failed)

    # -- answers
    def _on_have(self, want: _Want, peer: str) -> None:
        if want.cid.multihash in self._relay_cut and self._relayed(peer):
            return
        for session in want.sessions:
            session.add(peer)
        want.pending.discard(peer)
        want.refused.discard(peer)
        if want.block_peer is None:
            self._ask_block(want, peer)
        elif want.block_peer != peer and peer not in want.haves:
            want.haves.append(peer)

    def _on_refusal(self, want: _Want, peer: str) -> None:
        """DONT_HAVE, a timeout or an unwritable stream: the want moves on from ``peer``."""
        self._drop(want, peer)
        self._advance(want)

    def _drop(self, want: _Want, peer: str) -> None:
        """``want`` is no longer asked of ``peer`` (refused, or cut by a relay)."""
        want.pending.discard(peer)
        if peer in want.haves:
            want.haves.remove(peer)
        want.refused.add(peer)
        if want.block_peer == peer:
            self._release(want)

    def _advance(self, want: _Want) -> None:
        if want.block_peer is not None or self._wants.get(want.cid.multihash) is not want:
            return
        if want.haves:
            self._ask_block(want, want.haves[0])
        elif not want.pending:
            self._broadcast(want)

    def _forget_peer(self, want: _Want, peer: str) -> None:
        want.pending.discard(peer)
        want.refused.discard(peer)
        if peer in want.haves:
            want.haves.remove(peer)
        if want.block_peer == peer:
            self._release(want)
            self._advance(want)

    def _timed_out(self, want: _Want, peer: str) -> None:
        if want.block_peer != peer or self._wants.get(want.cid.multihash) is not want:
            return
        self.stats.timeouts += 1
        logger.debug("bitswap: %s did not deliver %s in time", peer, want.cid)
        want.timer = None
        self._cancel(want, peer)
        self._on_refusal(want, peer)

    def _arm_ticker(self, want: _Want) -> None:
        loop = asyncio.get_running_loop()
        want.ticker = loop.call_later(self.options.retry_interval, self._tick, want)

    def _tick(self, want: _Want) -> None:
        if self._wants.get(want.cid.multihash) is not want:
            return
        self._arm_ticker(want)
        if want.block_peer is not None or want.haves:
            return  # someone has it; block_timeout watches the peer asked
        want.refused.clear()
        want.pending.clear()
        if self._broadcast(want) and self._starved is not None:
            self._starved(want.cid)  # nobody said HAVE so far: look further too

    # -- failures
    def _fail_relay_limited(self, want: _Want) -> None:
        self._finish(want, cancel=False)
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

    def _reject_peer(self, peer: str, why: str) -> None:
        self.stats.rejected_blocks += 1
        if peer not in self.bad_peers:
            logger.warning("bitswap: ignoring peer %s from now on: it %s", peer, why)
            self.bad_peers.add(peer)
        for want in list(self._wants.values()):
            self._forget_peer(want, peer)

    def _send_failed(self, peer: str, entries: list[WantEntry]) -> None:
        for entry in entries:
            want = self._wants.get(entry.cid.multihash)
            if want is not None and not entry.cancel:
                self._on_refusal(want, peer)

    # -- bookkeeping
    def _release(self, want: _Want) -> None:
        """The want-block's peer no longer holds it."""
        if want.timer is not None:
            want.timer.cancel()
            want.timer = None
        if want.block_peer is not None:
            self._inflight[want.block_peer] -= 1
            want.block_peer = None

    def _finish(self, want: _Want, *, cancel: bool) -> None:
        """The want is over (delivered, abandoned or failed): stop its timers, forget it and
        cancel it where it is still held."""
        holder = want.block_peer
        self._release(want)
        if want.ticker is not None:
            want.ticker.cancel()
            want.ticker = None
        key = want.cid.multihash
        if self._wants.get(key) is want:
            del self._wants[key]
        self._recent[key] = tuple(want.sessions)
        self._recent.move_to_end(key)
        if len(self._recent) > _MAX_RECENT:
            self._recent.popitem(last=False)
        if cancel:
            for peer in sorted(want.pending | ({holder} if holder else set())):
                self._cancel(want, peer)
        want.pending.clear()
        want.haves.clear()


def _never(_peer: str) -> bool:
    return False
