"""The shared ContentStore conformance suite, run against the Kubo backend on js-ipfs.

The suite is ``tests/support/content_store_suite.py``; this folder's ``content_store`` fixture
is the Kubo backend on a real Kubo-RPC-compatible daemon, emptied before every test.
"""

from __future__ import annotations

import pytest
from support.content_store_suite import ContentStoreSuite

pytestmark = [pytest.mark.interop, pytest.mark.timeout(900)]  # first use installs js-ipfs


class TestKubo(ContentStoreSuite):
    """``content_store`` is this folder's Kubo backend fixture."""
