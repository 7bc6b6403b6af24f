"""Fixtures of the daemon integration tests."""

from support.daemon import start_daemon  # noqa: F401 - the shared fixture
