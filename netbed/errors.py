"""Errors of the test bed."""

from __future__ import annotations


class BedError(Exception):
    """The test bed cannot do what was asked."""


class BedUnavailableError(BedError):
    """Network namespaces cannot be created here (not root, or no ``ip``)."""


class IsolationError(BedError):
    """The bed would reach outside 198.18.0.0/15: it refuses to start anything."""


class CommandError(BedError):
    """A system command (``ip``, ``tc``) failed."""
