"""Fixtures of the daemon integration tests."""

from support.daemon import start_daemon  # noqa: F401 - the shared fixture
from support.shared_peers import shared_peers  # noqa: F401 - session-wide, see there
