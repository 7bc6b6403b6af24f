"""The Toktok test bed: separate network hosts on one machine (network namespaces on
198.18.0.0/15, no route out), with latency, jitter, loss and bandwidth per host link.

Used by the tests in ``tests/testbed/``, by ``scripts/testbed`` and by benchmarks; it lives at
the top of the repository (not under ``tests/``) because benchmarks never import from tests.
"""

from netbed.bed import Bed, Host, LinkSpec
from netbed.errors import BedError, BedUnavailableError, CommandError, IsolationError

__all__ = [
    "Bed",
    "BedError",
    "BedUnavailableError",
    "CommandError",
    "Host",
    "IsolationError",
    "LinkSpec",
]
