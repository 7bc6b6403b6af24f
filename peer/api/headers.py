"""Names shared by the HTTP server and its clients (kept import-light for the CLI)."""

SECRET_HEADER = "X-Toktok-Secret"  # noqa: S105 - a header name, not a secret
SESSION_COOKIE = "toktok_session"
