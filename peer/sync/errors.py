"""Errors of catch-up sync and the peer book (``peer.sync``).

Exception tree::

    SyncError                    base of everything this package raises on purpose
    ├── SyncProtocolError        a sync message is malformed, over a cap, or breaks the protocol
    │                            (the remote peer misbehaves; we stop syncing with it this round)
    └── PeerBookError            the peer book file cannot be read or written

p2p errors (timeouts, unsupported protocol) are caught by the service and counted; they are not
translated, because nothing outside the service sees them.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base class of every error raised by ``peer.sync``."""


class SyncProtocolError(SyncError):
    """A sync request or response is malformed or over a cap; the message says which."""


class PeerBookError(SyncError):
    """The peer book file (``<data>/p2p/peers.json``) is unusable; the message says why."""
