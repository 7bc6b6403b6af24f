"""Two real peers on one real devnet: a post published on one reaches the other's feed.

The module shares one pair for its tests (a daemon with a devnet costs seconds to start): A runs
the devnet and is the creator (its token is made once, by :func:`a_token`); B uses A's chain over
RPC with its own wallet, follows A and buys A's token. B never gets a token of its own. Each test
asserts on what it made itself (its own post ids, titles, balances before and after), so the
tests pass in any order and on their own.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.daemon import Daemon, run_cli, spawn_daemon
from support.daemon import eventually as support_eventually
from support.wallets import import_wallet

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


@dataclass
class Pair:
    a: Daemon
    b: Daemon
    root: Path
    started: list[Daemon]
    a_posts: int = 0  # posts A has signed so far (its next post's seq is one more)

    def publish(self, *args: str) -> str:
        """``toktok publish`` on A with ``args`` (``--json`` added); returns the post id."""
        done = run_cli(self.a.data_dir, "publish", *args, "--json")
        assert done.returncode == 0, done.stderr
        self.a_posts += 1
        return str(json.loads(done.stdout)["post_id"])

    def join(self, name: str, key_index: int) -> Daemon:
        """One more peer on A's chain (see :func:`join`), stopped with the pair."""
        peer = join(self.a, self.root, name, key_index)
        self.started.append(peer)
        return peer


def join(a: Daemon, root: Path, name: str, key_index: int) -> Daemon:
    """Start a peer that uses A's chain over RPC with dev wallet ``key_index``, connected to A."""
    chain = client(a).get("/api/v1/status")["chain"]
    env = {
        "TOKTOK_CHAIN_MODE": "rpc",
        "TOKTOK_CHAIN_RPC_URL": chain["rpc_url"],
        "TOKTOK_CHAIN_DEPLOYMENT_FILE": str(a.data_dir / "devnet" / "deployment.json"),
        "TOKTOK_PASSPHRASE": "test passphrase",
    }
    import_wallet(root / name, DEV_PRIVATE_KEYS[key_index], env["TOKTOK_PASSPHRASE"])
    peer = spawn_daemon(root / name, env=env)
    try:
        peer_a = client(a).get("/api/v1/status")["p2p_addrs"][0]
        client(peer).post("/api/v1/peers/connect", {"multiaddr": peer_a})
    except BaseException:
        peer.kill()
        raise
    return peer


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("flow")
    started: list[Daemon] = []
    try:
        a = spawn_daemon(root / "a", env={"TOKTOK_CHAIN_MODE": "devnet"})
        started.append(a)
        b = join(a, root, "b", 5)
        started.append(b)
        yield Pair(a, b, root, started)
    finally:
        for daemon in started:
            daemon.kill()


@pytest.fixture(scope="module")
def a_token(pair: Pair) -> dict[str, Any]:
    """A's creator token, made once for the module (what the API answered)."""
    info: dict[str, Any] = client(pair.a).post("/api/v1/token", {"name": "Ana", "symbol": "ANA"})
    return info


def feed_ids(daemon: Daemon, query: str = "") -> set[str]:
    return {i["id"] for i in client(daemon).get(f"/api/v1/feed{query}")["items"]}


def test_post_published_on_one_peer_reaches_a_follower(pair: Pair, clip: Path) -> None:
    a, b = pair.a, pair.b
    creator = client(a).get("/api/v1/profile")["address"]
    assert client(b).post(f"/api/v1/creators/{creator}/follow", {"on": True}) == {"following": True}
    client(a).post("/api/v1/profile", {"name": "Ana"})
    wait_for_follower(a, b, creator)

    post_id = pair.publish(str(clip), "--title", "Hello fans")
    seq = pair.a_posts

    def seen() -> Any:
        items = client(b).get("/api/v1/feed?tab=following")["items"]
        return [i for i in items if i["id"] == post_id]

    (item,) = eventually(seen)
    assert item["title"] == "Hello fans"
    assert item["creator"] == creator
    assert item["seq"] == seq
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
        eventually(lambda peer=peer: post_id not in feed_ids(peer))


def test_profile_and_creator_page(pair: Pair) -> None:
    b = client(pair.b)  # B never makes a token
    me = b.post("/api/v1/profile", {"name": "Bo"})["address"]
    page = b.get(f"/api/v1/creators/{me}")
    assert page["address"] == me
    assert page["token"] is None
    assert eventually(lambda: b.get("/api/v1/profile")["name"] == "Bo")


def test_bad_requests_get_specific_errors(pair: Pair) -> None:
    c = client(pair.a)
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
    assert not list((pair.a.data_dir / "tmp").glob("uploads/*"))


def test_creator_token_trading_through_the_api(pair: Pair, a_token: dict[str, Any]) -> None:
    c = client(pair.a)
    token = a_token["address"]
    assert a_token["total_supply"] == "0"
    assert c.get("/api/v1/profile")["token"] == token
    me = c.get("/api/v1/profile")["address"]
    # B may hold some of A's token already (the unlock test buys it): measure from here.
    supply = int(c.get(f"/api/v1/tokens/{token}")["total_supply"])
    holders = {
        h["address"]: int(h["balance"]) for h in c.get(f"/api/v1/tokens/{token}/holders")["holders"]
    }
    assert me not in holders, "A never bought its own token before"
    points = len(c.get(f"/api/v1/tokens/{token}/history")["points"])
    quote = c.get(f"/api/v1/tokens/{token}/quote?side=buy&amount=2.5")
    assert quote["amount"] == str(25 * 10**17)
    with pytest.raises(DaemonError) as excinfo:
        c.post(f"/api/v1/tokens/{token}/buy", {"amount": "2.5"})
    assert (excinfo.value.status, excinfo.value.code) == (409, "confirmation_required")
    assert "2.5 tokens" in str(excinfo.value)
    trade = c.post(f"/api/v1/tokens/{token}/buy", {"amount": "2.5", "confirm": True})
    assert trade["cost"] == quote["cost"], "a quote equals the on-chain cost when nothing moved"
    assert c.get(f"/api/v1/tokens/{token}/holders") == {
        "holders": sorted(
            [{"address": a, "balance": str(v)} for a, v in holders.items()]
            + [{"address": me, "balance": str(25 * 10**17)}],
            key=lambda h: -int(h["balance"]),
        )
    }
    sold = c.post(f"/api/v1/tokens/{token}/sell", {"amount": "1", "confirm": True})
    assert int(sold["refund"]) > 0
    full = c.get(f"/api/v1/tokens/{token}/history")
    history = full["points"][points:]
    assert [p["supply"] for p in history] == [str(supply + 25 * 10**17), str(supply + 15 * 10**17)]
    assert [p["side"] for p in history] == ["buy", "sell"]
    assert int(full["start_price"]) > 0  # the curve's price at supply 0
    # the creator's own trades are not earnings; the position is valued by a real quote
    dashboard = c.get("/api/v1/dashboard")
    assert dashboard["token"]["address"] == token
    assert dashboard["earnings"]["own_trades"] >= 2
    position = next(p for p in c.get("/api/v1/portfolio")["positions"] if p["token"] == token)
    assert int(position["cost_basis"]) > 0
    assert int(position["value"]) > 0
    wallet = c.get("/api/v1/wallet")
    assert wallet["address"] == me
    assert int(wallet["tok_balance"]) < 10_000 * 10**18
    with pytest.raises(DaemonError) as excinfo:
        c.post(f"/api/v1/tokens/{token}/buy", {"amount": "-1", "confirm": True})
    assert excinfo.value.code == "bad_amount"


def test_premium_clip_is_encrypted_and_plays_decrypted_for_its_creator(
    pair: Pair, a_token: dict[str, Any], clip: Path
) -> None:
    c = client(pair.a)
    free_id = pair.publish(str(clip), "--title", "Free")
    paid_id = pair.publish(str(clip), "--title", "Paid", "--premium", "--min-balance", "5")
    items = {i["id"]: i for i in c.get("/api/v1/feed")["items"]}
    assert items[paid_id]["premium"] is True
    assert items[paid_id]["min_balance"] == str(5 * 10**18)
    assert items[paid_id]["key_servers"] == c.get("/api/v1/status")["p2p_addrs"]
    paid = c.get(f"/api/v1/posts/{paid_id}/clip")
    plain = c.get(f"/api/v1/posts/{free_id}/clip")
    assert paid["locked"] is False, "the creator holds the key of its own clip"
    media_path = paid["renditions"][0]["url"]
    assert media_path.startswith("/api/v1/clips/")
    creds = client(pair.a).creds
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
            run_cli(pair.a.data_dir, "cat", items[paid_id]["manifest"]).stdout or "{}"
        ).get("renditions", [])
    ]
    assert stored_cid, "the manifest lists encrypted renditions"
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(creds.url.rstrip("/") + media_path, timeout=10)
    assert excinfo.value.code == 403, "decrypted media needs the session cookie"


def test_holder_buys_unlocks_and_plays_a_premium_clip(
    pair: Pair, a_token: dict[str, Any], clip: Path
) -> None:
    a, b = pair.a, pair.b
    creator = client(a).get("/api/v1/profile")["address"]
    assert run_cli(b.data_dir, "follow", creator).returncode == 0
    wait_for_follower(a, b, creator)
    post_id = pair.publish(
        str(clip), "--title", "Paid for holders", "--premium", "--min-balance", "3"
    )  # B holds none of A's token before (only this test buys it for B)
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


def test_a_peer_that_was_offline_catches_up_by_sync(pair: Pair, clip: Path) -> None:
    ids = [pair.publish(str(clip), "--title", title) for title in ("one", "two")]
    c = pair.join("c", 6)  # C starts only now, and does not follow A

    def synced() -> Any:
        items = [i for i in client(c).get("/api/v1/feed")["items"] if i["id"] in ids]
        return len(items) == len(ids) and items

    items = eventually(synced)
    assert [i["title"] for i in items] == ["two", "one"]
