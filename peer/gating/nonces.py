"""Server-issued nonces: single use, bound to the requesting peer, with a TTL and a per-peer
rate limit (pure: the clock is passed in as a callable returning Unix seconds)."""

from __future__ import annotations

import secrets
import string
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from .protocol import refuse

_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class NonceOptions:
    ttl: float = 120.0
    """Seconds a nonce stays valid after issue."""
    rate: int = 20
    """Nonces one peer may obtain per ``window`` seconds."""
    window: float = 10.0
    max_outstanding: int = 100_000
    """Unused nonces kept in memory (the oldest are dropped first)."""


class NonceBook:
    """Issues and consumes nonces. Not thread-safe: use it from one event loop."""

    def __init__(self, clock: Callable[[], float], options: NonceOptions | None = None) -> None:
        self._clock = clock
        self._options = options or NonceOptions()
        self._issued: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._recent: dict[str, deque[float]] = {}

    def issue(self, peer: str) -> tuple[str, float]:
        """A fresh nonce for ``peer`` and its expiry; ``rate_limited`` refusal when over."""
        now = self._clock()
        opts = self._options
        recent = self._recent.setdefault(peer, deque())
        while recent and recent[0] <= now - opts.window:
            recent.popleft()
        if len(recent) >= opts.rate:
            raise refuse("rate_limited")
        recent.append(now)
        self._expire(now)
        nonce = "".join(secrets.choice(_ALPHABET) for _ in range(24))
        expires = now + opts.ttl
        self._issued[nonce] = (peer, expires)
        while len(self._issued) > opts.max_outstanding:
            self._issued.popitem(last=False)
        return nonce, expires

    def consume(self, peer: str, nonce: str) -> None:
        """Use ``nonce`` up (whatever happens next); ``nonce`` refusal if it is unknown,
        already used, expired or issued to another peer."""
        now = self._clock()
        entry = self._issued.pop(nonce, None)
        if entry is None:
            raise refuse("nonce", "the nonce is unknown or was used already")
        owner, expires = entry
        if owner != peer:
            raise refuse("nonce", "the nonce was issued to another peer")
        if now >= expires:
            raise refuse("nonce", "the nonce has expired")

    def _expire(self, now: float) -> None:
        while self._issued:
            nonce, (_, expires) = next(iter(self._issued.items()))
            if expires > now:
                break
            del self._issued[nonce]
        if len(self._recent) > 10_000:
            cutoff = now - self._options.window
            for peer in [p for p, q in self._recent.items() if not q or q[-1] <= cutoff]:
                del self._recent[peer]

    def __len__(self) -> int:
        return len(self._issued)
