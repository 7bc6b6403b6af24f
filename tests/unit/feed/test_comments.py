"""The comment rules (docs/ARCHITECTURE.md, Feed rules: Comments): every Reject and Ignore of
Comment, Moderation, CommentPolicy and CommentWithdrawal, holders-only with the fake holdings
port, and the comment topics over the p2p fake (penalties, floods, duplicates)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from peer.feed.builders import CreatorLog, sign_record
from peer.feed.comments import CommentLimits
from peer.feed.eip712 import Domain, digest
from peer.feed.gossip import (
    TOPIC_SOCIAL,
    FeedGossip,
    FeedGossipOptions,
    RecordRejected,
    comment_topic,
    topic_problem,
    topics_for,
)
from peer.feed.index import FeedIndex, IndexOptions
from peer.feed.ratelimit import Rate
from peer.feed.records import (
    ZERO_ID,
    Comment,
    CommentPolicy,
    CommentWithdrawal,
    Moderation,
    Record,
)
from peer.feed.signatures import address_of
from peer.feed.testing import FakeHoldings, FakeTokenRegistry, MemoryFeedView
from peer.feed.validation import (
    Accepted,
    Ignored,
    IgnoreReason,
    Rejected,
    RejectReason,
    Validator,
    Verdict,
)
from peer.feed.wire import MAX_RECORD_BYTES, Envelope, encode
from peer.p2p.testing import FakeHost, FakeNetwork

KEY_CREATOR = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
KEY_FAN = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")
KEY_OTHER = keccak(b"another creator")
TOKEN = "0xa16E02E87b7454126E5E10d957A927A7F5B5d2be"
MANIFEST = "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"
NOW = 1_764_460_800
CREATOR = address_of(KEY_CREATOR)
FAN = address_of(KEY_FAN)
OTHER = address_of(KEY_OTHER)


class World:
    """A validator over a memory view holding one post of CREATOR (and one of OTHER)."""

    def __init__(self, domain: Domain, limits: CommentLimits | None = None) -> None:
        self.domain = domain
        self.view = MemoryFeedView()
        self.registry = FakeTokenRegistry({CREATOR: TOKEN})
        self.holdings = FakeHoldings()
        self.validator = Validator(
            domain, self.registry, self.view, holdings=self.holdings, comment_limits=limits
        )
        post, self.post_id = CreatorLog(domain, KEY_CREATOR, TOKEN).next_post(MANIFEST, "p", NOW)
        self.view.add(post.record, self.post_id)
        other, self.other_post = CreatorLog(domain, KEY_OTHER).next_post(MANIFEST, "o", NOW)
        self.view.add(other.record, self.other_post)

    def sign(self, record: Record, key: bytes) -> Envelope:
        return sign_record(record, self.domain, key)

    async def verdict(self, record: Record, key: bytes, *, now: int = NOW) -> Verdict:
        return await self.validator.validate(encode(self.sign(record, key)), now)

    async def store(self, record: Record, key: bytes) -> bytes:
        verdict = await self.verdict(record, key)
        assert isinstance(verdict, Accepted), verdict
        self.view.add(record, verdict.record_id, encode(self.sign(record, key)))
        return verdict.record_id

    def comment(self, text: str = "nice", parent: bytes = ZERO_ID, **kw: object) -> Comment:
        post = kw.get("post", self.post_id)
        assert isinstance(post, bytes)
        author = kw.get("author", FAN)
        assert isinstance(author, str)
        return Comment(author, post, parent, text, NOW)


@pytest.fixture
def world(domain: Domain) -> World:
    return World(domain)


def _rejected(verdict: Verdict, reason: RejectReason) -> None:
    assert isinstance(verdict, Rejected), verdict
    assert verdict.reason is reason


def _ignored(verdict: Verdict, reason: IgnoreReason) -> None:
    assert isinstance(verdict, Ignored), verdict
    assert verdict.reason is reason


async def test_a_comment_on_a_held_post_is_accepted(world: World) -> None:
    assert isinstance(await world.verdict(world.comment(), KEY_FAN), Accepted)


async def test_a_forged_comment_is_rejected(world: World) -> None:
    _rejected(await world.verdict(world.comment(), KEY_OTHER), RejectReason.BAD_SIGNATURE)


async def test_an_oversized_comment_is_rejected_before_decoding(world: World) -> None:
    data = encode(world.sign(world.comment(), KEY_FAN))
    padded = data[:-1] + b" " * (MAX_RECORD_BYTES + 1 - len(data)) + data[-1:]
    _rejected(await world.validator.validate(padded, NOW), RejectReason.OVERSIZE)


@pytest.mark.parametrize("text", ["", "x" * 501])
async def test_text_must_be_1_to_500_characters(world: World, text: str) -> None:
    _rejected(await world.verdict(world.comment(text), KEY_FAN), RejectReason.INVALID)


async def test_500_characters_of_any_script_are_accepted(world: World) -> None:
    assert isinstance(await world.verdict(world.comment("✨" * 500), KEY_FAN), Accepted)


async def test_a_future_dated_comment_is_rejected(world: World) -> None:
    verdict = await world.verdict(world.comment(), KEY_FAN, now=NOW - 301)
    _rejected(verdict, RejectReason.FUTURE)


@pytest.mark.parametrize("text", ["line\nbreak", "nul\x00", "del\x7f", "c1\x85"])
async def test_control_characters_in_others_text_are_ignored(world: World, text: str) -> None:
    _ignored(await world.verdict(world.comment(text), KEY_FAN), IgnoreReason.CONTROL_CHARACTERS)


async def test_a_comment_on_an_unknown_or_withdrawn_post_is_ignored(world: World) -> None:
    unknown = world.comment(post=b"\x09" * 32)
    _ignored(await world.verdict(unknown, KEY_FAN), IgnoreReason.UNKNOWN_POST)
    from peer.feed.records import Tombstone

    await world.store(Tombstone(CREATOR, world.post_id, NOW), KEY_CREATOR)
    _ignored(await world.verdict(world.comment(), KEY_FAN), IgnoreReason.WITHDRAWN_POST)


async def test_a_reply_needs_a_held_parent_on_the_same_post(world: World) -> None:
    parent = await world.store(world.comment("first"), KEY_FAN)
    reply = world.comment("answer", parent)
    assert isinstance(await world.verdict(reply, KEY_FAN), Accepted)
    orphan = world.comment("answer", b"\x07" * 32)
    _ignored(await world.verdict(orphan, KEY_FAN), IgnoreReason.UNKNOWN_PARENT)
    elsewhere = world.comment("cross-post", parent, post=world.other_post)
    _rejected(await world.verdict(elsewhere, KEY_FAN), RejectReason.INVALID)


async def test_a_duplicate_comment_is_ignored(world: World) -> None:
    comment = world.comment()
    await world.store(comment, KEY_FAN)
    _ignored(await world.verdict(comment, KEY_FAN), IgnoreReason.DUPLICATE)


async def test_the_per_post_cap_ignores_more_comments(domain: Domain) -> None:
    world = World(domain, CommentLimits(per_post=3))
    for n in range(3):
        await world.store(world.comment(f"c{n}"), KEY_FAN)
    _ignored(await world.verdict(world.comment("c3"), KEY_FAN), IgnoreReason.COMMENT_CAP)
    on_other = world.comment("elsewhere", post=world.other_post)
    assert isinstance(await world.verdict(on_other, KEY_FAN), Accepted)


async def test_the_disk_budget_ignores_others_comments_but_not_our_own(domain: Domain) -> None:
    world = World(domain, CommentLimits(budget_bytes=1000))
    await world.store(world.comment("a" * 200), KEY_FAN)
    await world.store(world.comment("b" * 200), KEY_FAN)
    _ignored(await world.verdict(world.comment("c"), KEY_FAN), IgnoreReason.COMMENT_BUDGET)
    world.validator.comments.me = CREATOR  # comments on the user's own posts are exempt
    assert isinstance(await world.verdict(world.comment("c"), KEY_FAN), Accepted)
    world.validator.comments.me = FAN  # and so are the user's own comments
    mine = world.comment("d", post=world.other_post)
    assert isinstance(await world.verdict(mine, KEY_FAN), Accepted)


async def test_holders_only_below_and_at_the_threshold(world: World) -> None:
    await world.store(CommentPolicy(CREATOR, world.post_id, 5 * 10**18, NOW), KEY_CREATOR)
    world.holdings.set(TOKEN, FAN, 5 * 10**18 - 1)
    _ignored(await world.verdict(world.comment(), KEY_FAN), IgnoreReason.NOT_HOLDER)
    world.holdings.set(TOKEN, FAN, 5 * 10**18)
    assert isinstance(await world.verdict(world.comment(), KEY_FAN), Accepted)


async def test_holders_only_exempts_the_creator_and_fails_closed(world: World) -> None:
    await world.store(CommentPolicy(CREATOR, world.post_id, 1, NOW), KEY_CREATOR)
    own = world.comment("my own post", author=CREATOR)
    assert isinstance(await world.verdict(own, KEY_CREATOR), Accepted)
    assert world.holdings.calls == 0
    world.holdings.set(TOKEN, FAN, 10)
    world.holdings.down = True
    _ignored(await world.verdict(world.comment(), KEY_FAN), IgnoreReason.CHAIN_UNAVAILABLE)
    world.holdings.down = False
    world.registry.tokens.clear()  # a policy of a creator without a token: nobody qualifies
    _ignored(await world.verdict(world.comment(), KEY_FAN), IgnoreReason.NOT_HOLDER)


async def test_a_policy_set_to_zero_opens_the_post_again(world: World) -> None:
    await world.store(CommentPolicy(CREATOR, world.post_id, 1, NOW), KEY_CREATOR)
    _ignored(await world.verdict(world.comment(), KEY_FAN), IgnoreReason.NOT_HOLDER)
    await world.store(CommentPolicy(CREATOR, world.post_id, 0, NOW + 1), KEY_CREATOR)
    assert isinstance(await world.verdict(world.comment(), KEY_FAN), Accepted)


async def test_moderation_by_the_post_creator_only(world: World) -> None:
    target = await world.store(world.comment(), KEY_FAN)
    assert isinstance(
        await world.verdict(Moderation(CREATOR, target, True, NOW), KEY_CREATOR), Accepted
    )
    _rejected(
        await world.verdict(Moderation(OTHER, target, True, NOW), KEY_OTHER),
        RejectReason.MODERATION_NOT_OWN_POST,
    )
    _ignored(
        await world.verdict(Moderation(CREATOR, b"\x03" * 32, True, NOW), KEY_CREATOR),
        IgnoreReason.UNKNOWN_TARGET,
    )


async def test_a_policy_by_the_post_creator_only(world: World) -> None:
    _rejected(
        await world.verdict(CommentPolicy(OTHER, world.post_id, 1, NOW), KEY_OTHER),
        RejectReason.POLICY_NOT_OWN_POST,
    )
    _ignored(
        await world.verdict(CommentPolicy(CREATOR, b"\x04" * 32, 1, NOW), KEY_CREATOR),
        IgnoreReason.UNKNOWN_POST,
    )


async def test_only_the_author_withdraws_a_comment_and_it_is_final(world: World) -> None:
    comment_id = await world.store(world.comment("regret"), KEY_FAN)
    reply_id = await world.store(world.comment("answer", comment_id, author=CREATOR), KEY_CREATOR)
    hide = Moderation(CREATOR, comment_id, True, NOW + 100)
    theft = CommentWithdrawal(CREATOR, comment_id, NOW)
    _rejected(await world.verdict(theft, KEY_CREATOR), RejectReason.WITHDRAWAL_NOT_OWN_COMMENT)
    _ignored(
        await world.verdict(CommentWithdrawal(FAN, b"\x07" * 32, NOW), KEY_FAN),
        IgnoreReason.UNKNOWN_TARGET,
    )
    await world.store(CommentWithdrawal(FAN, comment_id, NOW), KEY_FAN)
    assert await world.view.comment_info(reply_id) is None, "the answer went with it"
    # later than the withdrawal, still refused: a creator's "show" never brings it back
    _ignored(await world.verdict(hide, KEY_CREATOR), IgnoreReason.UNKNOWN_TARGET)
    _ignored(await world.verdict(world.comment("regret"), KEY_FAN), IgnoreReason.DUPLICATE)
    late_reply = world.comment("late", comment_id, author=CREATOR)
    _ignored(await world.verdict(late_reply, KEY_CREATOR), IgnoreReason.UNKNOWN_PARENT)
    twice = CommentWithdrawal(FAN, comment_id, NOW + 1)
    _ignored(await world.verdict(twice, KEY_FAN), IgnoreReason.UNKNOWN_TARGET)


def test_comment_records_travel_on_their_creators_comment_topic_only(domain: Domain) -> None:
    comment = sign_record(Comment(FAN, b"\x01" * 32, ZERO_ID, "x", NOW), domain, KEY_FAN)
    assert topics_for(comment, CREATOR) == [comment_topic(CREATOR)]
    with pytest.raises(ValueError, match="comment topic"):
        topics_for(comment)
    moderation = sign_record(Moderation(CREATOR, b"\x01" * 32, True, NOW), domain, KEY_CREATOR)
    assert topics_for(moderation) == [comment_topic(CREATOR)]
    assert topic_problem(comment_topic(OTHER), moderation) is not None
    assert topic_problem(TOPIC_SOCIAL, comment) is not None
    assert comment_topic(CREATOR) == "toktok/1/comments/" + CREATOR.lower()
    withdrawal = sign_record(CommentWithdrawal(FAN, b"\x01" * 32, NOW), domain, KEY_FAN)
    assert topics_for(withdrawal, CREATOR) == [comment_topic(CREATOR)]
    assert topic_problem(comment_topic(CREATOR), withdrawal) is None
    assert topic_problem(TOPIC_SOCIAL, withdrawal) is not None


# ---- over the p2p fake ------------------------------------------------------------------


class Pair:
    """Peer B (validating, storing) and a raw attacker host on CREATOR's comment topic."""

    def __init__(self, tmp: Path, domain: Domain) -> None:
        self.tmp, self.domain = tmp, domain
        self.network = FakeNetwork()

    async def start(self, options: FeedGossipOptions | None = None) -> None:
        self.host = self.network.host()
        await self.host.start()
        self.index = FeedIndex(IndexOptions(self.tmp / "b" / "feed.sqlite"))
        await self.index.start()
        self.holdings = FakeHoldings()
        registry = FakeTokenRegistry({CREATOR: TOKEN})
        validator = Validator(self.domain, registry, self.index.view, holdings=self.holdings)
        self.gossip = FeedGossip(self.host, validator, self.index.writes, options)
        await self.gossip.start()
        await self.gossip.follow_creator(CREATOR)
        post, self.post_id = CreatorLog(self.domain, KEY_CREATOR, TOKEN).next_post(
            MANIFEST, "p", int(time.time())
        )
        await self.gossip.publish(post)
        self.attacker: FakeHost = self.network.host()
        await self.attacker.start()
        await self.attacker.subscribe(comment_topic(CREATOR))
        await self.attacker.connect(self.host.addrs[0])

    async def send(self, record: Record, key: bytes) -> None:
        await self.attacker.publish(
            comment_topic(CREATOR), encode(sign_record(record, self.domain, key))
        )

    async def until(self, label: str, count: int) -> None:
        deadline = time.monotonic() + 20  # generous: only a failing case waits it out
        while self.gossip.stats[label] < count:
            assert time.monotonic() < deadline, f"{label}: {dict(self.gossip.stats)}"
            await asyncio.sleep(0.01)

    async def score(self) -> float:
        return await self.host.peer_score(self.attacker.peer_id, comment_topic(CREATOR))

    async def until_penalised(self) -> None:
        """The host lowers the attacker's score after the validator returned (and counted)."""
        deadline = time.monotonic() + 5
        while (score := await self.score()) >= 0:
            assert time.monotonic() < deadline, f"not penalised: score {score}"
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        await self.gossip.close()
        await self.host.stop()
        await self.attacker.stop()
        await self.index.close()


@pytest.fixture
async def pair(tmp_path: Path, domain: Domain) -> AsyncIterator[Pair]:
    pair = Pair(tmp_path, domain)
    yield pair
    await pair.close()


async def test_following_a_creator_subscribes_its_comment_topic(pair: Pair) -> None:
    await pair.start()
    assert comment_topic(CREATOR) in pair.gossip.topics
    await pair.gossip.unfollow_creator(CREATOR)
    assert comment_topic(CREATOR) not in pair.gossip.topics
    await pair.gossip.watch_comments(CREATOR)
    await pair.gossip.follow_creator(CREATOR)
    await pair.gossip.unfollow_creator(CREATOR)
    assert comment_topic(CREATOR) in pair.gossip.topics, "watched: kept after unfollowing"


async def test_a_forged_comment_is_penalised_and_never_stored(pair: Pair) -> None:
    await pair.start()
    comment = Comment(FAN, pair.post_id, ZERO_ID, "forged", int(time.time()))
    await pair.send(comment, KEY_OTHER)
    await pair.until("reject:bad-signature", 1)
    await pair.until_penalised()
    assert await pair.index.view.comment_count(pair.post_id) == 0


async def test_a_comment_on_another_creators_post_on_this_topic_is_penalised(
    pair: Pair, domain: Domain
) -> None:
    await pair.start()
    other, other_id = CreatorLog(domain, KEY_OTHER).next_post(MANIFEST, "o", int(time.time()))
    await pair.index.writes.store(other, other_id)
    await pair.send(Comment(FAN, other_id, ZERO_ID, "misplaced", int(time.time())), KEY_FAN)
    await pair.until("reject:wrong-topic: a comment on another creator's post", 1)
    await pair.until_penalised()


async def test_a_withdrawal_by_another_or_on_another_topic_is_penalised(
    pair: Pair, domain: Domain
) -> None:
    await pair.start()
    now = int(time.time())
    comment = Comment(FAN, pair.post_id, ZERO_ID, "mine", now)
    await pair.send(comment, KEY_FAN)
    await pair.until("accept", 1)
    comment_id = digest(comment, domain)
    await pair.send(CommentWithdrawal(OTHER, comment_id, now), KEY_OTHER)
    await pair.until("reject:withdrawal-not-own-comment", 1)
    assert await pair.score() < 0
    assert await pair.index.queries.comment(comment_id) is not None
    misplaced = sign_record(CommentWithdrawal(FAN, comment_id, now), domain, KEY_FAN)
    await pair.gossip.watch_comments(OTHER)
    await pair.attacker.subscribe(comment_topic(OTHER))
    await pair.attacker.publish(comment_topic(OTHER), encode(misplaced))
    await pair.until("reject:wrong-topic: a commentWithdrawal on another creator's post", 1)
    await pair.send(CommentWithdrawal(FAN, comment_id, now), KEY_FAN)
    await pair.until("accept", 2)
    assert await pair.index.queries.comment(comment_id) is None


async def test_a_flood_of_comments_is_cut_per_author_without_penalty(pair: Pair) -> None:
    await pair.start(FeedGossipOptions(comments_per_author=Rate(rate=0.001, burst=3.0)))
    now = int(time.time())
    for n in range(5):
        await pair.send(Comment(FAN, pair.post_id, ZERO_ID, f"spam {n}", now), KEY_FAN)
    await pair.until("ignore:rate-author-comments", 2)
    await pair.until("accept", 3)
    assert await pair.index.view.comment_count(pair.post_id) == 3
    assert await pair.score() >= 0


async def test_a_flood_from_one_peer_is_cut_per_peer_without_penalty(pair: Pair) -> None:
    await pair.start(FeedGossipOptions(comments_per_peer=Rate(rate=0.001, burst=2.0)))
    now = int(time.time())
    for n, key in enumerate((KEY_FAN, KEY_OTHER, keccak(b"fresh"), keccak(b"fresher"))):
        author = address_of(key)
        await pair.send(Comment(author, pair.post_id, ZERO_ID, f"from {n}", now), key)
    await pair.until("ignore:rate-peer-comments", 2)
    await pair.until("accept", 2)
    assert await pair.index.view.comment_count(pair.post_id) == 2
    assert await pair.score() >= 0


async def test_a_replayed_comment_is_stored_once_and_not_penalised(pair: Pair) -> None:
    await pair.start()
    comment = Comment(FAN, pair.post_id, ZERO_ID, "once", int(time.time()))
    await pair.send(comment, KEY_FAN)
    await pair.until("accept", 1)
    await pair.send(comment, KEY_FAN)
    await pair.index.writes.store(
        sign_record(comment, pair.domain, KEY_FAN), digest(comment, pair.domain)
    )
    await asyncio.sleep(0.1)
    assert await pair.index.view.comment_count(pair.post_id) == 1
    records, _cursor = await pair.index.sync.comment_records_since(0)
    assert len(records) == 1
    assert await pair.score() >= 0


async def test_a_non_holders_comment_is_ignored_without_penalty(pair: Pair) -> None:
    await pair.start()
    now = int(time.time())
    policy = CommentPolicy(CREATOR, pair.post_id, 10, now)
    await pair.gossip.publish(sign_record(policy, pair.domain, KEY_CREATOR))
    await pair.send(Comment(FAN, pair.post_id, ZERO_ID, "let me in", now), KEY_FAN)
    await pair.until("ignore:not-holder", 1)
    assert await pair.score() >= 0
    pair.holdings.set(TOKEN, FAN, 10)
    await pair.send(Comment(FAN, pair.post_id, ZERO_ID, "bought in", now), KEY_FAN)
    await pair.until("accept", 1)
    assert await pair.index.view.comment_count(pair.post_id) == 1


async def test_we_never_sign_control_characters(pair: Pair) -> None:
    await pair.start()
    comment = Comment(CREATOR, pair.post_id, ZERO_ID, "two\nlines", int(time.time()))
    with pytest.raises(RecordRejected, match="control-characters"):
        await pair.gossip.publish(
            sign_record(comment, pair.domain, KEY_CREATOR), post_creator=CREATOR
        )
    assert await pair.index.view.comment_count(pair.post_id) == 0
