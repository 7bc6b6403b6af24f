"""Construction of the py-libp2p host as Toktok configures it, and multiaddr parsing
(trio side; used by ``host.P2PHost`` and by the native baseline of ``scripts/bench p2p``)."""

from __future__ import annotations

from typing import Any

import multiaddr
from libp2p import new_host
from libp2p.abc import IHost
from libp2p.crypto.keys import KeyPair
from libp2p.crypto.x25519 import create_new_key_pair as new_x25519
from libp2p.custom_types import TProtocol
from libp2p.network.auto_connector import AutoConnector
from libp2p.network.config import ConnectionConfig
from libp2p.network.swarm import Swarm
from libp2p.peer.id import ID
from libp2p.peer.peerinfo import PeerInfo, info_from_p2p_addr
from libp2p.security.noise.transport import PROTOCOL_ID as NOISE_ID
from libp2p.security.noise.transport import Transport as NoiseTransport
from libp2p.stream_muxer.yamux.yamux import PROTOCOL_ID as YAMUX_ID
from libp2p.stream_muxer.yamux.yamux import Yamux

from . import yamux_credit
from .errors import InvalidMultiaddrError
from .options import HostOptions


def build_libp2p_host(key_pair: KeyPair, opts: HostOptions) -> IHost:
    """The py-libp2p host as Toktok configures it: tcp, noise only, yamux only (credit given
    back as go-yamux does, see ``yamux_credit``), no mDNS, no bootstrap discovery service,
    AutoConnector off (trio side; not yet running)."""
    yamux_credit.install()
    host = new_host(
        key_pair=key_pair,
        listen_addrs=[parse_multiaddr(a) for a in opts.listen_addrs],
        announce_addrs=[parse_multiaddr(a) for a in opts.announce_addrs] or None,
        sec_opt={
            TProtocol(NOISE_ID): NoiseTransport(key_pair, noise_privkey=new_x25519().private_key)
        },
        muxer_opt={TProtocol(YAMUX_ID): Yamux},
        enable_mDNS=False,
        bootstrap=None,
        connection_config=ConnectionConfig(
            max_connections=opts.max_connections,
            min_connections=0,
            low_watermark=0,
            high_watermark=opts.max_connections,
            dial_timeout=opts.dial_timeout,
        ),
    )
    network = host.get_network()
    if isinstance(network, Swarm):
        # we dial explicitly (bootstrap, connect, sync); see HostOptions.max_connections
        network.auto_connector = _NoAutoDial(network, opts.dial_timeout)
    return host


class _NoAutoDial(AutoConnector):
    """An AutoConnector that never starts: py-libp2p's re-dials the whole peerstore."""

    async def start(self) -> None:
        self._started = False


def parse_multiaddr(text: str) -> multiaddr.Multiaddr:
    try:
        return multiaddr.Multiaddr(text)
    except Exception as exc:
        raise InvalidMultiaddrError(f"{text!r} is not a valid multiaddr: {exc}") from exc


def parse_peer_multiaddr(text: str) -> Any:
    addr = parse_multiaddr(text)
    try:
        return info_from_p2p_addr(addr)
    except Exception as exc:
        raise InvalidMultiaddrError(
            f"{text!r} does not end in /p2p/<peer id>; use the full address `toktok id` prints"
        ) from exc


def bare_peer_id(text: str) -> str | None:
    """The peer id if ``text`` is one alone (``12D3Koo...`` or ``/p2p/12D3Koo...``), else None."""
    candidate = text.strip()
    if candidate.startswith("/p2p/"):
        candidate = candidate[len("/p2p/") :]
    if not candidate or "/" in candidate or " " in candidate:
        return None
    try:
        peer_id = ID.from_base58(candidate)
        multiaddr.Multiaddr(f"/p2p/{candidate}")  # validates the multihash inside
    except Exception:
        return None
    return str(peer_id.to_base58())


def peer_info(peer: str, addrs: tuple[str, ...]) -> PeerInfo:
    """A py-libp2p PeerInfo from full multiaddrs (each ending in /p2p/<peer>)."""
    suffix = f"/p2p/{peer}"
    plain = [a[: -len(suffix)] if a.endswith(suffix) else a for a in addrs]
    return PeerInfo(ID.from_base58(peer), [parse_multiaddr(a) for a in plain if a])
