"""AutoNAT v1 (``/libp2p/autonat/1.0.0``), client and service, on the libp2p host's trio thread.

Our own adapter on py-libp2p's protobuf messages, because py-libp2p 0.8.1's ``AutoNATService``
dials back with ``host.connect()``, which returns at once when a connection to the peer exists:
and one always does (the request came over it). Every request whose address carries the
observed IP was answered OK, so a peer behind a router that announced its router's address was
told it is public. Here the dial-back is a NEW connection (``Swarm.dial_addr``, which
authenticates the peer id), closed again after the verdict.

Service: answers only over direct connections; dials only addresses whose IP is the one the
request came from and that :class:`~peer.p2p.reachability.AddressPolicy` calls public (no
scanning of private networks through us), at most ``MAX_DIALS`` of them, within a
:class:`~peer.p2p.reachability.DialBackBudget` (3 requests per peer, 30 in all, a minute).
Client: asks connected peers (at most ``SERVERS_PER_ROUND`` per round) to dial us back, until
:class:`~peer.p2p.reachability.Verdicts` settles, then again every ``recheck_s``.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import trio
from libp2p.host.autonat.pb.autonat_pb2 import Message
from libp2p.peer.id import ID
from libp2p.utils.varint import encode_varint_prefixed, read_varint_prefixed_bytes_limited
from multiaddr import Multiaddr

from peer.p2p.reachability import AddressPolicy, DialBackBudget, Reachability, Verdicts, ip_of

logger = logging.getLogger(__name__)

PROTOCOL = "/libp2p/autonat/1.0.0"
MAX_MESSAGE = 8 * 1024
MAX_DIALS = 4
SERVERS_PER_ROUND = 3


def _response(status: Any, text: str = "", addr: bytes | None = None) -> Message:
    msg = Message()
    msg.type = Message.DIAL_RESPONSE
    msg.dialResponse.status = status
    if text:
        msg.dialResponse.statusText = text
    if addr is not None:
        msg.dialResponse.addr = addr
    return msg


class AutoNat:
    """Both roles on one host (``host`` is py-libp2p's BasicHost; trio thread only)."""

    def __init__(
        self,
        host: Any,
        policy: AddressPolicy,
        *,
        dial_timeout: float,
        recheck_s: float,
        announced: Any,
        on_confirmed: Any = None,
    ) -> None:
        self.host = host
        self.policy = policy
        self.dial_timeout = dial_timeout
        self.recheck_s = recheck_s
        self.announced = announced  # () -> list[str]: the addresses we ask servers to try
        self.on_confirmed = on_confirmed  # () -> None: `confirmed` changed
        self.confirmed: list[str] = []  # addresses a dial-back reached (without /p2p)
        self.verdicts = Verdicts()
        self.dialbacks_served = 0
        self.budget = DialBackBudget()

    # --- service ------------------------------------------------------------------------------
    async def handle(self, stream: Any) -> None:
        try:
            request = Message()
            request.ParseFromString(await read_varint_prefixed_bytes_limited(stream, MAX_MESSAGE))
            answer = await self._answer(request, stream)
            await stream.write(encode_varint_prefixed(answer.SerializeToString()))
        except Exception as exc:  # a bad peer must not hurt the host
            logger.debug("autonat request failed: %s", exc)
        finally:
            await stream.close()

    async def _answer(self, request: Message, stream: Any) -> Message:
        if request.type != Message.DIAL:
            return _response(Message.E_BAD_REQUEST, "expected a DIAL message")
        conn = stream.muxed_conn
        peer_id: ID = conn.peer_id
        if request.dial.peer.id and request.dial.peer.id != peer_id.to_bytes():
            return _response(Message.E_BAD_REQUEST, "dial-backs only to the requesting peer")
        remote = stream.get_remote_address()
        if not remote or any("/p2p-circuit" in str(a) for a in conn.get_transport_addresses()):
            return _response(Message.E_DIAL_REFUSED, "no dial-backs over relayed connections")
        if not self.budget.take(str(peer_id), trio.current_time()):
            return _response(Message.E_DIAL_REFUSED, "too many dial-back requests; try later")
        observed = str(remote[0])
        candidates = []
        for raw in request.dial.peer.addrs[:16]:
            try:
                addr = Multiaddr(raw)
            except Exception:  # noqa: S112 - skip what does not parse
                continue
            text = str(addr)
            ip = ip_of(text)
            if ip is None or str(ip) != observed or not self.policy.is_public_ip(ip):
                continue
            candidates.append(Multiaddr(text.split("/p2p/")[0]))
        if not candidates:
            return _response(
                Message.E_DIAL_REFUSED,
                f"no public address with the IP this request came from ({observed})",
            )
        reached = await self._dial_back(peer_id, candidates[:MAX_DIALS])
        if reached is not None:
            self.dialbacks_served += 1
            return _response(Message.OK, addr=reached.to_bytes())
        tried = ", ".join(str(a) for a in candidates[:MAX_DIALS])
        return _response(Message.E_DIAL_ERROR, f"dial-back to {tried} failed")

    async def _dial_back(self, peer_id: ID, addrs: list[Multiaddr]) -> Multiaddr | None:
        """Dial ``addrs`` at once (a router that drops unasked packets makes each failing dial
        last the whole timeout); the first that connects wins, the rest are cancelled."""
        swarm = self.host.get_network()
        reached: list[Multiaddr] = []

        async def one(addr: Multiaddr, done: trio.CancelScope) -> None:
            try:
                with trio.fail_after(self.dial_timeout):
                    fresh = await swarm.dial_addr(addr, peer_id)
            except Exception as exc:
                logger.debug("autonat dial-back to %s failed: %s", addr, exc)
                return
            reached.append(addr)
            done.cancel()
            with trio.CancelScope(shield=True), trio.move_on_after(2):
                await fresh.close()

        async with trio.open_nursery() as nursery:
            for addr in addrs:
                nursery.start_soon(one, addr, nursery.cancel_scope)
        return reached[0] if reached else None

    # --- client -------------------------------------------------------------------------------
    async def ask(self, server: ID, verdicts: Verdicts) -> None:
        """One dial-back request to ``server``; its verdict goes to ``verdicts`` (nothing on a
        transport failure or a server that does not serve AutoNAT)."""
        request = Message()
        request.type = Message.DIAL
        request.dial.peer.id = self.host.get_id().to_bytes()
        for addr in self.announced():
            if "/p2p-circuit" not in addr:
                request.dial.peer.addrs.append(Multiaddr(addr.split("/p2p/")[0]).to_bytes())
        try:
            with trio.fail_after(self.dial_timeout * (MAX_DIALS + 1)):
                stream = await self.host.new_stream(server, [PROTOCOL])
                try:
                    await stream.write(encode_varint_prefixed(request.SerializeToString()))
                    answer = Message()
                    answer.ParseFromString(
                        await read_varint_prefixed_bytes_limited(stream, MAX_MESSAGE)
                    )
                finally:
                    await stream.close()
        except Exception as exc:
            logger.debug("autonat request to %s failed: %s", server, exc)
            return
        status = answer.dialResponse.status
        reason = answer.dialResponse.statusText or Message.ResponseStatus.Name(status)
        verdicts.record(str(server), status == Message.OK, reason)
        if status == Message.OK and answer.dialResponse.addr:
            try:
                reached = str(Multiaddr(answer.dialResponse.addr))
            except Exception:  # a server's bad bytes change nothing
                return
            if reached not in self.confirmed:
                self.confirmed.append(reached)
                self._confirmed_changed()

    def _confirmed_changed(self) -> None:
        if self.on_confirmed is not None:
            self.on_confirmed()

    async def run_client(self) -> None:
        """Rounds of requests to connected peers; a settled round becomes ``verdicts`` (what
        the status shows), and a new round starts ``recheck_s`` later."""
        current = Verdicts()
        tried: set[str] = set()
        while True:
            if current.state is not Reachability.UNKNOWN:
                if current.state is not self.verdicts.state:
                    logger.info("reachability: %s (AutoNAT dial-backs)", current.state.value)
                self.verdicts = current
                if current.state is Reachability.PRIVATE and self.confirmed:
                    self.confirmed = []
                    self._confirmed_changed()
                await trio.sleep(self.recheck_s)
                current, tried = Verdicts(), set()
                continue
            peers = [p for p in self.host.get_network().connections if str(p) not in tried]
            random.shuffle(peers)
            async with trio.open_nursery() as asking:  # at once: each may wait out a dial-back
                for server in peers[:SERVERS_PER_ROUND]:
                    tried.add(str(server))
                    asking.start_soon(self.ask, server, current)
            await trio.sleep(0.5 if peers else 2.0)
