"""Fixtures of the hostile-JSON integration tests."""

from support.daemon import start_daemon  # noqa: F401 - the shared fixture
