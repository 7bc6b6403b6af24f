"""The feed gossip service over the p2p fake: topics, penalties, forks, rate limits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.eip712 import Domain
from peer.feed.gossip import (
    TOPIC_LIKES,
    TOPIC_POSTS,
    TOPIC_PROFILES,
    TOPIC_SOCIAL,
    FeedGossip,
    FeedGossipOptions,
    RecordRejected,
    creator_topic,
    topics_for,
)
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.ratelimit import Rate
from peer.feed.records import ZERO_ADDRESS, Follow, Like, LikeV2, Profile
from peer.feed.signatures import address_of
from peer.feed.testing import FakeTokenRegistry
from peer.feed.validation import Validator
from peer.feed.wire import Envelope, encode
from peer.p2p.testing import FakeHost, FakeNetwork

MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
TOKENED_KEY = keccak(b"tokened creator")
PLAIN_KEY = keccak(b"creator without token")
TOKEN = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"


@dataclass
class Node:
    host: FakeHost
    index: FeedIndex
    gossip: FeedGossip


class Swarm:
    def __init__(self, tmp: Path, domain: Domain) -> None:
        self.tmp = tmp
        self.domain = domain
        self.network = FakeNetwork()
        self.registry = FakeTokenRegistry({address_of(TOKENED_KEY): TOKEN})
        self.nodes: list[Node] = []
        self.raw: list[FakeHost] = []

    async def node(self, options: FeedGossipOptions | None = None) -> Node:
        host = self.network.host()
        await host.start()
        index = FeedIndex(IndexOptions(self.tmp / f"n{len(self.nodes)}" / "feed.sqlite"))
        await index.start()
        gossip = FeedGossip(
            host, Validator(self.domain, self.registry, index.view), index.writes, options
        )
        await gossip.start()
        node = Node(host, index, gossip)
        self.nodes.append(node)
        return node

    async def raw_host(self, *topics: str) -> FakeHost:
        """A peer that publishes arbitrary bytes (an attacker or a buggy client)."""
        host = self.network.host()
        await host.start()
        for topic in topics:
            await host.subscribe(topic)
        self.raw.append(host)
        return host

    async def close(self) -> None:
        for node in self.nodes:
            await node.gossip.close()
            await node.host.stop()
            await node.index.close()
        for host in self.raw:
            await host.stop()


@pytest.fixture
async def swarm(tmp_path: Path, domain: Domain) -> AsyncIterator[Swarm]:
    swarm = Swarm(tmp_path, domain)
    yield swarm
    await swarm.close()


async def connect(a: FakeHost, b: FakeHost) -> None:
    await a.connect(b.addrs[0])


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + 20  # generous: only a failing case waits it out
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)


def _now() -> int:
    return int(time.time())


async def test_post_with_token_spreads_on_the_global_topic(swarm: Swarm, domain: Domain) -> None:
    a, b, c = await swarm.node(), await swarm.node(), await swarm.node()
    await connect(a.host, b.host)
    await connect(b.host, c.host)
    envelope, post_id = CreatorLog(domain, TOKENED_KEY, TOKEN).next_post(MANIFEST, "hi", _now())
    await a.gossip.publish(envelope)
    assert await a.index.view.has_record(post_id)
    await until(lambda: c.index.view.has_record(post_id), "the post to reach c through b")
    assert await b.index.view.has_record(post_id)
    assert b.gossip.stats["accept"] == 1


async def test_post_without_token_only_reaches_followers(swarm: Swarm, domain: Domain) -> None:
    a, follower, other = await swarm.node(), await swarm.node(), await swarm.node()
    await connect(a.host, follower.host)
    await connect(a.host, other.host)
    log = CreatorLog(domain, PLAIN_KEY)
    await follower.gossip.follow_creator(log.creator)
    assert creator_topic(log.creator) in follower.gossip.topics
    envelope, post_id = log.next_post(MANIFEST, "for my followers", _now())
    await a.gossip.publish(envelope)
    await until(lambda: follower.index.view.has_record(post_id), "the follower to get the post")
    await settle()
    assert not await other.index.view.has_record(post_id)
    await follower.gossip.unfollow_creator(log.creator)
    assert creator_topic(log.creator) not in follower.gossip.topics


async def test_forged_post_is_rejected_penalised_and_not_forwarded(
    swarm: Swarm, domain: Domain
) -> None:
    b, c = await swarm.node(), await swarm.node()
    attacker = await swarm.raw_host(TOPIC_POSTS)
    await connect(attacker, b.host)
    await connect(b.host, c.host)
    envelope, post_id = CreatorLog(domain, TOKENED_KEY, TOKEN).next_post(MANIFEST, "x", _now())
    forged = sign_record(envelope.record, domain, PLAIN_KEY)
    await attacker.publish(TOPIC_POSTS, encode(forged))
    await until(
        lambda: _true(b.gossip.stats["reject:bad-signature"] == 1), "b to reject the forgery"
    )
    assert await b.host.peer_score(attacker.peer_id, TOPIC_POSTS) < 0
    assert not await b.index.view.has_record(post_id)
    await settle()
    assert not await c.index.view.has_record(post_id)


async def _true(value: bool) -> bool:
    return value


@pytest.mark.parametrize(
    ("topic", "make"),
    [
        (TOPIC_POSTS, "profile"),
        (TOPIC_PROFILES, "post"),
        (TOPIC_SOCIAL, "post"),
        (TOPIC_POSTS, "plain-post"),
        ("creator-of-someone-else", "post"),
    ],
)
async def test_record_on_a_topic_that_does_not_carry_it_is_rejected(
    swarm: Swarm, domain: Domain, topic: str, make: str
) -> None:
    b = await swarm.node()
    if topic == "creator-of-someone-else":
        topic = creator_topic(address_of(PLAIN_KEY))
        await b.gossip.follow_creator(address_of(PLAIN_KEY))
    attacker = await swarm.raw_host(topic)
    await connect(attacker, b.host)
    envelope: Envelope
    if make == "profile":
        profile = Profile(address_of(TOKENED_KEY), "n", "", TOKEN, (), 1, _now())
        envelope = sign_record(profile, domain, TOKENED_KEY)
    elif make == "plain-post":
        envelope, _ = CreatorLog(domain, PLAIN_KEY).next_post(MANIFEST, "x", _now())
    else:
        envelope, _ = CreatorLog(domain, TOKENED_KEY, TOKEN).next_post(MANIFEST, "x", _now())
    await attacker.publish(topic, encode(envelope))
    await until(
        lambda: _true(any(k.startswith("reject:wrong-topic") for k in b.gossip.stats)),
        "a wrong-topic reject",
    )
    assert await b.host.peer_score(attacker.peer_id, topic) < 0


async def test_fork_is_stored_but_not_forwarded(swarm: Swarm, domain: Domain) -> None:
    b, c = await swarm.node(), await swarm.node()
    creator = await swarm.raw_host(TOPIC_POSTS)
    await connect(creator, b.host)
    await connect(b.host, c.host)
    first, first_id = CreatorLog(domain, TOKENED_KEY, TOKEN).next_post(MANIFEST, "A", _now())
    second, second_id = CreatorLog(domain, TOKENED_KEY, TOKEN).next_post(MANIFEST, "B", _now())
    await creator.publish(TOPIC_POSTS, encode(first))
    await until(lambda: c.index.view.has_record(first_id), "the first post to reach c")
    await creator.publish(TOPIC_POSTS, encode(second))
    await until(lambda: b.index.view.has_record(second_id), "b to store the fork")
    info = await b.index.queries.creator_info(address_of(TOKENED_KEY))
    assert info is not None
    assert info.forked
    assert b.gossip.stats["ignore:fork"] == 1
    assert await b.host.peer_score(creator.peer_id, TOPIC_POSTS) == 0
    await settle()
    assert not await c.index.view.has_record(second_id)


async def test_creator_rate_limit_drops_the_excess_without_penalty(
    swarm: Swarm, domain: Domain
) -> None:
    limits = FeedGossipOptions(per_creator=Rate(rate=0.001, burst=3))
    b = await swarm.node(limits)
    sender = await swarm.raw_host(TOPIC_POSTS)
    await connect(sender, b.host)
    log = CreatorLog(domain, TOKENED_KEY, TOKEN)
    for i in range(5):
        envelope, _ = log.next_post(MANIFEST, f"burst {i}", _now())
        await sender.publish(TOPIC_POSTS, encode(envelope))
    await until(lambda: _true(b.gossip.stats["ignore:rate-creator"] == 2), "two rate drops")
    await until(lambda: _true(b.gossip.stats["accept"] == 3), "three stored posts")
    page = await b.index.queries.creator(log.creator)
    assert len(page.items) == 3
    assert await b.host.peer_score(sender.peer_id, TOPIC_POSTS) == 0


async def test_peer_rate_limit_applies_per_forwarding_peer(swarm: Swarm, domain: Domain) -> None:
    limits = FeedGossipOptions(per_peer=Rate(rate=0.001, burst=2))
    b = await swarm.node(limits)
    noisy, quiet = await swarm.raw_host(TOPIC_SOCIAL), await swarm.raw_host(TOPIC_SOCIAL)
    await connect(noisy, b.host)
    await connect(quiet, b.host)
    actor = address_of(PLAIN_KEY)
    for i in range(4):
        follow = Follow(actor, address_of(keccak(f"c{i}".encode())), True, _now())
        await noisy.publish(TOPIC_SOCIAL, encode(sign_record(follow, domain, PLAIN_KEY)))
    follow = Follow(actor, address_of(TOKENED_KEY), True, _now())
    await quiet.publish(TOPIC_SOCIAL, encode(sign_record(follow, domain, PLAIN_KEY)))
    await until(lambda: _true(b.gossip.stats["accept"] == 3), "three accepted follows")
    assert b.gossip.stats["ignore:rate-peer"] == 2


async def test_records_of_blocked_authors_are_dropped(swarm: Swarm, domain: Domain) -> None:
    b = await swarm.node()
    sender = await swarm.raw_host(TOPIC_POSTS)
    await connect(sender, b.host)
    await b.index.writes.block(address_of(TOKENED_KEY))
    envelope, post_id = CreatorLog(domain, TOKENED_KEY, TOKEN).next_post(MANIFEST, "x", _now())
    await sender.publish(TOPIC_POSTS, encode(envelope))
    await until(lambda: _true(b.gossip.stats["ignore:blocked"] == 1), "the block to apply")
    assert not await b.index.view.has_record(post_id)


async def test_undecodable_message_is_rejected(swarm: Swarm) -> None:
    b = await swarm.node()
    sender = await swarm.raw_host(TOPIC_PROFILES)
    await connect(sender, b.host)
    await sender.publish(TOPIC_PROFILES, b"\x00garbage")
    await until(lambda: _true(b.gossip.stats["reject:undecodable"] == 1), "a reject")
    assert await b.host.peer_score(sender.peer_id, TOPIC_PROFILES) < 0


async def test_profiles_and_social_records_travel_on_their_topics(
    swarm: Swarm, domain: Domain
) -> None:
    a, b = await swarm.node(), await swarm.node()
    await connect(a.host, b.host)
    profile = Profile(address_of(PLAIN_KEY), "Plain", "", ZERO_ADDRESS, (), 1, _now())
    follow = Follow(address_of(PLAIN_KEY), address_of(TOKENED_KEY), True, _now())
    await a.gossip.publish(sign_record(profile, domain, PLAIN_KEY))
    await a.gossip.publish(sign_record(follow, domain, PLAIN_KEY))
    await until(lambda: b.index.view.has_record(_id(domain, follow)), "the follow to arrive")
    await until(
        lambda: _true(b.gossip.stats["accept"] == 2), "the profile and the follow to arrive"
    )
    assert await b.index.view.profile_version(address_of(PLAIN_KEY)) == 1


def _id(domain: Domain, record: Follow) -> bytes:
    from peer.feed.eip712 import digest

    return digest(record, domain)


async def test_publishing_an_invalid_record_raises_and_sends_nothing(
    swarm: Swarm, domain: Domain
) -> None:
    a, b = await swarm.node(), await swarm.node()
    await connect(a.host, b.host)
    envelope, post_id = CreatorLog(domain, PLAIN_KEY, TOKEN).next_post(MANIFEST, "x", _now())
    with pytest.raises(RecordRejected, match="wrong-token"):
        await a.gossip.publish(envelope)
    await settle()
    assert not await a.index.view.has_record(post_id)
    assert not await b.index.view.has_record(post_id)


async def test_stored_callback_sees_new_records_once(swarm: Swarm, domain: Domain) -> None:
    seen: list[bytes] = []
    host = swarm.network.host()
    await host.start()
    swarm.raw.append(host)
    index = FeedIndex(IndexOptions(swarm.tmp / "cb" / "feed.sqlite"))
    await index.start()
    gossip = FeedGossip(
        host,
        Validator(domain, swarm.registry, index.view),
        index.writes,
        on_stored=lambda _env, record_id, _result: seen.append(record_id),
    )
    envelope, post_id = CreatorLog(domain, PLAIN_KEY).next_post(MANIFEST, "x", _now())
    await gossip.publish(envelope)
    await gossip.publish(envelope)  # republishing: stored once
    assert seen == [post_id]
    await gossip.close()
    await index.close()


async def test_publishing_a_fork_of_our_own_log_is_refused(swarm: Swarm, domain: Domain) -> None:
    a = await swarm.node()
    first, _ = CreatorLog(domain, PLAIN_KEY).next_post(MANIFEST, "one", _now())
    await a.gossip.publish(first)
    again, again_id = CreatorLog(domain, PLAIN_KEY).next_post(MANIFEST, "other one", _now())
    with pytest.raises(RecordRejected, match="fork"):
        await a.gossip.publish(again)
    assert not await a.index.view.has_record(again_id)


async def test_like_v2_travels_on_the_likes_topic_and_its_unlike_lowers_the_count(
    swarm: Swarm, domain: Domain
) -> None:
    a, b = await swarm.node(), await swarm.node()
    await connect(a.host, b.host)
    envelope, post_id = CreatorLog(domain, TOKENED_KEY, TOKEN).next_post(MANIFEST, "x", _now())
    await a.gossip.publish(envelope)
    await until(lambda: b.index.view.has_record(post_id), "the post on b")
    fan = address_of(PLAIN_KEY)
    like = sign_record(LikeV2(fan, post_id, True, _now()), domain, PLAIN_KEY)
    assert topics_for(like) == [TOPIC_LIKES]
    await a.gossip.publish(like)
    await until(lambda: _likes(b, post_id, 1), "the like on b")
    unlike = sign_record(LikeV2(fan, post_id, False, _now() + 1), domain, PLAIN_KEY)
    await a.gossip.publish(unlike)
    await until(lambda: _likes(b, post_id, 0), "the unlike on b")


async def _likes(node: Node, post_id: bytes, count: int) -> bool:
    item = await node.index.queries.post(post_id)
    return item is not None and item.likes == count


@pytest.mark.parametrize(
    ("topic", "payload", "outcome"),
    [
        (TOPIC_SOCIAL, "likeV2", "reject:wrong-topic"),  # never where today's peers Reject it
        (TOPIC_LIKES, "follow", "reject:wrong-topic"),
        (TOPIC_SOCIAL, "unknown", "reject:undecodable"),  # as today's peers do
        (TOPIC_LIKES, "unknown", "ignore:unknown-kind"),  # a newer peer is not a cheat
    ],
)
async def test_the_likes_topic_carries_like_v2_only_and_ignores_unknown_kinds(
    swarm: Swarm, domain: Domain, topic: str, payload: str, outcome: str
) -> None:
    b = await swarm.node()
    sender = await swarm.raw_host(topic)
    await connect(sender, b.host)
    fan = address_of(PLAIN_KEY)
    data: bytes
    if payload == "likeV2":
        data = encode(sign_record(LikeV2(fan, bytes(32), True, _now()), domain, PLAIN_KEY))
    elif payload == "follow":
        data = encode(sign_record(Follow(fan, fan, True, _now()), domain, PLAIN_KEY))
    else:
        data = b'{"v":1,"reaction":{"emoji":"x"},"sig":"0x' + b"00" * 65 + b'"}'
    await sender.publish(topic, data)
    await until(lambda: _true(any(k.startswith(outcome) for k in b.gossip.stats)), outcome)
    score = await b.host.peer_score(sender.peer_id, topic)
    assert score < 0 if outcome.startswith("reject") else score >= 0


@pytest.mark.parametrize("topic", [TOPIC_SOCIAL, TOPIC_LIKES])
async def test_a_like_flood_from_fresh_addresses_is_cut_per_peer_unpenalised_and_stored_once(
    swarm: Swarm, domain: Domain, topic: str
) -> None:
    limits = FeedGossipOptions(per_peer=Rate(rate=0.001, burst=4))
    b = await swarm.node(limits)
    flooder = await swarm.raw_host(topic)
    await connect(flooder, b.host)
    post_id = keccak(b"a post the flood likes")
    keys = [keccak(f"fresh liker {i}".encode()) for i in range(12)]
    records = []
    for key in keys:  # each like from an address never seen before
        actor = address_of(key)
        like = Like(actor, post_id, _now()) if topic == TOPIC_SOCIAL else None
        records.append(sign_record(like or LikeV2(actor, post_id, True, _now()), domain, key))
    for envelope in records:
        await flooder.publish(topic, encode(envelope))
    # the drops are decided before validation, the four let through are stored after it
    await until(lambda: _true(b.gossip.stats["ignore:rate-peer"] == 8), "eight rate drops")
    await until(lambda: _true(b.gossip.stats["accept"] >= 4), "four accepted")
    assert b.gossip.stats["accept"] == 4
    assert await b.host.peer_score(flooder.peer_id, topic) == 0
    # The accepted ones replayed through another peer (its own budget): never stored twice.
    replayer = await swarm.raw_host(topic)
    await connect(replayer, b.host)
    for envelope in records[:4]:
        await replayer.publish(topic, encode(envelope))
    await until(lambda: _true(b.gossip.stats["ignore:duplicate"] == 4), "four duplicates")
    assert b.gossip.stats["accept"] == 4
    assert await b.host.peer_score(replayer.peer_id, topic) == 0
