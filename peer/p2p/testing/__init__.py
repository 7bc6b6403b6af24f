"""Test support for code built on ``peer.p2p`` (like ``trio.testing``); public product code.

* :mod:`.fake`     :class:`FakeNetwork` of :class:`FakeHost`\\ s: the facade in memory, on the
  caller's asyncio loop (unit tests of the services above ``peer.p2p``)
* :mod:`.factory`  :class:`PeerFactory`: local and remote peers for one backend (the fake, or
  real hosts with every remote in its own process), and polling helpers; used by the
  conformance suite and the benchmark
"""

from .factory import Peer, PeerFactory, ensure_flow, info, wait_until
from .fake import FakeHost, FakeNetwork, FakeStream

__all__ = [
    "FakeHost",
    "FakeNetwork",
    "FakeStream",
    "Peer",
    "PeerFactory",
    "ensure_flow",
    "info",
    "wait_until",
]
