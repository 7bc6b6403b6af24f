"""The ``domain`` rule of key requests against tests/vectors/key_request_vectors.json: a key
server accepts ``toktok`` (what peers sign with their own wallet, today's and older peers) and a
loopback ``host:port`` (what a browser wallet signs on the local page), and refuses anything
else with the code ``domain``; the holder builds both forms byte for byte."""

from __future__ import annotations

from datetime import timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from support.key_vectors import EPK, NONCE, NOW, POST, SERVER
from support.vectors import key_request_vectors

from peer.gating import protocol as proto
from peer.gating.errors import KeyRefusedError
from tokens import siwe

VECTORS = key_request_vectors()
CASES = VECTORS["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["domain"] for c in CASES])
def test_the_key_server_gives_each_domain_its_verdict(case: dict[str, str]) -> None:
    now = siwe.parse_time(VECTORS["checked_at"])
    signature = bytes.fromhex(case["signature"][2:])
    # eth-account, independently of our parser: the signer is the vectors' account
    signer = Account.recover_message(encode_defunct(text=case["message"]), signature=signature)
    assert signer == VECTORS["signer"]
    if case["verdict"] == "accept":
        m = proto.check_fields(case["message"], VECTORS["chain_id"], now, timedelta(seconds=30))
        assert m.domain == case["domain"]
        assert siwe.recover_signer(case["message"], signature) == VECTORS["signer"]
    else:
        with pytest.raises(KeyRefusedError) as info:
            proto.check_fields(case["message"], VECTORS["chain_id"], now, timedelta(seconds=30))
        assert info.value.code == case["verdict"]


@pytest.mark.parametrize("case", [c for c in CASES if c["verdict"] == "accept"])
def test_the_holder_builds_the_accepted_messages_byte_for_byte(case: dict[str, str]) -> None:
    text = proto.build_message(
        VECTORS["signer"], VECTORS["chain_id"], NONCE, proto.Resources(POST, SERVER, EPK), NOW,
        domain=case["domain"],
    )  # fmt: skip
    assert text == case["message"]


@pytest.mark.parametrize("case", [c for c in CASES if c["verdict"] != "accept"])
def test_the_holder_never_builds_a_refused_domain(case: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="not a domain key servers accept"):
        proto.build_message(
            VECTORS["signer"], VECTORS["chain_id"], NONCE, proto.Resources(POST, SERVER, EPK),
            NOW, domain=case["domain"],
        )  # fmt: skip
