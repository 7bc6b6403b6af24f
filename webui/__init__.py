"""Toktok's browser app: static assets and the page shell.

The app reads and writes only through ``/api/v1`` and its event stream, and loads media from the
content port. The page shell carries the per-launch API secret in a ``<meta>`` tag; scripts send
it back in the ``X-Toktok-Secret`` header on every state-changing request.
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
