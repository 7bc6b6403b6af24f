"""One policy for a tool a test needs and cannot find (Chromium, Node, Helia, npm, ...).

In CI (``CI`` set to ``true``, as CI services do) a missing tool FAILS the test: a green CI run must
mean every test ran. On a developer's machine the test is skipped, with the reason and the command
that installs the tool, so the rest of the suite stays usable.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    """True when the suite runs in CI (``CI=true``, or ``1``/``yes``)."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def tool_missing(reason: str) -> NoReturn:
    """Fail (in CI) or skip (elsewhere) the current test because a tool it needs is missing.

    ``reason`` names the tool and how to install it, e.g. "node is not installed: run
    scripts/setup".
    """
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a missing tool fails the suite)", pytrace=False)
    pytest.skip(reason)


def require_tool(available: bool, reason: str) -> None:
    """``tool_missing(reason)`` unless ``available``."""
    if not available:
        tool_missing(reason)
