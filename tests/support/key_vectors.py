"""The generator of ``tests/vectors/key_request_vectors.json`` (docs/ARCHITECTURE.md,
Token-gated playback: the ``domain`` of a key request).

Run ``python -m support.key_vectors`` from ``tests/`` to write the file again. Each case is a
key-request message built as the protocol builds it, with a ``domain`` that key servers accept
(``toktok``, signed by a peer's own wallet, or a page's loopback ``host:port``, signed by a
browser wallet) or refuse, signed with anvil's well-known dev account 0 (a public test key of no
value) as ``personal_sign`` signs. ``tests/unit/gating/test_key_request_vectors.py`` checks the
verdict of every case and recovers every signer with eth-account.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct

from peer.gating import protocol as proto
from support.vectors import VECTORS_DIR
from tokens import siwe

KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
CHAIN_ID = 31337
NOW = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
NONCE = "Q7pMz3kRt9VbX2aLw8Yc"
SERVER = "12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"
POST = bytes(range(32))
EPK = bytes(range(100, 132))

ACCEPTED = ["toktok", "127.0.0.1:8080", "localhost:5173", "[::1]:65535", "127.0.0.1:1"]
REFUSED = [
    "example.com",  # any other site
    "toktok.example:443",
    "192.168.1.20:8080",  # a LAN address: not the local page
    "127.0.0.1",  # no port: not the page's origin
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "localhost:08080",  # a port is written without leading zeros
]


def message(domain: str) -> str:
    """The key-request text with ``domain`` (built past the builder's own domain check)."""
    resources = proto.Resources(POST, SERVER, EPK)
    return siwe.SiweMessage(
        domain=domain,
        address=Account.from_key(KEY).address,
        uri=f"toktok:post:{proto.post_hex(POST)}",
        chain_id=CHAIN_ID,
        nonce=NONCE,
        issued_at=siwe.format_time(NOW),
        statement=proto.STATEMENT,
        expiration_time=siwe.format_time(NOW + proto.DEFAULT_LIFETIME),
        resources=resources.to_tuple(),
    ).to_text()


def case(domain: str, verdict: str) -> dict[str, Any]:
    text = message(domain)
    signed = Account.sign_message(encode_defunct(text=text), KEY)
    return {
        "domain": domain,
        "message": text,
        "signature": "0x" + bytes(signed.signature).hex(),
        "verdict": verdict,
    }


def build() -> dict[str, Any]:
    return {
        "description": (
            "Key requests of /toktok/keys/1.0.0 (EIP-4361 text and its personal_sign "
            "signature): domain 'toktok' or a loopback host:port is accepted, anything else "
            "is refused with the code 'domain'. Check with now = checked_at and chain_id."
        ),
        "signer": Account.from_key(KEY).address,
        "chain_id": CHAIN_ID,
        "checked_at": siwe.format_time(NOW),
        "cases": [case(d, "accept") for d in ACCEPTED] + [case(d, "domain") for d in REFUSED],
    }


if __name__ == "__main__":
    out = VECTORS_DIR / "key_request_vectors.json"
    out.write_text(json.dumps(build(), indent=2) + "\n")
    print(f"wrote {out}")
