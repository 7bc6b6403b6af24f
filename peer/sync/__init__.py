"""Catch-up sync (``/toktok/sync/1.1.0`` and ``/toktok/sync/1.0.0``) and the peer book.

- ``protocol`` (pure): 1.0 request/response messages, strict decoding with caps.
- ``protocol11`` (pure): 1.1 = the 1.0 messages plus kind heads and kind ranges.
- ``fetch``: one round with one peer (heads, missing ranges in pages, profiles), every record
  through the feed ``Validator``; ``SyncOptions`` (every field documented).
- ``kinds``: a 1.1 round's part for the other record kinds, by (kind, author) group.
- ``rounds``: a round's report and budget.
- ``service``: ``SyncService`` (serve, on-connect and periodic rounds, redial from the book).
- ``peerbook``: ``PeerBook`` of good peers in ``<data>/p2p/peers.json`` (atomic writes).

Composition (the composition root does this, after the feed is started: the index and the
feed's ``Validator`` must exist; stop sync before the feed and the host)::

    book = PeerBook(PeerBookOptions(path=data.p2p / "peers.json"))
    sync = SyncService(host, feed.index.sync, validator, SyncOptions(), peer_book=book,
                       on_stored=bus_hook)   # same (envelope, id, StoreResult) hook as gossip
    await sync.start()    # serves sync 1.1 and 1.0, rounds on connect / every 30 s, redials
    ...
    await sync.stop()     # cancels rounds, unserves, saves the book

Errors: ``peer.sync.errors`` (tree in its docstring).
"""

from peer.sync.errors import PeerBookError, SyncError, SyncProtocolError
from peer.sync.fetch import SyncOptions
from peer.sync.peerbook import PeerBook, PeerBookOptions, PeerEntry
from peer.sync.ports import SyncIndex
from peer.sync.protocol import PROTOCOL_ID, Limits
from peer.sync.protocol11 import PROTOCOL_ID as PROTOCOL_ID_1_1
from peer.sync.rounds import RoundReport
from peer.sync.service import SyncService

__all__ = [
    "PROTOCOL_ID",
    "PROTOCOL_ID_1_1",
    "Limits",
    "PeerBook",
    "PeerBookError",
    "PeerBookOptions",
    "PeerEntry",
    "RoundReport",
    "SyncError",
    "SyncIndex",
    "SyncOptions",
    "SyncProtocolError",
    "SyncService",
]
