"""The shared ContentStore conformance suite, run against the Kubo backend on js-ipfs.

The suite lives with the other implementations' fixtures in
``tests/integration/storage/test_content_store_conformance.py``; its test functions are loaded
here unchanged and get this folder's ``content_store`` fixture (the Kubo backend on a real
Kubo-RPC-compatible daemon, emptied before every test).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = [pytest.mark.interop, pytest.mark.timeout(900)]  # first use installs js-ipfs

_SUITE = Path(__file__).resolve().parents[2] / "integration" / "storage"
_SUITE_FILE = _SUITE / "test_content_store_conformance.py"
_spec = importlib.util.spec_from_file_location("content_store_conformance", _SUITE_FILE)
assert _spec is not None
assert _spec.loader is not None
_suite = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_suite)

globals().update({name: obj for name, obj in vars(_suite).items() if name.startswith("test_")})
