"""The interpreter's recursion limit, put back after the eth packages raise it.

``py_ecc`` (imported by ``eth_keyfile``, hence by eth-account and web3) runs
``sys.setrecursionlimit(100000)`` when it is first imported. With that limit CPython's C JSON
decoder no longer stops with ``RecursionError`` on deeply nested input: it overflows the C
stack at about 65,600 levels and the process dies with SIGSEGV. :func:`settle_recursion_limit`
imports ``py_ecc`` first, so its one-time side effect has already happened and no later
(lazy) import of web3 can raise the limit again, then sets the interpreter's default back.

It runs when ``tokens`` is imported and ``peer`` imports ``tokens`` first thing, so every
Toktok process (daemon, CLI, helpers) runs with a sane limit; the composition root and the CLI
entry call it again. ``tokens`` may not import ``storage`` and so cannot use its JSON decoder:
chain RPC answers are protected by this limit plus a response size cap (``tokens.rpc``).
"""

from __future__ import annotations

import sys
from typing import Final

SANE_RECURSION_LIMIT: Final = 1000
"""CPython's default: deep enough for every library we use, far from the C stack's end."""


def settle_recursion_limit() -> None:
    """Import ``py_ecc`` (once) and put the recursion limit back to the default."""
    import py_ecc  # noqa: F401 - run its setrecursionlimit(100000) now, not later

    sys.setrecursionlimit(SANE_RECURSION_LIMIT)
