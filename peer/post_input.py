"""The rules for what a user types when publishing a clip (pure), shared by the daemon's
publish service (API uploads and ``toktok publish`` through the daemon) and the CLI's
in-process path. Stricter than the feed protocol allows (it takes 32 tags): these are the
product's limits for new posts. A broken rule raises :class:`PostInputError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from peer.errors import PostInputError

MAX_TITLE: Final = 200
MAX_TAGS: Final = 10
MAX_TAG: Final = 32


def clean_title(title: str) -> str:
    """The title without surrounding space: 1 to :data:`MAX_TITLE` characters."""
    title = title.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise PostInputError("title", f"1 to {MAX_TITLE} characters")
    return title


def clean_tags(values: str | Iterable[str]) -> tuple[str, ...]:
    """Tags from comma-separated text or several values: lower case, without ``#``, without
    duplicates; at most :data:`MAX_TAGS` of at most :data:`MAX_TAG` characters."""
    parts = [values] if isinstance(values, str) else list(values)
    tags: list[str] = []
    for part in parts:
        for tag in part.split(","):
            tag = tag.strip().lstrip("#").lower()
            if tag and tag not in tags:
                tags.append(tag)
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags):
        raise PostInputError("tags", f"at most {MAX_TAGS} tags of at most {MAX_TAG} characters")
    return tuple(tags)


def check_premium(premium: bool, min_balance: int) -> None:
    """A premium clip needs a minimum balance of at least 1 whole token; a free one has none."""
    if premium and min_balance < 1:
        raise PostInputError("min_balance", "a premium clip needs at least 1 whole token")
    if not premium and min_balance:
        raise PostInputError("min_balance", "only premium clips have a minimum balance")
