"""A small synchronous client for the running daemon's API (used by CLI commands).

It authenticates with the CLI credential, ``Authorization: Bearer <cli_token>`` read from
``api.json`` (mode 0600) in the data dir, and sends the Origin of the daemon's loopback URL on
state-changing requests. Only this credential may use routes that take a local path.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from peer.datadir import ApiCredentials
from peer.errors import DaemonError


class DaemonClient:
    """JSON requests to one running daemon."""

    def __init__(self, creds: ApiCredentials, timeout: float = 30.0) -> None:
        self.creds = creds
        self._timeout = timeout
        parts = urlsplit(creds.url)
        self._origin = f"{parts.scheme}://{parts.netloc}"

    def get(self, path: str) -> Any:
        return self._request("GET", path, None)

    def post(self, path: str, body: Any = None) -> Any:
        return self._request("POST", path, {} if body is None else body)

    def _request(self, method: str, path: str, body: Any) -> Any:
        url = self._origin + path
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {self.creds.cli_token}",
        }
        data = None
        if method != "GET":
            headers.update({"Origin": self._origin, "Content-Type": "application/json"})
            data = json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback URL from api.json
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            message, code = _error_of(exc)
            raise DaemonError(message, exc.code, code) from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DaemonError(f"cannot reach the daemon at {self.creds.url}: {exc}") from exc


def _error_of(exc: urllib.error.HTTPError) -> tuple[str, str | None]:
    """(message, machine code) of an error response."""
    try:
        body = json.loads(exc.read())
        return str(body["error"]["message"]), str(body["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return f"the daemon answered {exc.code} {exc.reason}", None
