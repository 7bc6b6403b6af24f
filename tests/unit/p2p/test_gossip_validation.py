"""Copies of a message that arrive while its first copy is validated are not validated again."""

from __future__ import annotations

import pytest
import trio
from libp2p import new_host
from libp2p.crypto.secp256k1 import create_new_key_pair
from libp2p.exceptions import ValidationError
from libp2p.peer.id import ID
from libp2p.pubsub.pb import rpc_pb2

from peer.p2p.gossip import build_gossipsub
from peer.p2p.options import GossipOptions
from peer.p2p.ports import Accept, Reject, ValidationResult


def _message(seqno: bytes) -> rpc_pb2.Message:
    sender = ID.from_pubkey(create_new_key_pair().public_key)
    return rpc_pb2.Message(from_id=sender.to_bytes(), seqno=seqno, data=b"post", topicIDs=["t"])


def test_copies_during_validation_are_ignored_and_validated_once() -> None:
    calls: list[bytes] = []

    async def dispatcher(forwarder: ID, msg: rpc_pb2.Message) -> ValidationResult:
        calls.append(msg.seqno)
        await trio.sleep(0.2)
        return Reject("forged") if msg.seqno == b"bad" else Accept()

    pubsub, _ = build_gossipsub(new_host(), GossipOptions(), dispatcher)
    neighbours = [ID.from_pubkey(create_new_key_pair().public_key) for _ in range(3)]
    good, bad = _message(b"good"), _message(b"bad")
    outcomes: list[str] = []

    async def receive(forwarder: ID, msg: rpc_pb2.Message) -> None:
        try:
            await pubsub.validate_msg(forwarder, msg)
            outcomes.append("accept")
        except ValidationError as exc:
            outcomes.append(str(exc))

    async def scenario() -> None:
        async with trio.open_nursery() as nursery:
            for msg in (good, bad):
                for neighbour in neighbours:
                    nursery.start_soon(receive, neighbour, msg)
                    await trio.sleep(0.01)

    trio.run(scenario)
    assert sorted(calls) == [b"bad", b"good"], "each message validated once"
    assert outcomes.count("accept") == 1
    assert outcomes.count("forged") == 1
    assert outcomes.count("duplicate: its first copy is being validated") == 4
    assert pubsub.validating == set(), "nothing left marked in flight"

    async def later_copy() -> None:  # once validation ended, a copy is validated again
        await receive(neighbours[0], good)

    trio.run(later_copy)
    assert calls.count(b"good") == 2


@pytest.mark.parametrize("size", [16 * 1024 + 1])
def test_oversized_message_is_rejected_before_validation(size: int) -> None:
    calls: list[bytes] = []

    async def dispatcher(forwarder: ID, msg: rpc_pb2.Message) -> ValidationResult:
        calls.append(msg.seqno)
        return Accept()

    pubsub, _ = build_gossipsub(new_host(), GossipOptions(), dispatcher)
    msg = _message(b"big")
    msg.data = b"x" * size

    async def scenario() -> None:
        with pytest.raises(ValidationError, match="over"):
            await pubsub.validate_msg(ID.from_pubkey(create_new_key_pair().public_key), msg)

    trio.run(scenario)
    assert calls == []
