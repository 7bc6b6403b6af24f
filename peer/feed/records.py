"""The signed record types of the feed and their normative field schemas.

Each record type is a frozen dataclass whose attributes are the EIP-712 message fields in
snake_case. ``SCHEMAS`` maps each type to its EIP-712 struct name, wire kind (the envelope key)
and the ordered list of fields ``(wire name, attribute, EIP-712 type)``; the type strings built
from it are exactly the normative ones in ARCHITECTURE "Signed records".

Python representation of EIP-712 types: ``address`` -> checksummed ``str``, ``bytes32`` ->
``bytes`` of length 32, ``uintN`` -> ``int``, ``bool`` -> ``bool``, ``string`` -> ``str``,
``string[]`` -> ``tuple[str, ...]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

ZERO_ADDRESS: Final = "0x0000000000000000000000000000000000000000"
ZERO_ID: Final = bytes(32)


@dataclass(frozen=True, slots=True)
class Post:
    """A clip published by ``creator``; the ``seq``/``prev`` fields chain the creator's log."""

    creator: str
    token: str
    seq: int
    prev: bytes
    manifest: str
    title: str
    tags: tuple[str, ...]
    duration_ms: int
    created_at: int
    premium: bool
    min_balance: int
    key_servers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Profile:
    """A creator's public profile; a higher ``version`` replaces a lower one."""

    creator: str
    name: str
    avatar: str
    token: str
    key_servers: tuple[str, ...]
    version: int
    created_at: int


@dataclass(frozen=True, slots=True)
class Follow:
    """``actor`` starts (``on``) or stops following ``creator``."""

    actor: str
    creator: str
    on: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class Like:
    """``actor`` likes the post with id ``post``."""

    actor: str
    post: bytes
    created_at: int


@dataclass(frozen=True, slots=True)
class LikeV2:
    """``actor`` likes (``on``) or stops liking the post with id ``post``. Per (actor, post) the
    like record (of either type; a ``Like`` counts as on) with the highest ``(created_at, id)``
    wins."""

    actor: str
    post: bytes
    on: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class Tombstone:
    """The creator withdraws the post with id ``post``."""

    creator: str
    post: bytes
    created_at: int


@dataclass(frozen=True, slots=True)
class Comment:
    """``author`` comments on the post with id ``post`` (``parent``: zero, or the id of the
    comment this one answers)."""

    author: str
    post: bytes
    parent: bytes
    text: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Moderation:
    """The creator of a post hides (``hidden``) or shows again the comment with id ``target``."""

    creator: str
    target: bytes
    hidden: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class CommentPolicy:
    """The creator of a post lets only holders of ``min_balance`` base units of their token
    comment on it (0: everyone)."""

    creator: str
    post: bytes
    min_balance: int
    created_at: int


@dataclass(frozen=True, slots=True)
class CommentWithdrawal:
    """``author`` withdraws (deletes) their comment with id ``target``; its replies go with it."""

    author: str
    target: bytes
    created_at: int


Record = (
    Post
    | Profile
    | Follow
    | Like
    | LikeV2
    | Tombstone
    | Comment
    | Moderation
    | CommentPolicy
    | CommentWithdrawal
)
COMMENT_KINDS: Final = ("comment", "moderation", "commentPolicy", "commentWithdrawal")
"""The wire kinds of the comment records (carried on the comment topics only)."""

Field = tuple[str, str, str]  # (wire name, attribute name, EIP-712 type)


@dataclass(frozen=True, slots=True)
class Schema:
    """How one record type is named, hashed and put on the wire."""

    struct: str
    kind: str
    fields: tuple[Field, ...]
    signer_field: str

    @property
    def type_string(self) -> str:
        """The EIP-712 encodeType string, e.g. ``Like(address actor,bytes32 post,...)``."""
        inner = ",".join(f"{typ} {wire}" for wire, _attr, typ in self.fields)
        return f"{self.struct}({inner})"


SCHEMAS: Final[dict[type[Record], Schema]] = {
    Post: Schema(
        "Post",
        "post",
        (
            ("creator", "creator", "address"),
            ("token", "token", "address"),
            ("seq", "seq", "uint64"),
            ("prev", "prev", "bytes32"),
            ("manifest", "manifest", "string"),
            ("title", "title", "string"),
            ("tags", "tags", "string[]"),
            ("durationMs", "duration_ms", "uint64"),
            ("createdAt", "created_at", "uint64"),
            ("premium", "premium", "bool"),
            ("minBalance", "min_balance", "uint256"),
            ("keyServers", "key_servers", "string[]"),
        ),
        "creator",
    ),
    Profile: Schema(
        "Profile",
        "profile",
        (
            ("creator", "creator", "address"),
            ("name", "name", "string"),
            ("avatar", "avatar", "string"),
            ("token", "token", "address"),
            ("keyServers", "key_servers", "string[]"),
            ("version", "version", "uint64"),
            ("createdAt", "created_at", "uint64"),
        ),
        "creator",
    ),
    Follow: Schema(
        "Follow",
        "follow",
        (
            ("actor", "actor", "address"),
            ("creator", "creator", "address"),
            ("on", "on", "bool"),
            ("createdAt", "created_at", "uint64"),
        ),
        "actor",
    ),
    Like: Schema(
        "Like",
        "like",
        (
            ("actor", "actor", "address"),
            ("post", "post", "bytes32"),
            ("createdAt", "created_at", "uint64"),
        ),
        "actor",
    ),
    LikeV2: Schema(
        "LikeV2",
        "likeV2",
        (
            ("actor", "actor", "address"),
            ("post", "post", "bytes32"),
            ("on", "on", "bool"),
            ("createdAt", "created_at", "uint64"),
        ),
        "actor",
    ),
    Tombstone: Schema(
        "Tombstone",
        "tombstone",
        (
            ("creator", "creator", "address"),
            ("post", "post", "bytes32"),
            ("createdAt", "created_at", "uint64"),
        ),
        "creator",
    ),
    Comment: Schema(
        "Comment",
        "comment",
        (
            ("author", "author", "address"),
            ("post", "post", "bytes32"),
            ("parent", "parent", "bytes32"),
            ("text", "text", "string"),
            ("createdAt", "created_at", "uint64"),
        ),
        "author",
    ),
    Moderation: Schema(
        "Moderation",
        "moderation",
        (
            ("creator", "creator", "address"),
            ("target", "target", "bytes32"),
            ("hidden", "hidden", "bool"),
            ("createdAt", "created_at", "uint64"),
        ),
        "creator",
    ),
    CommentPolicy: Schema(
        "CommentPolicy",
        "commentPolicy",
        (
            ("creator", "creator", "address"),
            ("post", "post", "bytes32"),
            ("minBalance", "min_balance", "uint256"),
            ("createdAt", "created_at", "uint64"),
        ),
        "creator",
    ),
    CommentWithdrawal: Schema(
        "CommentWithdrawal",
        "commentWithdrawal",
        (
            ("author", "author", "address"),
            ("target", "target", "bytes32"),
            ("createdAt", "created_at", "uint64"),
        ),
        "author",
    ),
}

KIND_TO_TYPE: Final[dict[str, type[Record]]] = {s.kind: t for t, s in SCHEMAS.items()}


def schema_of(record: Record) -> Schema:
    """The schema of ``record``'s type."""
    return SCHEMAS[type(record)]


def signer_of(record: Record) -> str:
    """The address that must have signed ``record`` (creator, or actor for social records)."""
    value = getattr(record, schema_of(record).signer_field)
    assert isinstance(value, str)
    return value
