"""Bitswap (1.0.0-1.2.0) on the peer's libp2p host: serve our blocks, fetch others'.

* :mod:`.wire`     pure wire format (protobuf + length-prefix framing)
* :mod:`.ports`    the ports: what bitswap needs from the p2p host (``peer.p2p`` implements it),
                  content routing (a DHT) and local block reads
* :mod:`.sender`   our outbound stream per peer (answers go on a NEW stream, as Kubo/Helia expect)
* :mod:`.server`   per-peer ledgers answering wantlists from the block store
* :mod:`.client`   wants, provider choice, timeouts, retries, rejection of corrupt blocks
* :mod:`.service`  :class:`Bitswap`, the service the composition root starts and stops
* :mod:`.store`    :class:`NetworkContentStore`, a ``ContentStore`` that fetches missing blocks
* :mod:`.providing` :class:`ProvidingContentStore`, the same, announcing every root it pins

Errors: :class:`storage.errors.ContentUnavailableError` (a block cannot be had from the
network), :class:`storage.errors.BitswapProtocolError` (a peer sent garbage).
"""

from storage.bitswap.client import ClientOptions
from storage.bitswap.server import ServerOptions
from storage.bitswap.service import Bitswap, BitswapOptions, BitswapStats, FetchResult

__all__ = [
    "Bitswap",
    "BitswapOptions",
    "BitswapStats",
    "ClientOptions",
    "FetchResult",
    "ServerOptions",
]
