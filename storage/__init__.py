"""Content addressing and durable storage for Toktok.

Modules (pure ones do no I/O):

* ``cid`` (pure): CIDv0/CIDv1, multihash, varints, base32/base58.
* ``dagpb`` (pure): dag-pb and UnixFS protobuf codecs.
* ``unixfs`` (pure): streaming importer (256 KiB chunks, balanced 174-link layout, raw leaves
  for CIDv1, identical to ``ipfs add``) and range exporter over a block getter.
* ``blockstore``: block files with atomic writes and verified reads; in-memory fake.
* ``pins``: the pin set in SQLite; in-memory fake.
* ``local``: the blocking core (imports, pins, GC, verification) with crash-safe ordering.
* ``ports``: the ``ContentStore`` port; ``embedded``: its implementation over ``local``.
* ``errors``: the exception tree of the package.
* ``media``, ``crypto``, ``clipkeys``: media pipeline, chunked encryption, clip-key store.
"""
