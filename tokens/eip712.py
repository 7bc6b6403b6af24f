"""EIP-712 typed-data signing and verification with the Toktok domain.

Domain (ARCHITECTURE, normative): ``{name: "Toktok", version: "1", chainId,
verifyingContract: <factory address>}``.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from tokens.errors import SignatureError

Types = dict[str, list[dict[str, str]]]


def toktok_domain(chain_id: int, factory: str) -> dict[str, Any]:
    return {
        "name": "Toktok",
        "version": "1",
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(factory),
    }


def _signable(domain: dict[str, Any], types: Types, message: dict[str, Any]) -> SignableMessage:
    message_types = {k: v for k, v in types.items() if k != "EIP712Domain"}
    try:
        return encode_typed_data(
            domain_data=domain, message_types=message_types, message_data=message
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise SignatureError(f"cannot encode typed data: {exc}") from exc


def digest(domain: dict[str, Any], types: Types, message: dict[str, Any]) -> bytes:
    """``keccak256(0x1901 || domainSeparator || hashStruct(message))``."""
    s = _signable(domain, types, message)
    return keccak(b"\x19" + s.version + s.header + s.body)


def sign(
    account: LocalAccount, domain: dict[str, Any], types: Types, message: dict[str, Any]
) -> bytes:
    """A 65-byte ``r || s || v`` signature."""
    return bytes(account.sign_message(_signable(domain, types, message)).signature)


def recover(domain: dict[str, Any], types: Types, message: dict[str, Any], signature: bytes) -> str:
    if len(signature) != 65:
        raise SignatureError("signature must be 65 bytes")
    try:
        return str(Account.recover_message(_signable(domain, types, message), signature=signature))
    except SignatureError:
        raise
    except Exception as exc:  # eth-keys raises several types for malformed signatures
        raise SignatureError(f"malformed signature: {exc}") from exc


def verify(
    domain: dict[str, Any],
    types: Types,
    message: dict[str, Any],
    signature: bytes,
    expected_signer: str,
) -> None:
    """Raise :class:`SignatureError` unless `expected_signer` made the signature."""
    signer = recover(domain, types, message, signature)
    if signer.lower() != expected_signer.lower():
        raise SignatureError(f"signed by {signer}, not by {expected_signer}")
