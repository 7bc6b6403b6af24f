"""EIP-712 helpers reproduce the shared post vectors and refuse forgeries."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from support.vectors import post_vectors

from tokens import eip712
from tokens.devnet import DEV_PRIVATE_KEYS
from tokens.errors import SignatureError


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    return post_vectors()


def test_domain_matches_the_vectors(vectors: dict[str, Any]) -> None:
    d = vectors["domain"]
    assert eip712.toktok_domain(d["chainId"], d["verifyingContract"].lower()) == d


def test_post_ids_and_signatures_match_the_vectors(vectors: dict[str, Any]) -> None:
    domain, types = vectors["domain"], vectors["types"]
    signer = Account.from_key(DEV_PRIVATE_KEYS[0])
    assert len(vectors["posts"]) >= 1
    for post in vectors["posts"]:
        message = post["message"]
        assert "0x" + eip712.digest(domain, types, message).hex() == post["post_id"]
        signature = bytes.fromhex(post["signature"][2:])
        eip712.verify(domain, types, message, signature, message["creator"])
        if message["creator"] == signer.address:
            assert eip712.sign(signer, domain, types, message) == signature


def test_forged_or_altered_posts_are_refused(vectors: dict[str, Any]) -> None:
    domain, types = vectors["domain"], vectors["types"]
    post = vectors["posts"][0]
    message = dict(post["message"], title="changed")
    signature = bytes.fromhex(post["signature"][2:])
    with pytest.raises(SignatureError):
        eip712.verify(domain, types, message, signature, post["message"]["creator"])
    with pytest.raises(SignatureError):
        eip712.verify(domain, types, post["message"], signature[:64], post["message"]["creator"])
    other_chain = dict(domain, chainId=1)
    with pytest.raises(SignatureError):
        eip712.verify(other_chain, types, post["message"], signature, post["message"]["creator"])
