"""The feed: signed records, their validation, the local index and the gossip service.

Modules (pure ones do no I/O):

- ``protocol`` (pure): the public face of the protocol, re-exporting ``records`` (the five
  record types and their normative EIP-712 schemas), ``eip712`` (struct hashing, post id),
  ``signatures`` (secp256k1 over digests, low-s only), ``wire`` (strict codec), ``validation``
  (the feed rules: Accept / Reject(reason) / Ignore(reason); CID syntax by
  ``storage.cid.is_cid``) and ``builders`` (signing on the author's side, ``CreatorLog`` for
  seq/prev).
- ``ports``: ``TokenRegistry`` (chain: ``token_of``, ``block_number``; the ``tokens`` chain
  client implements it), ``FeedView`` (what the validator reads) and ``RecordStore`` (where
  gossip puts accepted records); the index's ``view`` and ``writes`` implement the last two.
- ``token_link``: ``CachedTokenRegistry`` in front of the chain (positive answers kept, negative
  ones for a block range). ``testing``: ``FakeTokenRegistry``, ``MemoryFeedView``.
- ``index`` (+ ``db``, ``schema``, ``ingest``, ``queries``, ``coalesce``): ``FeedIndex``, SQLite
  in WAL mode with one batching writer thread and a reader pool, made of one part per role:
  ``writes`` (``writes.FeedWrites``: stores, local lists), ``view``
  (``validator_view.ValidatorView``: the validator's ``FeedView``), ``sync``
  (``sync_view.SyncView``: what sync serves and stores) and ``queries``
  (``feed_queries.FeedQueries``: pages and lookups for the API and services).
- ``gossip``: ``FeedGossip`` on the p2p facade (topics, rate limits, forks not forwarded).

Composition (the composition root does this)::

    index = FeedIndex(IndexOptions(path=data.index / "feed.sqlite"))
    await index.start()
    registry = CachedTokenRegistry(chain_client, unavailable=(ChainUnavailableError,))
    domain = Domain(chain_id, deployment.factory)
    validator = Validator(domain, registry, index.view)
    gossip = FeedGossip(host, validator, index.writes, on_stored=bus_hook)
    await gossip.start()
    ...
    await gossip.close(); await index.close()

Errors: ``peer.feed.errors`` (tree in its docstring).
"""
