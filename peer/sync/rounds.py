"""What one sync round carries around: its report, its budget, and how it stops early."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class RoundReport:
    """What one round with one peer did."""

    peer: str
    stored: int = 0
    forks: int = 0
    ignored: int = 0
    pages: int = 0
    creators: int = 0
    groups: int = 0
    """(kind, author) groups fetched (sync 1.1)."""
    protocol: str = ""
    """The sync protocol the round spoke (empty if the peer spoke none)."""
    rejected: str | None = None
    """Why the round stopped because the peer misbehaved (None if it did not)."""
    refused: int = 0
    """Records dropped because they broke the feed rules (each costs only itself)."""
    last_refused: str = ""
    """Why the last of them was dropped."""
    error: str | None = None
    """Why the round stopped on a network error (timeout, unsupported protocol...)."""
    answered: bool = False
    """The peer answered the heads request."""
    capped: bool = False
    """The round used up its page or record budget (the peer may have more for us)."""


@dataclass(slots=True)
class Budget:
    """What is left of a round's allowance with one peer."""

    pages: int
    records: int
    rejects: int

    @property
    def spent(self) -> bool:
        return self.pages <= 0 or self.records <= 0


class RoundStop(Exception):
    """The peer broke the protocol; the round with it ends (the message says how)."""
