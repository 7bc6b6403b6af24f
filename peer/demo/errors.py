"""Errors of the demo launcher (``scripts/run``'s demo creator peer).

Exception tree::

    DemoError                 anything that keeps the demo from running (the user's peer runs on)
    ├── DemoMediaError        the sample clips could not be made (ffmpeg missing or failing)
    ├── DemoPeerError         the demo creator peer did not start, or stopped
    └── DemoSetupError        the demo creator could not be set up (wallet, profile, token, posts)
"""

from __future__ import annotations


class DemoError(Exception):
    """The demo could not run; the message says what failed and where to look."""


class DemoMediaError(DemoError):
    """The sample clips could not be made."""


class DemoPeerError(DemoError):
    """The demo creator peer did not start or stopped unexpectedly."""


class DemoSetupError(DemoError):
    """Setting up the demo creator (wallet, profile, token, posts) failed."""
