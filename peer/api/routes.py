"""The route table of the UI/API port: one line per route.

Every route but ``/healthz`` needs a credential (the browser session or the CLI token); routes
that take a local path are ``cli_only``. The security middleware, the OpenAPI description and
the route-table tests all read :data:`ROUTES`; a route exists only if it is listed here. Its
request and response schemas are in :data:`peer.api.schemas.SCHEMAS` under the same (method,
path).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from peer.api import (
    comments,
    economy,
    events,
    external,
    feed,
    gating,
    node,
    openapi,
    publish,
    social,
    storage,
    tokens,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One route: method, path, handler and what the security layer must know."""

    method: str
    path: str
    handler: Handler
    summary: str
    cli_only: bool = False  # takes a local path: only the CLI credential, never the browser
    upload: bool = False  # the one multipart route kind

    @property
    def state_changing(self) -> bool:
        return self.method not in {"GET", "HEAD"}


# fmt: off
ROUTES: tuple[Route, ...] = (
    Route("GET", "/healthz", node.healthz, "Readiness of p2p host, store and chain"),
    Route("GET", "/api/v1/status", node.status, "Peer identity, addresses and services"),
    Route("GET", "/api/v1/openapi.json", openapi.document, "This API as OpenAPI 3.1"),
    Route("GET", "/api/v1/events", events.events, "Bus events as SSE"),
    Route("POST", "/api/v1/login-links", node.login_link, "A one-time browser login URL (CLI)", cli_only=True),  # noqa: E501
    Route("GET", "/api/v1/peers", node.list_peers, "Connected peers"),
    Route("POST", "/api/v1/peers/connect", node.connect_peer, "Connect to a peer by multiaddr"),
    Route("GET", "/api/v1/feed", feed.feed_page, "A page of the for-you or following feed"),
    Route("GET", "/api/v1/search", feed.search, "Search titles, tags and creator names"),
    Route("GET", "/api/v1/posts/{post_id}", feed.post, "One post"),
    Route("GET", "/api/v1/posts/{post_id}/clip", feed.clip, "Poster and rendition URLs"),
    Route("POST", "/api/v1/posts/{post_id}/like", feed.like, "Like a post"),
    Route("POST", "/api/v1/posts/{post_id}/unlike", feed.unlike, "Take a like back"),
    Route("POST", "/api/v1/posts/{post_id}/delete", feed.delete, "Withdraw an own post"),
    Route("GET", "/api/v1/posts/{post_id}/comments", comments.list_comments, "A post's comments"),
    Route("POST", "/api/v1/posts/{post_id}/comments", comments.add_comment, "Comment on a post"),
    Route("POST", "/api/v1/posts/{post_id}/comment-policy", comments.set_policy, "Holders-only comments on an own post"),  # noqa: E501
    Route("POST", "/api/v1/comments/{comment_id}/hide", comments.hide_comment, "Hide or show a comment on an own post"),  # noqa: E501
    Route("POST", "/api/v1/comments/{comment_id}/delete", comments.delete_comment, "Delete an own comment"),  # noqa: E501
    Route("GET", "/api/v1/creators/{address}", feed.creator, "A creator and their token"),
    Route("GET", "/api/v1/creators/{address}/posts", feed.creator_posts, "A creator's posts"),
    Route("POST", "/api/v1/creators/{address}/follow", feed.follow, "Follow or unfollow"),
    Route("POST", "/api/v1/creators/{address}/mute", feed.mute, "Mute or unmute locally"),
    Route("POST", "/api/v1/creators/{address}/block", feed.block, "Block or unblock locally"),
    Route("POST", "/api/v1/publish", publish.upload, "Upload and publish a clip", upload=True),
    Route("POST", "/api/v1/publish/file", publish.publish_file, "Publish a local file (CLI)", cli_only=True),  # noqa: E501
    Route("GET", "/api/v1/publish/{job}", publish.job_status, "State of a publish job"),
    Route("GET", "/api/v1/tokens/{token}", tokens.info, "Creator token: supply, reserve, price"),
    Route("GET", "/api/v1/tokens/{token}/quote", tokens.quote, "Quote a buy or sell"),
    Route("GET", "/api/v1/tokens/{token}/history", economy.history, "Every trade and the start price"),  # noqa: E501
    Route("GET", "/api/v1/tokens/{token}/holders", tokens.holders, "Holders and balances"),
    Route("POST", "/api/v1/tokens/{token}/buy", tokens.buy, "Buy creator tokens (confirmed)"),
    Route("POST", "/api/v1/tokens/{token}/sell", tokens.sell, "Sell creator tokens (confirmed)"),
    Route("POST", "/api/v1/tokens/{token}/buy/transactions", external.buy_transactions, "A buy for a browser wallet to send"),  # noqa: E501
    Route("POST", "/api/v1/tokens/{token}/sell/transactions", external.sell_transactions, "A sale for a browser wallet to send"),  # noqa: E501
    Route("GET", "/api/v1/transactions/{tx}", external.mined, "A transaction once mined, and its trade"),  # noqa: E501
    Route("POST", "/api/v1/token", tokens.create_token, "Create the user's creator token"),
    Route("GET", "/api/v1/wallet", tokens.wallet, "Wallet address and TOK balance"),
    Route("GET", "/api/v1/dashboard", economy.dashboard, "The user's creator dashboard"),
    Route("GET", "/api/v1/portfolio", economy.portfolio, "The user's creator-token positions"),
    Route("GET", "/api/v1/clips/{post_id}/media/{rendition}", gating.media, "Decrypted premium media"),  # noqa: E501
    Route("GET", "/api/v1/clips/{post_id}/requirements", gating.requirements, "What unlocking takes"),  # noqa: E501
    Route("GET", "/api/v1/clips/{post_id}/buy-plan", gating.buy_plan, "Buy needed to unlock"),
    Route("POST", "/api/v1/clips/{post_id}/unlock", gating.unlock, "Unlock a premium clip"),
    Route("POST", "/api/v1/clips/{post_id}/unlock/challenge", external.challenge, "Key request for a browser wallet to sign"),  # noqa: E501
    Route("POST", "/api/v1/clips/{post_id}/unlock/signature", external.signature, "Send the signed key request"),  # noqa: E501
    Route("POST", "/api/v1/creators/{address}/unlock", gating.unlock_creator, "Unlock all qualifying"),  # noqa: E501
    Route("POST", "/api/v1/gating/delegate", gating.delegate, "Push clip keys to another own peer"),
    Route("POST", "/api/v1/gating/revoke", gating.revoke, "Drop a key server from the profile"),
    Route("GET", "/api/v1/storage", storage.stats, "Store backend and disk usage"),
    Route("POST", "/api/v1/storage/add", storage.add, "Add and pin a local file (CLI)", cli_only=True),  # noqa: E501
    Route("POST", "/api/v1/storage/pin", storage.pin, "Pin content"),
    Route("POST", "/api/v1/storage/unpin", storage.unpin, "Unpin content"),
    Route("POST", "/api/v1/storage/gc", storage.gc, "Remove unpinned blocks"),
    Route("GET", "/api/v1/profile", feed.get_profile, "The user's own profile"),
    Route("POST", "/api/v1/profile", feed.set_profile, "Sign and publish the user's profile"),
    Route("POST", "/api/v1/profile/avatar", social.avatar, "Store an avatar image (base64)"),
    Route("GET", "/api/v1/notifications", social.notifications, "Grouped notifications, unread count"),  # noqa: E501
    Route("POST", "/api/v1/notifications/read", social.mark_read, "Mark notifications read"),
    Route("GET", "/api/v1/tags/{tag}", social.tag, "Posts with a tag, newest first"),
    Route("GET", "/api/v1/trending", social.trending_page, "The local trending ranking"),
    Route("GET", "/api/v1/suggested-creators", social.suggested, "Creators to follow"),
    Route("GET", "/api/v1/share", social.share, "A web+toktok: share link for a post or creator"),
    Route("POST", "/api/v1/links/open", social.open_link, "Find what a share link names"),
)
# fmt: on
