"""Errors of the replication package.

Exception tree::

    ReplicationError            base of everything raised here
    ├── CapExceededError        a manifest or a DAG breaks a replication cap (manifest over
    │                           64 KiB, too many renditions, a DAG larger than declared, a
    │                           clip larger than the whole budget): permanent, never retried
    ├── BadManifestError        the manifest does not decode, or names another creator:
    │                           permanent, never retried
    ├── FetchFailedError        the network could not deliver the content now (nobody has
    │                           it, timeouts): retried later with backoff
    └── StateError              the replication state file cannot be opened or written

Storage errors met while fetching are translated at the boundary (``raise ... from exc``).
"""

from __future__ import annotations


class ReplicationError(Exception):
    """Base of every replication error."""


class CapExceededError(ReplicationError):
    """Content breaks a replication cap; the verdict is permanent (CIDs are immutable)."""


class BadManifestError(ReplicationError):
    """The manifest is malformed or does not belong to the post's creator (permanent)."""


class FetchFailedError(ReplicationError):
    """The content could not be fetched now; try again later."""


class StateError(ReplicationError):
    """The replication state in ``<data>/store/replication.sqlite`` is unusable."""


PERMANENT: tuple[type[ReplicationError], ...] = (CapExceededError, BadManifestError)
"""Errors after which an item is never tried again."""
