"""Two real peers on one real devnet: a post published on one reaches the other's feed."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.daemon import Daemon, StartDaemon, run_cli
from support.daemon import eventually as support_eventually

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from peer.errors import DaemonError
from peer.feed.gossip import creator_topic
from tokens.devnet import DEV_PRIVATE_KEYS

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
PROPAGATION_TIMEOUT_S = 30


def client(daemon: Daemon) -> DaemonClient:
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None
    return DaemonClient(creds)


def eventually(check: Callable[[], Any], timeout: float = PROPAGATION_TIMEOUT_S) -> Any:
    return support_eventually(check, timeout)


def wait_for_follower(creator_peer: Daemon, follower: Daemon, creator: str) -> None:
    """Until the creator's peer knows the follower subscribed to the creator's gossipsub topic
    (a post published before that would reach the follower only by a later sync)."""
    follower_id = client(follower).get("/api/v1/status")["peer_id"]
    query = urllib.parse.urlencode({"topic": creator_topic(creator)})

    def subscribed() -> bool:
        peers = client(creator_peer).get(f"/api/v1/peers?{query}")["peers"]
        return follower_id in {p["peer_id"] for p in peers}

    eventually(subscribed)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clips")
    import subprocess

    subprocess.run(
        [str(REPO / "scripts" / "sample-media"), "--duration", "1", str(out)],
        check=True,
        capture_output=True,
    )
    return out / "portrait.mp4"


def two_peers(
    start_daemon: StartDaemon, tmp_path: Path, a: Daemon | None = None
) -> tuple[Daemon, Daemon]:
    """A runs the devnet; B uses A's chain over RPC with its own imported wallet."""
    a = a or start_daemon(tmp_path / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
    chain = client(a).get("/api/v1/status")["chain"]
    env = {
        "TOKTOK_CHAIN_MODE": "rpc",
        "TOKTOK_CHAIN_RPC_URL": chain["rpc_url"],
        "TOKTOK_CHAIN_DEPLOYMENT_FILE": str(tmp_path / "a" / "devnet" / "deployment.json"),
        "TOKTOK_PASSPHRASE": "test passphrase",
    }
    key_file = tmp_path / "b-key.txt"
    key_file.write_text(DEV_PRIVATE_KEYS[5])
    imported = run_cli(
        tmp_path / "b", "wallet", "import", "--private-key-file", str(key_file), env=env
    )
    assert imported.returncode == 0, imported.stderr
    b = start_daemon(tmp_path / "b", env=env)
    peer_a = client(a).get("/api/v1/status")["p2p_addrs"][0]
    client(b).post("/api/v1/peers/connect", {"multiaddr": peer_a})
    return a, b


def test_post_published_on_one_peer_reaches_a_follower(
    start_daemon: StartDaemon, tmp_path: Path, clip: Path
) -> None:
    a, b = two_peers(start_daemon, tmp_path)
    creator = client(a).get("/api/v1/profile")["address"]
    assert client(b).post(f"/api/v1/creators/{creator}/follow", {"on": True}) == {"following": True}
    client(a).post("/api/v1/profile", {"name": "Ana"})
    wait_for_follower(a, b, creator)

    published = run_cli(a.data_dir, "publish", str(clip), "--title", "Hello fans", "--json")
    assert published.returncode == 0, published.stderr
    post_id = json.loads(published.stdout)["post_id"]

    def seen() -> Any:
        items = client(b).get("/api/v1/feed?tab=following")["items"]
        return [i for i in items if i["id"] == post_id]

    (item,) = eventually(seen)
    assert item["title"] == "Hello fans"
    assert item["creator"] == creator
    assert item["seq"] == 1
    assert client(b).get(f"/api/v1/posts/{post_id}")["manifest"] == item["manifest"]
    found = client(b).get("/api/v1/search?q=hello")["items"]
    assert [i["id"] for i in found] == [post_id]

    # The creator's peer serves the clip: rendition URLs on its content port, Range reads.
    clip_info = client(a).get(f"/api/v1/posts/{post_id}/clip")
    assert clip_info["premium"] is False
    assert clip_info["locked"] is False
    rendition = clip_info["renditions"][0]
    assert rendition["mime"] == "video/mp4"
    request = urllib.request.Request(rendition["url"], headers={"Range": "bytes=0-99"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206
        assert response.headers["Content-Type"] == "video/mp4"
        assert response.headers["Content-Security-Policy"] == "sandbox"
        head = response.read()
    assert len(head) == 100
    assert head[4:8] == b"ftyp"

    # The follower plays it too: manifest and rendition come from the creator over bitswap.
    remote_clip = eventually(lambda: client(b).get(f"/api/v1/posts/{post_id}/clip"))
    remote_url = remote_clip["renditions"][0]["url"]
    assert remote_url.startswith(client(b).get("/api/v1/status")["content_url"].rstrip("/"))
    with urllib.request.urlopen(rendition["url"], timeout=30) as response:
        original = response.read()
    with urllib.request.urlopen(remote_url, timeout=60) as response:
        assert response.read() == original
    stats = run_cli(b.data_dir, "storage", "stats", "--json")
    assert json.loads(stats.stdout)["bitswap"]["client"]["blocks_received"] > 0, stats.stdout

    # The CLI shows the follower's feed; a like reaches the creator; a delete hides it everywhere.
    shown = run_cli(b.data_dir, "feed", "--following")
    assert "Hello fans" in shown.stdout, shown.stderr
    assert run_cli(b.data_dir, "like", post_id).returncode == 0
    eventually(lambda: client(a).get(f"/api/v1/posts/{post_id}")["likes"] == 1)
    deleted = run_cli(a.data_dir, "delete", post_id)
    assert deleted.returncode == 0, deleted.stderr
    for peer in (a, b):
        eventually(lambda peer=peer: not client(peer).get("/api/v1/feed")["items"])


def test_profile_and_creator_page(start_daemon: StartDaemon, tmp_path: Path) -> None:
    a = start_daemon(tmp_path / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
    me = client(a).post("/api/v1/profile", {"name": "Bo"})["address"]
    page = client(a).get(f"/api/v1/creators/{me}")
    assert page["address"] == me
    assert page["token"] is None
    assert eventually(lambda: client(a).get("/api/v1/profile")["name"] == "Bo")


def test_bad_requests_get_specific_errors(start_daemon: StartDaemon, tmp_path: Path) -> None:
    a = start_daemon(tmp_path / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
    c = client(a)
    for path, status, code in [
        ("/api/v1/posts/0x1234", 400, "bad_post_id"),
        ("/api/v1/posts/0x" + "00" * 32, 404, "unknown_post"),
        ("/api/v1/creators/not-an-address", 400, "bad_address"),
        ("/api/v1/feed?tab=nope", 400, "bad_tab"),
        ("/api/v1/feed?limit=500", 400, "bad_limit"),
        ("/api/v1/publish/nosuchjob", 404, "unknown_job"),
    ]:
        with pytest.raises(DaemonError) as excinfo:
            c.get(path)
        assert (excinfo.value.status, excinfo.value.code) == (status, code), path
    with pytest.raises(DaemonError) as excinfo:
        c.post("/api/v1/publish/file", {"path": "/nonexistent.mp4", "title": "x"})
    assert excinfo.value.code == "bad_request"
    assert not list((tmp_path / "a" / "tmp").glob("uploads/*"))


def test_creator_token_trading_through_the_api(start_daemon: StartDaemon, tmp_path: Path) -> None:
    a = start_daemon(tmp_path / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
    c = client(a)
    info = c.post("/api/v1/token", {"name": "Ana Clips", "symbol": "ANA"})
    token = info["address"]
    assert info["total_supply"] == "0"
    assert c.get("/api/v1/profile")["token"] == token
    quote = c.get(f"/api/v1/tokens/{token}/quote?side=buy&amount=2.5")
    assert quote["amount"] == str(25 * 10**17)
    with pytest.raises(DaemonError) as excinfo:
        c.post(f"/api/v1/tokens/{token}/buy", {"amount": "2.5"})
    assert (excinfo.value.status, excinfo.value.code) == (409, "confirmation_required")
    assert "2.5 tokens" in str(excinfo.value)
    trade = c.post(f"/api/v1/tokens/{token}/buy", {"amount": "2.5", "confirm": True})
    assert trade["cost"] == quote["cost"], "a quote equals the on-chain cost when nothing moved"
    me = c.get("/api/v1/profile")["address"]
    assert c.get(f"/api/v1/tokens/{token}/holders") == {
        "holders": [{"address": me, "balance": str(25 * 10**17)}]
    }
    sold = c.post(f"/api/v1/tokens/{token}/sell", {"amount": "1", "confirm": True})
    assert int(sold["refund"]) > 0
    points = c.get(f"/api/v1/tokens/{token}/history")["points"]
    assert [p["supply"] for p in points] == [str(25 * 10**17), str(15 * 10**17)]
    wallet = c.get("/api/v1/wallet")
    assert wallet["address"] == me
    assert int(wallet["tok_balance"]) < 10_000 * 10**18
    with pytest.raises(DaemonError) as excinfo:
        c.post(f"/api/v1/tokens/{token}/buy", {"amount": "-1", "confirm": True})
    assert excinfo.value.code == "bad_amount"


def test_premium_clip_is_encrypted_and_plays_decrypted_for_its_creator(
    start_daemon: StartDaemon, tmp_path: Path, clip: Path
) -> None:
    a = start_daemon(tmp_path / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
    c = client(a)
    c.post("/api/v1/token", {"name": "Ana", "symbol": "ANA"})
    free = run_cli(a.data_dir, "publish", str(clip), "--title", "Free", "--json")
    premium = run_cli(
        a.data_dir, "publish", str(clip), "--title", "Paid", "--premium", "--min-balance", "5"
    )
    assert free.returncode == 0, free.stderr
    assert premium.returncode == 0, premium.stderr
    items = {i["title"]: i for i in c.get("/api/v1/feed")["items"]}
    assert items["Paid"]["premium"] is True
    assert items["Paid"]["min_balance"] == str(5 * 10**18)
    assert items["Paid"]["key_servers"] == c.get("/api/v1/status")["p2p_addrs"]
    paid = c.get(f"/api/v1/posts/{items['Paid']['id']}/clip")
    plain = c.get(f"/api/v1/posts/{items['Free']['id']}/clip")
    assert paid["locked"] is False, "the creator holds the key of its own clip"
    media_path = paid["renditions"][0]["url"]
    assert media_path.startswith("/api/v1/clips/")
    creds = client(a).creds
    with urllib.request.urlopen(plain["renditions"][0]["url"], timeout=10) as response:
        free_bytes = response.read()
    request = urllib.request.Request(
        creds.url.rstrip("/") + media_path,
        headers={"Cookie": f"toktok_session={creds.cookie}", "Range": "bytes=100-4195"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 206
        assert response.read() == free_bytes[100:4196]
    # The stored premium rendition itself is ciphertext.
    stored_cid = [
        r
        for r in json.loads(
            run_cli(a.data_dir, "cat", items["Paid"]["manifest"]).stdout or "{}"
        ).get("renditions", [])
    ]
    assert stored_cid, "the manifest lists encrypted renditions"
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(creds.url.rstrip("/") + media_path, timeout=10)
    assert excinfo.value.code == 403, "decrypted media needs the session cookie"


def test_holder_buys_unlocks_and_plays_a_premium_clip(
    start_daemon: StartDaemon, tmp_path: Path, clip: Path
) -> None:
    a, b = two_peers(start_daemon, tmp_path)
    creator = client(a).get("/api/v1/profile")["address"]
    client(a).post("/api/v1/token", {"name": "Ana", "symbol": "ANA"})
    assert run_cli(b.data_dir, "follow", creator).returncode == 0
    wait_for_follower(a, b, creator)
    published = run_cli(
        a.data_dir, "publish", str(clip), "--title", "Paid", "--premium", "--min-balance", "3",
        "--json",
    )  # fmt: skip
    assert published.returncode == 0, published.stderr
    post_id = json.loads(published.stdout)["post_id"]
    eventually(lambda: client(b).get(f"/api/v1/posts/{post_id}"))
    clip_b = client(b).get(f"/api/v1/posts/{post_id}/clip")
    assert clip_b["locked"] is True
    creds = client(b).creds
    media_url = creds.url.rstrip("/") + clip_b["renditions"][0]["url"]
    cookie = {"Cookie": f"toktok_session={creds.cookie}"}
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(urllib.request.Request(media_url, headers=cookie), timeout=30)
    assert excinfo.value.code == 402
    needs = json.loads(excinfo.value.read())["requirements"]
    assert int(needs["missing"]) == 3 * 10**18

    plan = client(b).get(f"/api/v1/clips/{post_id}/buy-plan")
    unlocked = client(b).post(
        f"/api/v1/clips/{post_id}/unlock", {"buy": True, "max_cost": plan["max_cost"]}
    )
    assert unlocked["unlocked"] is True
    assert client(b).get(f"/api/v1/posts/{post_id}/clip")["locked"] is False
    ranged = urllib.request.Request(media_url, headers={**cookie, "Range": "bytes=0-1023"})
    with urllib.request.urlopen(ranged, timeout=60) as response:
        assert response.status == 206
        holder_bytes = response.read()
    creds_a = client(a).creds
    own = urllib.request.Request(
        creds_a.url.rstrip("/") + clip_b["renditions"][0]["url"],
        headers={"Cookie": f"toktok_session={creds_a.cookie}", "Range": "bytes=0-1023"},
    )
    with urllib.request.urlopen(own, timeout=30) as response:
        assert holder_bytes == response.read(), "the holder decrypts what the creator sees"
    assert holder_bytes[4:8] == b"ftyp"


def test_a_peer_that_was_offline_catches_up_by_sync(
    start_daemon: StartDaemon, tmp_path: Path, clip: Path
) -> None:
    a = start_daemon(tmp_path / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
    ids = []
    for title in ("one", "two"):
        done = run_cli(a.data_dir, "publish", str(clip), "--title", title, "--json")
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["post_id"])
    _, b = two_peers(start_daemon, tmp_path, a)  # B starts only now, and does not follow A

    def synced() -> Any:
        items = client(b).get("/api/v1/feed")["items"]
        return sorted(i["id"] for i in items) == sorted(ids) and items

    items = eventually(synced)
    assert [i["title"] for i in items] == ["two", "one"]
