"""The daemon layer: the composition root (``app``), its service registry (``services``) and the
lifecycle adapters that start, stop and expose each domain package to the API (``feed``, ``store``,
``chain``, ``wallet``, ``publish``, ``sync``, ``gating``, ``replication``)."""
