"""Errors of the social layer."""

from __future__ import annotations


class SocialError(Exception):
    """Base of the social layer's errors."""


class ShareLinkError(SocialError):
    """A share link that cannot be read; the message says which part is wrong."""


class AvatarError(SocialError):
    """An avatar image that is refused (type or size)."""


class NotificationStoreError(SocialError):
    """The notification store cannot be opened or written."""
