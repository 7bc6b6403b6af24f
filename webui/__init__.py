"""Toktok's browser app: static assets and the page shell.

The app reads and writes only through ``/api/v1`` and its event stream, and loads media from the
content port. The page shell is served only to a browser holding the session cookie; it carries
the session's CSRF secret in a ``<meta>`` tag, which scripts send back in the ``X-Toktok-Secret``
header on every state-changing request. Any other browser gets the login-help page, which
carries no secret and no script.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path

STATIC_PREFIX = "/static/"


def static_dir() -> Path:
    """Folder of the static assets (served under ``/static/``)."""
    return Path(str(resources.files(__name__).joinpath("static")))


def render_shell(secret: str) -> str:
    """The HTML page every UI route returns, with the per-launch secret embedded."""
    template = (static_dir() / "index.html").read_text(encoding="utf-8")
    return template.replace("{{secret}}", html.escape(secret, quote=True))


def render_login_help(expired: bool = False) -> str:
    """The page served without a session: how to log in (no secret, no script)."""
    template = (static_dir() / "login.html").read_text(encoding="utf-8")
    note = (
        "That login link was already used or has expired (links work once, for ten minutes)."
        if expired
        else "This browser is not logged in to your Toktok peer."
    )
    return template.replace("{{note}}", html.escape(note, quote=True))
