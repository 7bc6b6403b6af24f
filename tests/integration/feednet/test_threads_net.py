"""Issue 23 §1 with the three real daemons of this folder on one devnet (see conftest.py).

B comments on A's post and A stores it (and C, a follower of A reached only through B); A hides
it and B and C stop showing it; a holders-only post refuses a non-holder's comment (B's own, and
one a raw peer relays) and accepts B's after B buys A's token. The fake holdings port of the unit
tests answers like the chain adapter on the same devnet.

Named so that it runs after the folder's other modules: its posts on A would shift the log
positions those modules expect of A's first posts.
"""

from __future__ import annotations

import asyncio
import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from support.daemon import run_cli
from support.feednet import Net, api, daemon_peer_id, eventually, has_post, publish_on_a

from peer.errors import DaemonError
from peer.feed.builders import sign_record
from peer.feed.errors import RegistryUnavailable
from peer.feed.gossip import comment_topic
from peer.feed.holdings import ChainHoldings
from peer.feed.ports import Holdings
from peer.feed.records import ZERO_ID, Comment
from peer.feed.testing import FakeHoldings
from peer.feed.wire import encode
from tokens.client import ChainClient, ClientOptions
from tokens.deployment import load_deployment
from tokens.ownership import OwnershipChecker

pytestmark = pytest.mark.integration
TOKEN = 10**18


def comments(net: Net, peer: str, post_id: str, hidden: bool = False) -> dict[str, Any]:
    query = "?hidden=1" if hidden else ""
    page: dict[str, Any] = api(getattr(net, peer)).get(f"/api/v1/posts/{post_id}/comments{query}")
    return page


def texts(net: Net, peer: str, post_id: str) -> list[str]:
    return [c["text"] for c in comments(net, peer, post_id)["items"]]


def subscribed(net: Net, peer: str, topic: str, *others: str) -> bool:
    listed = api(getattr(net, peer)).get(f"/api/v1/peers?topic={topic}")["peers"]
    wanted = {daemon_peer_id(getattr(net, name)) for name in others}
    return wanted <= {p["peer_id"] for p in listed}


def cli_json(net: Net, peer: str, *args: str) -> Any:
    done = run_cli(getattr(net, peer).data_dir, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_b_comments_a_stores_it_and_hides_it_and_b_and_c_stop_showing_it(net: Net) -> None:
    topic = comment_topic(net.a_creator)
    assert api(net.c).post(f"/api/v1/creators/{net.a_creator}/follow", {"on": True})["following"]
    post_id = publish_on_a(net, "comment on me")
    for peer in (net.b, net.c):
        eventually(partial(has_post, peer, post_id), what="the post on B and C")
    eventually(partial(subscribed, net, "b", topic, "a", "c"), what="A and C on the topic")
    comment_id = cli_json(net, "b", "comment", post_id, "Great clip ✨")["id"]
    for peer in ("a", "b", "c"):
        eventually(lambda p=peer: texts(net, p, post_id) == ["Great clip ✨"], what=peer)
    listed = cli_json(net, "a", "comments", post_id)
    assert [(c["id"], c["author"], c["parent"]) for c in listed["items"]] == [
        (comment_id, api(net.b).get("/api/v1/profile")["address"], None)
    ]
    eventually(partial(subscribed, net, "a", topic, "b"), what="B on A's comment topic")
    assert cli_json(net, "a", "comment-hide", comment_id)["hidden"] is True
    for peer in ("a", "b", "c"):
        eventually(lambda p=peer: texts(net, p, post_id) == [], what=f"hidden on {peer}")
    assert [c["hidden"] for c in comments(net, "c", post_id, hidden=True)["items"]] == [True]
    with pytest.raises(DaemonError) as refused:
        api(net.b).post(f"/api/v1/comments/{comment_id}/hide", {"hidden": False})
    assert (refused.value.status, refused.value.code) == (403, "not_your_post")


def _comment_on_b(net: Net, post_id: str, text: str) -> bool:
    try:
        api(net.b).post(f"/api/v1/posts/{post_id}/comments", {"text": text})
    except DaemonError as exc:
        if exc.code != "not_holder":
            raise
        return False
    return True


def test_holders_only_refuses_a_non_holder_and_accepts_after_a_buy(net: Net) -> None:
    post_id = publish_on_a(net, "holders only")
    eventually(partial(has_post, net.b, post_id), what="the post on B")
    cli_json(net, "a", "comment-policy", post_id, "--min-tokens", "1")
    eventually(lambda: comments(net, "b", post_id)["min_balance"] == str(TOKEN), what="policy")
    with pytest.raises(DaemonError) as refused:
        api(net.b).post(f"/api/v1/posts/{post_id}/comments", {"text": "let me in"})
    assert (refused.value.status, refused.value.code) == (402, "not_holder")
    # A non-holder's comment relayed by the raw peer M (connected to B only): Ignored by B.
    outsider = Comment(net.x_creator, bytes.fromhex(post_id[2:]), ZERO_ID, "outsider", 1)
    net.m.publish(
        comment_topic(net.a_creator), encode(sign_record(outsider, net.domain, net.x_key))
    )
    trade = api(net.b).post(f"/api/v1/tokens/{net.a_token}/buy", {"amount": "1", "confirm": True})
    assert trade["amount"] == str(TOKEN)
    eventually(partial(_comment_on_b, net, post_id, "bought in"), what="the holding window")
    for peer in ("a", "b"):
        eventually(lambda p=peer: texts(net, p, post_id) == ["bought in"], what=peer)
    assert "outsider" not in texts(net, "b", post_id)


def test_the_fake_holdings_port_answers_like_the_chain(net: Net) -> None:
    """The conformance cases of ``Holdings``, run on ``ChainHoldings`` over the devnet and on
    ``FakeHoldings`` set to the same balances."""
    deployment = load_deployment(Path(net.rpc_env["TOKTOK_CHAIN_DEPLOYMENT_FILE"]))

    async def run() -> None:
        options = ClientOptions(rpc_url=net.rpc_env["TOKTOK_CHAIN_RPC_URL"], deployment=deployment)
        async with ChainClient(options, Account.from_key(net.x_key)) as client:
            chain = ChainHoldings(OwnershipChecker(client, lag=2))
            fake = FakeHoldings()
            token = net.a_token
            before = await client.balance_of(token, net.x_creator)
            fake.set(token, net.x_creator, before)
            for port in (chain, fake):
                await _check(port, token, net.x_creator, before)
            await client.buy(token, 2 * TOKEN)
            fake.set(token, net.x_creator, before + 2 * TOKEN)
            head = await client.block_number()
            await _mined(client, head + 3)  # the holding window passes
            for port in (chain, fake):
                await _check(port, token, net.x_creator, before + 2 * TOKEN)
        dead = ClientOptions(rpc_url="http://127.0.0.1:9/", deployment=deployment)
        async with ChainClient(dead) as down_client:
            fake.down = True
            for port in (ChainHoldings(OwnershipChecker(down_client, lag=2)), fake):
                with pytest.raises(RegistryUnavailable):
                    await port.holds(token, net.x_creator, 1)

    asyncio.run(run())


async def _mined(client: ChainClient, block: int) -> None:
    for _ in range(100):
        if await client.block_number() >= block:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"block {block} was not mined")


async def _check(port: Holdings, token: str, holder: str, balance: int) -> None:
    assert await port.holds(token, holder, 0)
    assert await port.holds(token, holder, balance)
    assert not await port.holds(token, holder, balance + 1)
    assert await port.holds(token, holder.lower(), balance), "addresses in any case"
