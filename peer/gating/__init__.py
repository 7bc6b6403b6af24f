"""Token-gated premium clips: key release on proven holding, and decrypted playback.

Modules:

- ``protocol`` (pure): ``/toktok/keys/1.0.0`` wire format, the EIP-4361 message, the
  server's verification steps in the normative order, refusal codes (``CODES``), sealing of a
  clip key to the holder's ephemeral X25519 key.
- ``nonces`` (pure): single-use, per-peer, TTL'd nonces with a per-peer rate limit.
- ``ports``: ``GatedPost``, ``PostSource``, ``ProfileKeyServers``, ``KeySource``/``KeyCache``,
  ``SignatureChain``; ``MemoryPosts`` is the in-memory fake.
- ``server``: ``KeyServer`` (creator side, or a delegate holding exported keys).
- ``unlocker``: ``Unlocker`` (holder side; caches released keys encrypted).
- ``buy``: ``plan_buy`` / ``buy_and_wait`` for ``unlock --buy``.
- ``playback``: ``decrypted_media`` -> ``DecryptedMedia`` (range reads) or ``LockedError``.
- ``http``: ``media_response`` (aiohttp, 200/206/416; Range by ``storage.ranges``).

Errors: ``peer.gating.errors`` (tree in its docstring). Promises and non-promises:
``docs/GATING.md``.
"""

from .errors import GatingError, KeyRefusedError, LockedError, Requirements
from .playback import DecryptedMedia, decrypted_media
from .ports import GatedPost, MemoryPosts
from .server import KeyServer, KeyServerOptions
from .unlocker import Unlocker

__all__ = [
    "DecryptedMedia",
    "GatedPost",
    "GatingError",
    "KeyRefusedError",
    "KeyServer",
    "KeyServerOptions",
    "LockedError",
    "MemoryPosts",
    "Requirements",
    "Unlocker",
    "decrypted_media",
]
