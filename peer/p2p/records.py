"""A neighbour's signed peer record is verified once per record, not once per gossip RPC
(trio side; installed by ``gossip.build_gossipsub``).

py-libp2p 0.8 attaches the sender's signed peer record (an Envelope) to every pubsub RPC it
sends, and the receiver checks it on every RPC (``libp2p.pubsub.utils.
maybe_consume_signed_record``: protobuf decode, an Ed25519 signature check, then the
peerstore's addresses of that peer cleared and set again). A neighbour sends the same record
bytes until its addresses change, so on a relaying peer that check was about a tenth of its
gossip CPU (py-spy during ``scripts/bench propagation``). Here the record bytes last accepted
from a peer are remembered per host, and an RPC carrying exactly those bytes is passed without
checking them again; other bytes (a new record, a forged one, a record of another peer) go
through py-libp2p's check as before. An accepted record is checked again after
``RECHECK_S``, which also renews the addresses' time to live in the peerstore (2 h).

The fix belongs upstream: ``maybe_consume_signed_record`` (or the peerstore) should skip an
envelope identical to the one it holds for that peer, and pubsub need not attach the record to
every RPC (go-libp2p and js-libp2p send none in pubsub).
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from typing import Any

import libp2p.pubsub.gossipsub as gossipsub_module
import libp2p.pubsub.pubsub as pubsub_module
from libp2p.abc import IHost
from libp2p.peer.id import ID
from libp2p.pubsub.utils import maybe_consume_signed_record

RECHECK_S = 600.0
MAX_PEERS = 4096

Consume = Callable[[Any, IHost, ID], bool]

_accepted: weakref.WeakKeyDictionary[IHost, dict[ID, tuple[bytes, float]]] = (
    weakref.WeakKeyDictionary()
)


def consume_sender_record(msg: Any, host: IHost, peer_id: ID, *, check: Consume) -> bool:
    """``check`` (py-libp2p's consume) unless ``msg`` carries the record bytes last accepted
    from ``peer_id`` on ``host`` less than ``RECHECK_S`` ago."""
    accepted = _accepted.get(host)
    if accepted is None or not msg.HasField("senderRecord"):
        return check(msg, host, peer_id)
    record = bytes(msg.senderRecord)
    now = time.monotonic()
    known = accepted.get(peer_id)
    if known is not None and known[0] == record and now - known[1] < RECHECK_S:
        return True
    ok = check(msg, host, peer_id)
    if ok:
        if len(accepted) >= MAX_PEERS:
            accepted.clear()
        accepted[peer_id] = (record, now)
    else:
        accepted.pop(peer_id, None)
    return ok


def _consume(msg: Any, host: IHost, peer_id: ID) -> bool:
    return consume_sender_record(msg, host, peer_id, check=maybe_consume_signed_record)


def remember_sender_records(host: IHost) -> None:
    """Turn the once-per-record check on for the pubsub RPCs ``host`` receives (the function
    pubsub and gossipsub call is swapped once per process; hosts not registered here keep
    py-libp2p's check on every RPC)."""
    _accepted.setdefault(host, {})
    pubsub_module.maybe_consume_signed_record = _consume  # type: ignore[attr-defined]
    gossipsub_module.maybe_consume_signed_record = _consume  # type: ignore[attr-defined]
