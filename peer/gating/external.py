"""Key requests signed by a browser wallet (EIP-1193): the peer builds the EIP-4361 message and
keeps the ephemeral key; the page has the wallet sign the text (``personal_sign``) and sends the
signature back. The peer never sees the wallet's key.

A pending request lives here under a random id until it is redeemed or its message expires
(:data:`peer.gating.protocol.DEFAULT_LIFETIME`); at most :data:`MAX_PENDING` wait at once (the
oldest goes first). An id is used once.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from .errors import UnknownChallengeError
from .protocol import DEFAULT_LIFETIME
from .unlocker import Challenge

MAX_PENDING: Final = 32


@dataclass(slots=True)
class Pending:
    """A challenge and where it stands in the post's list of key servers."""

    challenge: Challenge
    servers: list[str]
    index: int  # the server of ``challenge`` in ``servers``
    domain: str
    attempts: list[tuple[str, Exception]] = field(default_factory=list)


class PendingChallenges:
    """Pending requests by id, with expiry and a cap."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, Pending]] = OrderedDict()

    def add(self, pending: Pending) -> str:
        self._prune()
        while len(self._items) >= MAX_PENDING:
            self._items.popitem(last=False)
        ident = secrets.token_urlsafe(18)
        self._items[ident] = (self._clock() + DEFAULT_LIFETIME.total_seconds(), pending)
        return ident

    def take(self, ident: str) -> Pending:
        """The pending request (removed: an id is used once)."""
        self._prune()
        item = self._items.pop(ident, None)
        if item is None:
            raise UnknownChallengeError(
                "no key request waits under this id (used already, expired, or never issued); "
                "ask for a new one"
            )
        return item[1]

    def __len__(self) -> int:
        self._prune()
        return len(self._items)

    def _prune(self) -> None:
        now = self._clock()
        for ident in [i for i, (expires, _) in self._items.items() if expires <= now]:
            del self._items[ident]
