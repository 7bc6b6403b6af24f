"""Another local user, the browser login and path routes against a real ``toktok run``.

ARCHITECTURE "Local HTTP surface" and "Threat model" (other local users): a process of another
uid reaches the loopback ports but cannot read the data dir. It must get no secret, no cookie,
no wallet and no file of the data dir, neither from the API nor back from the content port.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.daemon import Daemon, StartDaemon, run_cli, spawn_daemon

from peer.api.headers import SECRET_HEADER, SESSION_COOKIE
from storage import unixfs

pytestmark = pytest.mark.integration

ATTACKER = Path(__file__).with_name("other_user.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # the venv's interpreter lives under /root: nobody cannot run it
PASSPHRASE = {"TOKTOK_PASSPHRASE": "local users test"}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


OPENER = urllib.request.build_opener(NoRedirect())


def fetch(url: str, headers: dict[str, str] | None = None, **kw: Any) -> tuple[int, Any, str]:
    """(status, headers, body text) of a request; redirects are not followed."""
    request = urllib.request.Request(url, headers=headers or {}, **kw)
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


def page_secret(page: str) -> str:
    """The session's CSRF secret the app page carries."""
    return page.split('name="toktok-secret" content="', 1)[1].split('"', 1)[0]


def cid_of(path: Path) -> str:
    importer = unixfs.FileImporter(1)
    importer.write(path.read_bytes())
    root, _ = importer.finish()
    return str(root)


def private_files(data_dir: Path) -> dict[str, Path]:
    keystores = sorted((data_dir / "wallet").glob("*.json"))
    assert keystores, "the wallet was not created"
    return {
        "identity": data_dir / "p2p" / "identity.key",
        "keystore": keystores[0],
        "api": data_dir / "api.json",
        "session": data_dir / "session.json",
    }


@pytest.fixture(scope="module")
def owned_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One owner's daemon with a wallet, shared by the module's tests: none of them changes
    what another checks (they add only files outside the data dir, and only the browser test
    uses the login link)."""
    data_dir = tmp_path_factory.mktemp("owner") / "peer"
    created = run_cli(data_dir, "wallet", "create", env=PASSPHRASE)
    assert created.returncode == 0, created.stderr
    daemon = spawn_daemon(data_dir, env=PASSPHRASE)
    try:
        yield daemon
    finally:
        daemon.kill()


@pytest.fixture
def nobody_dir() -> Iterator[Path]:
    """A folder the other user can read (pytest's tmp dirs are private to root)."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs root and runuser to act as another uid")
    folder = Path(tempfile.mkdtemp(prefix="toktok-other-user-"))
    os.chmod(folder, 0o755)  # noqa: S103 - the other user must read the script
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def test_another_uid_gets_no_secret_no_cookie_no_wallet_no_file(
    owned_daemon: Daemon, nobody_dir: Path
) -> None:
    daemon = owned_daemon
    creds = json.loads((daemon.data_dir / "api.json").read_text())
    files = private_files(daemon.data_dir)
    plan = {
        "ui": creds["url"],
        "content": creds["content_url"],
        "files": {name: str(path) for name, path in files.items()},
        "cids": {name: cid_of(path) for name, path in files.items()},
    }
    script = nobody_dir / "other_user.py"
    shutil.copy(ATTACKER, script)
    (nobody_dir / "plan.json").write_text(json.dumps(plan))
    for path in (script, nobody_dir / "plan.json"):
        os.chmod(path, 0o644)
    ran = subprocess.run(
        [
            "runuser",
            "-u",
            "nobody",
            "--",
            SYSTEM_PYTHON,
            str(script),
            str(nobody_dir / "plan.json"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout)
    everything = ran.stdout
    for value in (creds["secret"], creds["cookie"], creds["cli_token"]):
        assert value not in everything, "a credential reached the other user"
    secret_bytes = {name: path.read_bytes().decode("latin-1") for name, path in files.items()}
    for name, text in secret_bytes.items():
        assert text not in everything, f"the other user got the bytes of {name}"

    assert seen["loot"] == {}, "the page handed out a credential"
    page = seen["page"]
    assert page["status"] == 200
    assert "toktok open" in page["body"]
    assert "toktok-secret" not in page["body"]
    assert page["set_cookie"] == []
    for path, answer in seen["gets"].items():
        assert answer["status"] == 403, (path, answer)
        assert json.loads(answer["body"])["error"]["code"] == "missing_session", path
    for name, answer in seen["reads"].items():
        assert answer.startswith("refused: PermissionError"), name
    for name, tries in seen["adds"].items():
        assert [t["status"] for t in tries] == [403] * len(tries), name
    for name, answer in seen["content"].items():
        # not in the store: 404, or still looked for on the network when the client gave up
        assert answer["status"] in (404, 504, None), (name, answer)
    assert seen["login_guess"]["status"] == 403
    assert seen["login_guess"]["set_cookie"] == []
    assert seen["login_links"]["status"] == 403
    # and the owner's store holds none of them (nothing was added behind the refusals)
    pins = run_cli(daemon.data_dir, "pin", "ls", "--json")
    assert pins.returncode == 0, pins.stderr
    for name, cid in plan["cids"].items():
        assert cid not in pins.stdout, name


def test_paths_inside_the_data_dir_are_refused_even_with_the_cli_credential(
    owned_daemon: Daemon, tmp_path: Path
) -> None:
    daemon = owned_daemon
    files = private_files(daemon.data_dir)
    link = tmp_path / "innocent.mp4"
    link.symlink_to(files["identity"])
    headers = {**daemon.cli_headers(), "Origin": daemon.url.rstrip("/")}
    headers["Content-Type"] = "application/json"
    for path in [*files.values(), link, daemon.data_dir / "store" / ".." / "api.json"]:
        for route in ("api/v1/storage/add", "api/v1/publish/file"):
            body = json.dumps({"path": str(path), "title": "t"}).encode()
            status, _, text = fetch(daemon.url + route, headers, data=body, method="POST")
            assert status == 403, (route, path)
            assert json.loads(text)["error"]["code"] == "path_in_data_dir", (route, path)
    # the CLI refuses them too, with the same clear message, daemon running or not
    added = run_cli(daemon.data_dir, "add", str(link))
    assert added.returncode == 1
    assert "inside the data dir" in added.stderr
    outside = tmp_path / "note.txt"
    outside.write_text("a file the owner chose to add")
    added = run_cli(daemon.data_dir, "add", str(outside), "--json")
    assert added.returncode == 0, added.stderr


def test_the_browser_cookie_cannot_use_path_routes(owned_daemon: Daemon, tmp_path: Path) -> None:
    daemon = owned_daemon
    status, head, _ = fetch(daemon.login_url)
    assert status == 303
    cookie = head["Set-Cookie"].split(";", 1)[0]
    secret = page_secret(fetch(daemon.url, {"Cookie": cookie})[2])
    outside = tmp_path / "clip.mp4"
    outside.write_bytes(b"not really a clip")
    browser = {
        "Cookie": cookie,
        SECRET_HEADER: secret,
        "Origin": daemon.url.rstrip("/"),
        "Content-Type": "application/json",
    }
    for route in ("api/v1/storage/add", "api/v1/publish/file", "api/v1/login-links"):
        body = json.dumps({"path": str(outside), "title": "t"}).encode()
        status, _, text = fetch(daemon.url + route, browser, data=body, method="POST")
        assert status == 403, route
        assert json.loads(text)["error"]["code"] == "cli_only", route
    # the same session is enough for what the UI does
    assert fetch(daemon.url + "api/v1/status", {"Cookie": cookie})[0] == 200


def test_login_link_works_once_and_the_session_survives_a_restart(
    start_daemon: StartDaemon, tmp_path: Path
) -> None:
    data_dir = tmp_path / "peer"
    first = start_daemon(data_dir)
    status, head, _ = fetch(first.login_url)
    assert status == 303
    assert head["Location"] == "/"
    set_cookie = head["Set-Cookie"]
    assert "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie
    cookie = set_cookie.split(";", 1)[0]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    status, head, _ = fetch(first.login_url)
    assert status == 403, "a login link works once"
    assert "Set-Cookie" not in head
    opened = run_cli(data_dir, "open")
    assert opened.returncode == 0, opened.stderr
    fresh = opened.stdout.strip()
    assert fresh.startswith(first.url + "login?token=")
    assert fetch(fresh)[0] == 303
    assert fetch(fresh)[0] == 403
    page = fetch(first.url, {"Cookie": cookie})[2]
    assert 'name="toktok-secret"' in page

    assert first.stop() == 0
    second = start_daemon(data_dir)
    # the tab of the first launch keeps working: same cookie, same secret in the page
    assert fetch(second.url + "api/v1/status", {"Cookie": cookie})[0] == 200
    assert page_secret(fetch(second.url, {"Cookie": cookie})[2]) == page_secret(page)
    assert fetch(fresh.replace(first.url, second.url))[0] == 403  # no token outlives a launch
