"""A neighbour's signed peer record is checked once per record bytes, not once per RPC; new,
forged or misattributed records are still checked (peer/p2p/records.py)."""

from __future__ import annotations

from typing import Any

import multiaddr
from libp2p import new_host
from libp2p.abc import IHost
from libp2p.crypto.secp256k1 import create_new_key_pair
from libp2p.peer.id import ID
from libp2p.peer.peerstore import env_to_send_in_RPC
from libp2p.pubsub.pb import rpc_pb2
from libp2p.pubsub.utils import maybe_consume_signed_record

from peer.p2p import records


def _sender(port: int) -> IHost:
    return new_host(
        key_pair=create_new_key_pair(),
        listen_addrs=[multiaddr.Multiaddr(f"/ip4/127.0.0.1/tcp/{port}")],
    )


def _rpc(host: IHost) -> rpc_pb2.RPC:
    envelope, _ = env_to_send_in_RPC(host)
    return rpc_pb2.RPC(senderRecord=envelope)


class Counting:
    """py-libp2p's check, counted."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, msg: Any, host: IHost, peer_id: ID) -> bool:
        self.calls += 1
        return maybe_consume_signed_record(msg, host, peer_id)


def test_same_record_is_checked_once_and_others_every_time() -> None:
    receiver, alice, bob = new_host(), _sender(4101), _sender(4102)
    records.remember_sender_records(receiver)
    check = Counting()
    alice_id, bob_id = alice.get_id(), bob.get_id()

    for _ in range(5):
        assert records.consume_sender_record(_rpc(alice), receiver, alice_id, check=check)
    assert check.calls == 1, "the same record bytes from the same peer: checked once"

    # alice's record relayed as if bob sent it: checked, and refused (peer id mismatch)
    assert not records.consume_sender_record(_rpc(alice), receiver, bob_id, check=check)
    assert check.calls == 2

    forged = _rpc(bob)
    forged.senderRecord = forged.senderRecord[:-1] + bytes([forged.senderRecord[-1] ^ 1])
    for _ in range(2):
        assert not records.consume_sender_record(forged, receiver, bob_id, check=check)
    assert check.calls == 4, "a refused record is checked every time it comes"

    assert records.consume_sender_record(rpc_pb2.RPC(), receiver, bob_id, check=check)
    assert check.calls == 5, "an RPC without a record goes to py-libp2p's function as before"


def test_a_host_not_registered_checks_every_rpc() -> None:
    other, alice = new_host(), _sender(4103)
    check = Counting()
    for _ in range(3):
        assert records.consume_sender_record(_rpc(alice), other, alice.get_id(), check=check)
    assert check.calls == 3


def test_record_is_checked_again_after_the_recheck_interval(monkeypatch: Any) -> None:
    receiver, alice = new_host(), _sender(4104)
    records.remember_sender_records(receiver)
    check = Counting()
    clock = [1000.0]
    monkeypatch.setattr(records.time, "monotonic", lambda: clock[0])
    assert records.consume_sender_record(_rpc(alice), receiver, alice.get_id(), check=check)
    clock[0] += records.RECHECK_S - 1
    assert records.consume_sender_record(_rpc(alice), receiver, alice.get_id(), check=check)
    assert check.calls == 1
    clock[0] += 2
    assert records.consume_sender_record(_rpc(alice), receiver, alice.get_id(), check=check)
    assert check.calls == 2


def test_pubsub_reads_through_the_cache_once_installed() -> None:
    import libp2p.pubsub.gossipsub as gossipsub_module
    import libp2p.pubsub.pubsub as pubsub_module

    records.remember_sender_records(new_host())
    assert pubsub_module.maybe_consume_signed_record is records._consume
    assert gossipsub_module.maybe_consume_signed_record is records._consume
