"""Another local user attacking a running Toktok daemon over loopback (stdlib only).

Run as a different uid (``runuser -u nobody -- /usr/bin/python3 other_user.py PLAN``) by
``test_local_users.py``. PLAN is a JSON file: the daemon's UI and content URLs, the private
files of its data dir and their CIDs. It tries everything a local user without the data dir's
files could, and prints one JSON object of what each attempt got back; the test asserts on it.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.error
import urllib.request
from typing import Any

GETS = [
    "/api/v1/wallet",
    "/api/v1/status",
    "/api/v1/profile",
    "/api/v1/storage",
    "/api/v1/events",
    "/api/v1/openapi.json",
    "/api/v1/peers",
    "/api/v1/feed",
]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirect())


def call(
    url: str,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
    limit: int = 1 << 20,
) -> dict[str, Any]:
    """The answer to one request; ``limit`` bytes of body at most (an event stream never
    ends: read its status and headers only)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with OPENER.open(request, timeout=timeout) as response:
            status, head = response.status, response.headers
            raw = response.read(limit) if limit else b""
    except urllib.error.HTTPError as exc:
        status, head, raw = exc.code, exc.headers, exc.read(1 << 20)
    except OSError as exc:
        return {"status": None, "error": str(exc), "body": "", "set_cookie": []}
    return {
        "status": status,
        "body": raw.decode("latin-1"),
        "set_cookie": head.get_all("Set-Cookie") or [],
    }


def harvest(page: dict[str, Any]) -> dict[str, str]:
    """Whatever credential the page handed out: the secret in its <meta>, a Set-Cookie."""
    found: dict[str, str] = {}
    secret = re.search(r'name="toktok-secret" content="([^"]*)"', page["body"])
    if secret and secret.group(1):
        found["X-Toktok-Secret"] = secret.group(1)
    cookies = [c.split(";", 1)[0] for c in page["set_cookie"]]
    if cookies:
        found["Cookie"] = "; ".join(cookies)
    return found


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as fh:
        plan = json.load(fh)
    ui, content = plan["ui"].rstrip("/"), plan["content"].rstrip("/")
    origin = {"Origin": ui}
    page = call(ui + "/")
    loot = harvest(page)
    out: dict[str, Any] = {"page": page, "loot": loot, "gets": {}, "reads": {}, "adds": {}}
    for path in GETS:
        out["gets"][path] = call(ui + path, headers=loot, limit=0 if "events" in path else 1 << 20)
    for name, path in plan["files"].items():
        try:
            with open(path, "rb") as fh:
                out["reads"][name] = fh.read().decode("latin-1")
        except OSError as exc:
            out["reads"][name] = f"refused: {type(exc).__name__}"
        tries = []
        guesses = [{}, {"X-Toktok-Secret": "guess"}, {"Authorization": "Bearer guess"}, loot]
        for extra in guesses:
            for route in ("/api/v1/storage/add", "/api/v1/publish/file"):
                body = {"path": path, "title": "x"}
                tries.append(call(ui + route, "POST", body, {**origin, **extra}))
        out["adds"][name] = tries
    # A CID the store lacks is looked for over bitswap for up to a minute: a few seconds tell
    # whether the gateway has the bytes (it answers at once when it does).
    added = {
        name: json.loads(t["body"])["cid"]
        for name, tries in out["adds"].items()
        for t in tries
        if t["status"] == 200 and "cid" in t["body"]
    }
    cids = {**plan["cids"], **added}
    out["content"] = {name: call(f"{content}/ipfs/{cid}", timeout=5) for name, cid in cids.items()}
    out["login_guess"] = call(ui + "/login?token=guess")
    out["login_links"] = call(ui + "/api/v1/login-links", "POST", {}, {**origin, **loot})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
