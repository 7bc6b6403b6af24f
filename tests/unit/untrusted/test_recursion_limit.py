"""The daemon's real import set leaves a sane recursion limit, so deep JSON reaching any
third-party json.loads is a RecursionError and never a segfault (py_ecc sets 100,000)."""

from __future__ import annotations

import subprocess
import sys

from tokens.recursion import SANE_RECURSION_LIMIT

PROBE = """
import json, sys
import peer.daemon.app            # the composition root and every service it imports
import peer.cli.main
from peer.cli.main import COMMANDS
from peer.cli.lazy import resolve
for name, module in COMMANDS.items():   # the CLI's lazy imports (web3 among them)
    resolve(module, name)
import web3, eth_account, eth_keyfile, py_ecc   # and the eth packages once more
print(sys.getrecursionlimit())
try:
    json.loads("[" * 70000)
except RecursionError:
    print("RecursionError")
"""


def test_the_daemon_and_cli_import_set_keeps_a_sane_recursion_limit() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=240, check=False
    )
    assert run.returncode == 0, f"exit {run.returncode} (-11 is SIGSEGV): {run.stderr[-2000:]}"
    limit, outcome = run.stdout.split()
    assert int(limit) == SANE_RECURSION_LIMIT
    assert outcome == "RecursionError"
