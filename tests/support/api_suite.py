"""One API suite for the UI tests' fake peer and for a real daemon (the same test cases).

The browser tests run the page against ``support.fake_api.FakePeer``; that is honest only while
the fake answers as the daemon does. :class:`ApiSuite` holds the cases; a test module subclasses
it and provides the ``api`` fixture, an :class:`HttpApi` on either target:
``tests/unit/webui/test_fake_api_suite.py`` (the fake in-process, served on loopback) and
``tests/integration/peer/test_input_validation.py`` (``TestApiSuiteOnTheDaemon``, on the
session's shared devnet daemon). Every answer is checked against the daemon's OpenAPI document
(``support.http``'s urllib check) and every server-sent event against its ``x-events`` schema,
as it arrives.

The cases cover the routes whose behaviour does not need posts from the network or a chain
trade (a daemon with those costs a second daemon or a transcode): status, health, the
credential, wallet, profile, follow (with its ``follow.new`` event), feed, search, unknown posts.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import secrets
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from support.http import daemon_schema

STREAM_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class HttpApi:
    """A peer's API over HTTP: ``url`` is the UI origin with a trailing slash, ``cli_token``
    the CLI credential, ``me`` the user's address."""

    url: str
    cli_token: str
    me: str

    def request(
        self, method: str, path: str, body: Any = None, *, auth: bool = True
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.cli_token}"} if auth else {}
        data = None
        if method != "GET":
            headers |= {"Origin": self.url.rstrip("/"), "Content-Type": "application/json"}
            data = json.dumps({} if body is None else body).encode()
        request = urllib.request.Request(
            self.url.rstrip("/") + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def get(self, path: str, *, auth: bool = True) -> tuple[int, Any]:
        return self.request("GET", path, auth=auth)

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        return self.request("POST", path, body)

    @contextlib.contextmanager
    def events(self) -> Iterator[EventStream]:
        """The SSE stream (``GET /api/v1/events``), read in a thread while the block runs."""
        parts = urlsplit(self.url)
        assert parts.hostname == "127.0.0.1", self.url
        assert parts.port is not None, self.url
        connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=STREAM_TIMEOUT_S)
        connection.request(
            "GET", "/api/v1/events", headers={"Authorization": f"Bearer {self.cli_token}"}
        )
        response = connection.getresponse()
        assert response.status == 200, response.status
        assert response.getheader("Content-Type") == "text/event-stream"
        stream = EventStream()
        reader = threading.Thread(target=stream.read, args=(response,), daemon=True)
        reader.start()
        try:
            stream.wait_connected()
            yield stream
        finally:
            assert connection.sock is not None
            connection.sock.shutdown(socket.SHUT_RDWR)  # ends the reader's blocking read
            reader.join(STREAM_TIMEOUT_S)
            connection.close()


class EventStream:
    """Server-sent events as they arrive, each checked against its ``x-events`` schema."""

    def __init__(self) -> None:
        self._events: queue.Queue[tuple[str, Any] | BaseException] = queue.Queue()
        self._connected = threading.Event()

    def read(self, response: Any) -> None:
        kind = ""
        try:
            for raw in response:
                line = raw.decode().rstrip("\n")
                if line == ": connected":
                    self._connected.set()
                elif line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    payload = json.loads(line.removeprefix("data: "))
                    daemon_schema().check_event(kind, payload)
                    self._events.put((kind, payload))
        except (OSError, ValueError, AssertionError, http.client.HTTPException) as exc:
            # closed at the end of the block; or bad data, or an event off its schema
            self._events.put(exc)

    def wait_connected(self) -> None:
        assert self._connected.wait(STREAM_TIMEOUT_S), "the event stream did not open"

    def next_of(self, kind: str, **fields: Any) -> dict[str, Any]:
        """The next event of ``kind`` whose payload has ``fields`` (others are skipped)."""
        while True:
            try:
                item = self._events.get(timeout=STREAM_TIMEOUT_S)
            except queue.Empty:
                raise AssertionError(f"no {kind} event with {fields}") from None
            if isinstance(item, BaseException):
                raise AssertionError(f"the event stream failed waiting for {kind}") from item
            got, payload = item
            if got == kind and all(payload.get(k) == v for k, v in fields.items()):
                return dict(payload)


def _address() -> str:
    return "0x" + secrets.token_hex(20)


class ApiSuite:
    """The cases; subclasses provide the ``api`` fixture (an :class:`HttpApi`)."""

    def test_health_and_status_answer(self, api: HttpApi) -> None:
        status, health = api.get("/healthz")
        assert (status, health["ready"]) == (200, True)
        status, body = api.get("/api/v1/status")
        assert status == 200
        assert body["ui_url"] == api.url

    def test_a_request_without_a_credential_is_refused(self, api: HttpApi) -> None:
        status, body = api.get("/api/v1/wallet", auth=False)
        assert (status, body["error"]["code"]) == (403, "missing_session")

    def test_the_wallet_is_the_users(self, api: HttpApi) -> None:
        status, wallet = api.get("/api/v1/wallet")
        assert status == 200
        assert wallet["address"].lower() == api.me.lower()
        assert wallet["state"] == "unlocked"

    def test_the_profile_name_is_kept_and_a_blank_one_refused(self, api: HttpApi) -> None:
        name = f"suite {secrets.token_hex(3)}"
        status, body = api.post("/api/v1/profile", {"name": f"  {name} "})
        assert status == 200
        assert body["name"] == name
        assert api.get("/api/v1/profile")[1]["name"] == name
        status, body = api.post("/api/v1/profile", {"name": "   "})
        assert (status, body["error"]["code"]) == (400, "bad_name")
        assert api.get("/api/v1/profile")[1]["name"] == name

    def test_following_shows_on_the_creator_and_on_the_event_stream(self, api: HttpApi) -> None:
        creator = _address()
        with api.events() as stream:
            assert api.post(f"/api/v1/creators/{creator}/follow", {"on": True}) == (
                200,
                {"following": True},
            )
            event = stream.next_of("follow.new", on=True)
            assert event["creator"].lower() == creator
            assert event["actor"].lower() == api.me.lower()
            status, page = api.get(f"/api/v1/creators/{creator}")
            assert status == 200
            assert (page["address"].lower(), page["following"]) == (creator, True)
            assert api.post(f"/api/v1/creators/{creator}/follow", {"on": False}) == (
                200,
                {"following": False},
            )
            assert stream.next_of("follow.new", on=False)["creator"].lower() == creator
        assert api.get(f"/api/v1/creators/{creator}")[1]["following"] is False

    def test_following_yourself_is_refused(self, api: HttpApi) -> None:
        status, body = api.post(f"/api/v1/creators/{api.me}/follow", {"on": True})
        assert (status, body["error"]["code"]) == (400, "follow_self")

    def test_an_unknown_post_is_404_unknown_post(self, api: HttpApi) -> None:
        post = "0x" + secrets.token_hex(32)
        for path in (f"/api/v1/posts/{post}", f"/api/v1/posts/{post}/comments"):
            status, body = api.get(path)
            assert (status, body["error"]["code"]) == (404, "unknown_post"), path

    def test_feed_and_search_pages(self, api: HttpApi) -> None:
        for path in ("/api/v1/feed", "/api/v1/feed?tab=following", "/api/v1/search?q=a"):
            status, page = api.get(path)
            assert status == 200, path
            assert isinstance(page["items"], list)
        nothing = f"zq{secrets.token_hex(6)}"
        assert api.get(f"/api/v1/search?q={nothing}") == (200, {"items": [], "next": None})
