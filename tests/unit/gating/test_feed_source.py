"""The feed adapter: posts, profile key servers from a signed profile, premium listing."""

from __future__ import annotations

from eth_account import Account

from peer.feed.builders import sign_record
from peer.feed.eip712 import Domain
from peer.feed.queries import FeedItem, Page
from peer.feed.records import Profile
from peer.feed.wire import encode
from peer.gating.feed_source import FeedPosts

CREATOR = Account.from_key("0x" + "11" * 32)


def item(n: int, premium: bool) -> FeedItem:
    return FeedItem(
        id=bytes([n]) * 32, creator=CREATOR.address, creator_name="c", creator_forked=False,
        seq=n, token="0x" + "12" * 20, manifest=f"bafkreiclip{n}", title="t", tags=(),
        duration_ms=1000, created_at=1, premium=premium, min_balance=5 if premium else 0,
        key_servers=("/ip4/127.0.0.1/tcp/1/p2p/12D3KooWx",) if premium else (), likes=0, rowid=n,
    )  # fmt: skip


class Reader:
    def __init__(self, items: list[FeedItem], profile: bytes | None) -> None:
        self.items = {i.id: i for i in items}
        self.profile = profile

    async def post(self, post_id: bytes) -> FeedItem | None:
        return self.items.get(post_id)

    async def profile_wire(self, creator: str) -> bytes | None:
        return self.profile

    async def creator(self, creator: str, cursor: str | None = None, limit: int = 20) -> Page:
        ordered = sorted(self.items.values(), key=lambda i: -i.seq)
        start = int(cursor or 0)
        nxt = start + limit if start + limit < len(ordered) else None
        return Page(tuple(ordered[start : start + limit]), None if nxt is None else str(nxt))


async def test_posts_profiles_and_premium_listing() -> None:
    profile = Profile(CREATOR.address, "c", "", "0x" + "12" * 20, ("/ip4/127.0.0.1/tcp/2/p2p/x",),
                      1, 1)  # fmt: skip
    wire = encode(sign_record(profile, Domain(31337, "0x" + "34" * 20), CREATOR.key))
    items = [item(n, premium=n % 2 == 0) for n in range(1, 251)]
    posts = FeedPosts(Reader(items, wire))
    got = await posts.gated_post(bytes([2]) * 32)
    assert got is not None
    assert (got.premium, got.min_balance, got.manifest) == (True, 5, "bafkreiclip2")
    assert await posts.gated_post(b"\x00" * 32) is None
    assert await posts.profile_key_servers(CREATOR.address) == ("/ip4/127.0.0.1/tcp/2/p2p/x",)
    listed = await posts.premium_posts(CREATOR.address)
    assert [p.post_id[0] for p in listed] == list(range(250, 0, -2))
    assert await FeedPosts(Reader([], None)).profile_key_servers(CREATOR.address) == ()
    assert await FeedPosts(Reader([], b"garbage")).profile_key_servers(CREATOR.address) == ()
