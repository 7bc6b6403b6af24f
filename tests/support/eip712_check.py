"""eth-account as an independent check of the feed's EIP-712 digests."""

from __future__ import annotations

from typing import Any

from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

from peer.feed.eip712 import Domain
from peer.feed.records import SCHEMAS, Record


def eth_account_digest(record: Record, domain: Domain) -> bytes:
    """The EIP-712 digest of ``record`` as eth-account computes it."""
    schema = SCHEMAS[type(record)]
    message: dict[str, Any] = {}
    for wire, attr, typ in schema.fields:
        value = getattr(record, attr)
        message[wire] = list(value) if typ == "string[]" else value
    signable = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                schema.struct: [{"name": w, "type": t} for w, _a, t in schema.fields],
            },
            "primaryType": schema.struct,
            "domain": {
                "name": "Toktok",
                "version": "1",
                "chainId": domain.chain_id,
                "verifyingContract": domain.verifying_contract,
            },
            "message": message,
        }
    )
    return keccak(b"\x19" + signable.version + signable.header + signable.body)
