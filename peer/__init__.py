"""The Toktok daemon, CLI and services.

Importing ``peer`` imports ``tokens`` first, which puts the interpreter's recursion limit back
to its default after the eth packages raise it (``tokens/recursion.py``): every decoder must
hit ``RecursionError`` long before the C stack ends.
"""

import tokens  # noqa: F401 - settles the recursion limit before any eth package is imported
