"""Errors raised by the feed package.

Exception tree::

    FeedError                      base of everything raised by peer.feed
    ├── DecodeError                bytes are not a valid signed record (wire codec)
    │   ├── OversizeError          the encoded record is larger than MAX_RECORD_BYTES
    │   └── UnknownKindError       a well-formed envelope of a record kind this build does not know
    ├── EncodeError                a record cannot be put on the wire (out-of-range field)
    ├── SignatureError             a signature is malformed or does not recover
    ├── FeedIndexError             the local index failed (SQLite error, closed index)
    │   ├── SchemaError            the database schema is newer than this program knows
    │   └── CursorError            a pagination cursor is malformed or for another query
    ├── RegistryUnavailable        the chain lookup behind the token link failed
    └── CommentRefused             our own comment record would not be stored (``reason``)
        └── NotHolderError         holders-only post: the commenter holds too little

Third-party errors (json, sqlite3, eth-keys) are translated into these at the boundary.
"""

from __future__ import annotations


class FeedError(Exception):
    """Base class of every error raised by ``peer.feed``."""


class DecodeError(FeedError):
    """The bytes are not a strictly valid signed record."""


class OversizeError(DecodeError):
    """The encoded record exceeds the wire size limit."""


class UnknownKindError(DecodeError):
    """A well-formed envelope (``{"v": 1, "<kind>": {...}, "sig": ...}``) of a kind this build
    does not know: on topics and in sync versions made after the kind list was fixed, it is
    ignored rather than rejected (a newer peer is not a cheat)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"unknown record kind {kind[:40]!r}")
        self.kind = kind


class EncodeError(FeedError):
    """A record cannot be encoded (a field is out of range or malformed)."""


class SignatureError(FeedError):
    """A signature is malformed (length, v, s range) or does not recover a key."""


class FeedIndexError(FeedError):
    """The local feed index failed; the message says what and what to do."""


class SchemaError(FeedIndexError):
    """The index database was written by a newer version of Toktok."""


class CursorError(FeedIndexError):
    """A pagination cursor is malformed or belongs to another query."""


class RegistryUnavailable(FeedError):
    """The token registry (chain) could not be reached; retry later."""


class CommentRefused(FeedError):
    """A comment, moderation or policy we were asked to sign would be Ignored by the rules
    (``reason`` is the rule's code, e.g. ``unknown-post``, ``comment-cap``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class NotHolderError(CommentRefused):
    """The post is holders-only and the commenter does not hold enough of the creator's token
    over the holding window (buy, then wait for the window)."""
