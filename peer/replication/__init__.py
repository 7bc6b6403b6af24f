"""Replication: pin other creators' clips (followed creators, liked posts) within a disk budget.

- :mod:`peer.replication.policy` — pure decisions (what to probe, fetch and evict).
- :mod:`peer.replication.bucket` — the token bucket that limits fetch bandwidth.
- :mod:`peer.replication.state` — the persisted replication state (SQLite).
- :mod:`peer.replication.fetcher` — manifest probe and capped, rate-limited DAG fetches.
- :mod:`peer.replication.ports` — what it needs from the peer (feed wants, pins, blocks); the
  wants come from the feed's own read-only query (``peer.feed.reader``), never SQL of its own.
- :mod:`peer.replication.service` — the background worker tying them together.
- :mod:`peer.replication.testing` — public fakes of its ports (network blocks, wanted posts).
- :mod:`peer.replication.errors` — the exception tree.

The composition root wires it through ``peer/daemon/replication.py``.
"""
