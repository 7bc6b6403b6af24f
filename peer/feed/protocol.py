"""The feed protocol (pure): signed record types, EIP-712 ids, wire codec and validator.

This module is the public face of the protocol; the parts live in ``records`` (types and
schemas), ``eip712`` (struct hashing), ``signatures`` (secp256k1), ``wire`` (strict codec),
and ``validation`` (the feed rules; CID syntax is ``storage.cid.is_cid``).
"""

from __future__ import annotations

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain, digest, hash_struct
from peer.feed.records import (
    SCHEMAS,
    ZERO_ADDRESS,
    ZERO_ID,
    Follow,
    Like,
    LikeV2,
    Post,
    Profile,
    Record,
    Tombstone,
    schema_of,
    signer_of,
)
from peer.feed.signatures import address_of, recover_signer, sign_digest
from peer.feed.validation import (
    MAX_CLOCK_SKEW_S,
    Accepted,
    Ignored,
    IgnoreReason,
    Rejected,
    RejectReason,
    Validator,
    Verdict,
)
from peer.feed.wire import MAX_RECORD_BYTES, Envelope, decode, encode

__all__ = [
    "MAX_CLOCK_SKEW_S",
    "MAX_RECORD_BYTES",
    "SCHEMAS",
    "ZERO_ADDRESS",
    "ZERO_ID",
    "Accepted",
    "CreatorLog",
    "Domain",
    "Envelope",
    "Follow",
    "IgnoreReason",
    "Ignored",
    "Like",
    "LikeV2",
    "Post",
    "Profile",
    "Record",
    "RejectReason",
    "Rejected",
    "Tombstone",
    "Validator",
    "Verdict",
    "address_of",
    "decode",
    "digest",
    "encode",
    "hash_struct",
    "post_id",
    "recover_signer",
    "schema_of",
    "sign_digest",
    "sign_record",
    "signer_of",
]


def post_id(post: Post, domain: Domain) -> bytes:
    """The post id: the EIP-712 digest of ``post`` in ``domain``."""
    return digest(post, domain)
