"""An in-memory peer that answers the docs/API.md contract, for browser tests of the web UI.

It serves the real page shell, static assets and security middlewares (``build_ui_app``) and the
real SSE handler, with handlers backed by a few dicts instead of the feed, chain and store. The
content origin serves real video files (with Range, as the storage gateway does). Use it where
the daemon's routes do not exist yet or a state is hard to reach (a locked premium clip); the
shapes follow docs/API.md, so a UI that works here works against the daemon's routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from aiohttp import BodyPartReader, web

from peer.api import events, node
from peer.api.auth import ApiAuth
from peer.api.context import ApiContext
from peer.api.errors import ApiError
from peer.api.routes import Route
from peer.api.security import HostPolicy
from peer.api.server import build_content_app, build_ui_app
from peer.bus import Event, EventBus
from peer.daemon.services import Readiness

E18 = 10**18
PEER_ID = "12D3KooWFakePeerForUiTests1111111111111111111111"
ME = "0x1111111111111111111111111111111111111111"
ANA = "0xAAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa"
BEN = "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"
ANA_TOKEN = "0x00000000000000000000000000000000000000a1"


@dataclass(frozen=True)
class _Bus(Event):
    """A bus event with any kind and payload (the fake publishes contract events by name)."""

    kind: ClassVar[str] = "event"
    name: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return self.data


def _event(kind: str, data: dict[str, Any]) -> Event:
    cls = type(f"Fake_{kind.replace('.', '_')}", (_Bus,), {"kind": kind})
    return cls(name=kind, data=data)  # type: ignore[no-any-return]


@dataclass
class FakePeer:
    """The state behind the fake routes; tests may read and change it."""

    media: Path
    poster: Path | None = None
    content_origin: str = ""
    ui_origin: str = "http://127.0.0.1:8080"
    posts: list[dict[str, Any]] = field(default_factory=list)
    following: set[str] = field(default_factory=set)
    unlocked: set[str] = field(default_factory=set)
    liked: set[str] = field(default_factory=set)
    balance: int = 0
    bus: EventBus = field(default_factory=EventBus)
    publish_delay_s: float = 0.05
    trades: list[dict[str, Any]] = field(default_factory=list)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    quiet: bool = False  # publish jobs send no events (a client that missed them must poll)
    name: str = "me"
    profiles_published: int = 0
    my_token: dict[str, Any] | None = None  # the user's own creator token, once created

    def emit_event(self, kind: str, data: dict[str, Any]) -> None:
        """Send an event on the stream now (call it on the server's loop: ``server.call``)."""
        self.bus.publish(_event(kind, data))

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        if not self.quiet:
            self.bus.publish(_event(kind, data))

    def add_post(self, creator: str, title: str, *, premium: bool = False, **extra: Any) -> str:
        seq = sum(1 for p in self.posts if p["creator"] == creator) + 1
        post_id = "0x" + secrets.token_hex(32)
        item = {
            "id": post_id,
            "creator": creator,
            "creator_name": {ANA: "ana", BEN: "ben", ME: "me"}.get(creator, ""),
            "creator_forked": False,
            "available": True,
            "seq": seq,
            "token": ANA_TOKEN if creator == ANA else "0x" + "0" * 40,
            "manifest": "bafyfake" + post_id[2:20],
            "title": title,
            "tags": extra.pop("tags", ["demo"]),
            "duration_ms": 2000,
            "created_at": 1764500000 + len(self.posts),
            "premium": premium,
            "min_balance": str(5 * E18) if premium else "0",
            "key_servers": [],
            "likes": 0,
        }
        item.update(extra)
        self.posts.insert(0, item)
        return post_id

    def arrive(self, creator: str, title: str, **extra: Any) -> str:
        """A post reaches the peer from the network: indexed, then ``post.new`` on the stream
        (call it on the server's loop: ``server.call(peer.arrive, ...)``)."""
        post_id = self.add_post(creator, title, **extra)
        self.bus.publish(_event("post.new", _post_new(self.posts[0])))
        return post_id

    # helpers -----------------------------------------------------------------------------
    def _post(self, request: web.Request) -> dict[str, Any]:
        for item in self.posts:
            if item["id"] == request.match_info["post_id"]:
                return item
        raise ApiError(404, "unknown_post", "this peer has not seen that post")

    def _page(self, items: list[dict[str, Any]], request: web.Request) -> web.Response:
        start = int(request.query.get("cursor") or 0)
        limit = int(request.query.get("limit") or 20)
        chunk = items[start : start + limit]
        nxt = str(start + limit) if start + limit < len(items) else None
        return web.json_response({"items": chunk, "next": nxt})

    def _token(self) -> dict[str, Any]:
        return {
            "address": ANA_TOKEN,
            "creator": ANA,
            "name": "Ana Coin",
            "symbol": "ANA",
            "total_supply": str(100 * E18 + self.balance),
            "reserve": str(2500 * E18),
            "spot_price": str(E18 // 4 + self.balance // 1000),
        }

    # handlers ----------------------------------------------------------------------------
    async def status(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "version": "fake",
                "peer_id": PEER_ID,
                "p2p_addrs": [f"/ip4/127.0.0.1/tcp/4001/p2p/{PEER_ID}"],
                "reachability": {
                    "state": "private",
                    "summary": "behind NAT, unreachable",
                    "relay": None,
                    "reason": "no dial-back reached us (12D3KooA: dial-back to "
                    "/ip4/198.18.0.14/tcp/4001 failed); no relay in p2p.relays or the network "
                    "profile, so no peer can reach us",
                    "announced": [f"/ip4/127.0.0.1/tcp/4001/p2p/{PEER_ID}"],
                    "circuits": [],
                    "dialbacks": {"12D3KooA": False},
                    "dialbacks_served": 0,
                    "observed": ["/ip4/198.18.0.14/tcp/4001"],
                    "connections": {"12D3KooA": "direct"},
                    "holding_reservations": False,
                    "relay_service": None,
                },
                "data_dir": "/home/me/.local/share/toktok",
                "ui_url": self.ui_origin + "/",
                "content_url": self.content_origin + "/",
                "ports": {"p2p": 4001, "ui": 8080, "content": 8081},
                "notices": [],
                "bitswap": None,
                "chain": {"mode": "devnet", "chain_id": 31337},
                "wallet": {"address": ME, "state": "unlocked"},
                "wallet_address": ME,
                "storage": {"backend": "embedded"},
                "services": {"p2p": "ready", "store": "ready", "http": "ready"},
                "ready": True,
                "uptime_s": 1.0,
            }
        )

    async def peers(self, request: web.Request) -> web.Response:
        return web.json_response({"peers": []})

    async def feed(self, request: web.Request) -> web.Response:
        items = self.posts
        if request.query.get("tab") == "following":
            items = [p for p in items if p["creator"] in self.following]
        return self._page(items, request)

    async def search(self, request: web.Request) -> web.Response:
        words = request.query.get("q", "").lower().split()
        hits = [
            p
            for p in self.posts
            if words and all(w in (p["title"] + " " + " ".join(p["tags"])).lower() for w in words)
        ]
        return self._page(hits, request)

    async def post(self, request: web.Request) -> web.Response:
        return web.json_response(self._post(request))

    async def clip(self, request: web.Request) -> web.Response:
        item = self._post(request)
        if not item["available"]:
            error = {"code": "content_unavailable", "message": "no provider known"}
            return web.json_response({"error": error}, status=504)
        locked = item["premium"] and item["id"] not in self.unlocked
        if item["premium"]:
            url = f"/api/v1/clips/{item['id']}/media/360p"
        else:
            url = f"{self.content_origin}/ipfs/bafyclip{item['id'][2:12]}"
        poster = (
            {"url": f"{self.content_origin}/ipfs/bafyposter", "width": 180, "height": 320}
            if self.poster
            else None
        )
        rendition = {
            "name": "360p",
            "width": 180,
            "height": 320,
            "bitrate": 300_000,
            "mime": "video/mp4",
            "codecs": "avc1.42c00d,mp4a.40.2",
            "size": self.media.stat().st_size,
            "url": url,
        }
        body = {
            "post": item,
            "duration_ms": item["duration_ms"],
            "premium": item["premium"],
            "poster": poster,
            "renditions": [rendition],
            "locked": locked,
            "unplayable": None,
        }
        return web.json_response(body)

    async def like(self, request: web.Request) -> web.Response:
        """One like per viewer and post, as the daemon counts them."""
        item = self._post(request)
        if item["id"] not in self.liked:
            self.liked.add(item["id"])
            item["likes"] += 1
        return web.json_response({"likes": item["likes"]})

    async def unlike(self, request: web.Request) -> web.Response:
        item = self._post(request)
        if item["id"] in self.liked:
            self.liked.discard(item["id"])
            item["likes"] -= 1
        return web.json_response({"likes": item["likes"]})

    async def creator(self, request: web.Request) -> web.Response:
        address = request.match_info["address"]
        posts = [p for p in self.posts if p["creator"].lower() == address.lower()]
        return web.json_response(
            {
                "address": address,
                "name": {ANA.lower(): "ana", BEN.lower(): "ben", ME.lower(): self.name}.get(
                    address.lower(), ""
                ),
                "posts": len(posts),
                "forked": False,
                "following": address in self.following,
                "token": self._token()
                if address.lower() == ANA.lower()
                else (self.my_token if address.lower() == ME.lower() else None),
                "avatar_url": None,
                "name_shared": False,
            }
        )

    async def comments(self, request: web.Request) -> web.Response:
        self._post(request)
        return web.json_response({"items": [], "next": None, "min_balance": "0"})

    async def notifications(self, request: web.Request) -> web.Response:
        return web.json_response({"items": [], "unread": 0})

    async def suggested(self, request: web.Request) -> web.Response:
        return web.json_response({"creators": []})

    async def tag(self, request: web.Request) -> web.Response:
        tag = request.match_info["tag"].lower()
        return self._page([p for p in self.posts if tag in p["tags"]], request)

    async def creator_posts(self, request: web.Request) -> web.Response:
        address = request.match_info["address"].lower()
        return self._page([p for p in self.posts if p["creator"].lower() == address], request)

    async def follow(self, request: web.Request) -> web.Response:
        on = bool((await request.json()).get("on", True))
        address = request.match_info["address"]
        if on and address.lower() == ME.lower():
            raise ApiError(400, "follow_self", "you cannot follow yourself")
        (self.following.add if on else self.following.discard)(address)
        self._emit("follow.new", {"actor": ME, "creator": address, "on": on})
        return web.json_response({"following": on})

    async def token(self, request: web.Request) -> web.Response:
        return web.json_response(self._token())

    async def quote(self, request: web.Request) -> web.Response:
        amount = request.query.get("amount", "1")
        base = int(float(amount) * E18) // 4
        side = request.query.get("side", "buy")
        answer = {
            "amount": amount,
            "creator_fee": str(base // 100),
            "protocol_fee": str(base // 200),
            "price_after": str(E18 // 4 + base // 1000),
            ("cost" if side == "buy" else "refund"): str(base),
        }
        return web.json_response(answer)

    async def history(self, request: web.Request) -> web.Response:
        points = [
            {
                "block": b,
                "timestamp": 1764500000 + b,
                "side": "sell" if b % 4 == 0 else "buy",
                "trader": BEN,
                "amount": str(E18),
                "total": str(E18 // 4),
                "price": str(E18 // 4 + b * E18 // 50),
                "supply": str(b * E18),
                "tx": "0x" + "ef" * 32,
            }
            for b in range(1, 12)
        ]
        return web.json_response({"start_price": str(E18 // 5), "points": points})

    async def dashboard(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "creator": ME,
                "followers": 2,
                "likes": 5,
                "comments": 3,
                "token": self.my_token,
                "holders": [{"address": BEN, "balance": str(3 * E18)}] if self.my_token else [],
                "holder_count": 1 if self.my_token else 0,
                "earnings": {
                    "total": str(E18 // 20) if self.my_token else "0",
                    "per_day": [{"day": "2026-12-07", "fees": str(E18 // 20)}]
                    if self.my_token
                    else [],
                    "trades": 1 if self.my_token else 0,
                    "own_trades": 0,
                },
                "clips": [],
            }
        )

    async def portfolio(self, request: web.Request) -> web.Response:
        positions = []
        if self.balance:
            value = self.balance // 4
            positions.append(
                {
                    "token": ANA_TOKEN,
                    "creator": ANA,
                    "name": "Ana Coin",
                    "symbol": "ANA",
                    "price": self._token()["spot_price"],
                    "balance": str(self.balance),
                    "value": str(value),
                    "cost_basis": str(self.balance // 5),
                    "gain": str(value - self.balance // 5),
                    "realized": "0",
                    "unpriced": "0",
                    "trades": len(self.trades),
                }
            )
        total = sum(int(p["value"]) for p in positions)
        cost = sum(int(p["cost_basis"]) for p in positions)
        return web.json_response(
            {
                "address": ME,
                "tok_balance": str(1000 * E18),
                "positions": positions,
                "total_value": str(total),
                "total_cost_basis": str(cost),
            }
        )

    async def holders(self, request: web.Request) -> web.Response:
        holders = [{"address": ANA, "balance": str(100 * E18)}]
        if self.balance:
            holders.append({"address": ME, "balance": str(self.balance)})
        return web.json_response({"holders": holders})

    async def buy(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("confirm") is not True:
            raise ApiError(409, "confirmation_required", "confirm the quote")
        self.trades.append(body)
        amount = int(float(body["amount"]) * E18)
        self.balance += amount
        cost = str(amount // 4)
        price = str(E18 // 4 + self.balance // 1000)
        trade = {"tx": "0x" + "ab" * 32, "amount": str(amount), "cost": cost, "price": price}
        return web.json_response({**trade, "block": 100 + len(self.trades)})

    async def storage(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "backend": "embedded",
                "root": "/home/me/.local/share/toktok/store",
                "usage": {"blocks": 120, "bytes": 12_582_912, "pins": 4},
                "bitswap": {
                    "peers": 1,
                    "wanted": 0,
                    "client": {
                        "blocks_received": 10,
                        "bytes_received": 2_621_440,
                        "duplicate_blocks": 0,
                        "rejected_blocks": 0,
                        "timeouts": 0,
                        "want_haves_sent": 12,
                        "want_blocks_sent": 10,
                        "cancels_sent": 2,
                        "broadcasts": 1,
                    },
                    "server": {"blocks_sent": 3, "bytes_sent": 786_432, "dont_haves_sent": 0},
                    "bad_peers": 0,
                },
                "replication": {
                    "enabled": True,
                    "budget_bytes": 1024**3,
                    "used_bytes": 5_242_880,
                    "pinned_posts": 2,
                    "queued": 0,
                    "failed": 0,
                    "evicted": 0,
                    "last_error": None,
                },
            }
        )

    async def profile(self, request: web.Request) -> web.Response:
        token = self.my_token["address"] if self.my_token else None
        return web.json_response(
            {"address": ME, "name": self.name, "token": token, "avatar": "", "avatar_url": None}
        )

    async def create_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.my_token:
            raise ApiError(409, "token_exists", "you already have a token")
        self.my_token = {
            "address": "0x00000000000000000000000000000000000000b2",
            "creator": ME,
            "name": body["name"],
            "symbol": body["symbol"],
            "total_supply": "0",
            "reserve": "0",
            "spot_price": str(E18 // 100),
        }
        return web.json_response(self.my_token)

    async def set_profile(self, request: web.Request) -> web.Response:
        name = (await request.json()).get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 64:
            raise ApiError(400, "bad_name", "'name' must be 1 to 64 characters")
        self.name = name.strip()
        self.profiles_published += 1
        return web.json_response({"address": ME, "name": self.name, "avatar": ""})

    async def wallet(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"address": ME, "state": "unlocked", "tok_balance": str(1000 * E18)}
        )

    def _plan(self, item: dict[str, Any]) -> dict[str, str] | None:
        missing = int(item["min_balance"]) - self.balance
        if missing <= 0:
            return None
        quote = missing // 4
        most = quote * 101 // 100
        return {
            "token": item["token"],
            "amount": str(missing),
            "quote": str(quote),
            "maxCost": str(most),
            "max_cost": str(most),
        }

    async def buy_plan(self, request: web.Request) -> web.Response:
        return web.json_response(self._plan(self._post(request)))

    async def unlock(self, request: web.Request) -> web.Response:
        item = self._post(request)
        body = await request.json()
        plan = self._plan(item)
        if body.get("buy") and plan is not None:
            if int(body.get("max_cost") or 0) < int(plan["max_cost"]):
                raise ApiError(400, "buy_failed", "the buy may cost more than confirmed")
            self.trades.append(body)
            self.balance += int(plan["amount"])
        if self.balance < int(item["min_balance"]):
            raise ApiError(403, "unlock_refused", "the key server refused: hold more tokens")
        self.unlocked.add(item["id"])
        return web.json_response({"post": item["id"], "unlocked": True, "bought": None})

    async def decrypted(self, request: web.Request) -> web.FileResponse:
        item = self._post(request)
        if item["id"] not in self.unlocked:
            raise ApiError(402, "locked", "unlock the clip first")
        return web.FileResponse(self.media, headers={"Content-Type": "video/mp4"})

    async def publish(self, request: web.Request) -> web.Response:
        reader = await request.multipart()
        fields: dict[str, str] = {}
        size = 0
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                raise ApiError(400, "bad_request", "nested multipart bodies are not accepted")
            if part.name == "file":
                while chunk := await part.read_chunk():
                    size += len(chunk)
            elif part.name:
                fields[part.name] = (await part.read(decode=True)).decode()
        if not size or not fields.get("title"):
            raise ApiError(400, "bad_request", "a file and a title are required")
        if fields.get("premium") == "true" and not self.my_token:
            raise ApiError(409, "premium_needs_token", "a premium clip needs your creator token")
        job = secrets.token_hex(4)
        self.jobs[job] = {
            "id": job,
            "state": "running",
            "stage": "queued",
            "fraction": 0.0,
            "post_id": None,
            "manifest": None,
            "error": None,
        }
        asyncio.get_running_loop().create_task(self._run_job(job, fields))
        return web.json_response({"job": job}, status=202)

    async def _run_job(self, job: str, fields: dict[str, str]) -> None:
        stages = ["probe", "transcode", "add", "manifest", "sign", "gossip"]
        if fields.get("premium") == "true":
            stages.insert(2, "encrypt")
        for number, stage in enumerate(stages, 1):
            await asyncio.sleep(self.publish_delay_s)
            self.jobs[job].update(stage=stage, fraction=number / len(stages))
            self._emit("publish.progress", {"job": job, "stage": stage, "done": 1, "total": 1})
        if fields["title"] == "fail me":
            self.jobs[job].update(
                state="failed", error={"code": "bad_media", "message": "not a video"}
            )
            self._emit(
                "publish.failed", {"job": job, "code": "bad_media", "message": "not a video"}
            )
            return
        tags = [t.strip() for t in fields.get("tags", "").split(",") if t.strip()]
        post_id = self.add_post(ME, fields["title"], tags=tags)
        self.jobs[job].update(state="done", post_id=post_id, manifest="bafyx")
        self._emit("publish.done", {"job": job, "post_id": post_id, "manifest": "bafyx"})
        self._emit("post.new", _post_new(self.posts[0]))

    async def job(self, request: web.Request) -> web.Response:
        job = self.jobs.get(request.match_info["job"])
        if job is None:
            raise ApiError(404, "unknown_job", "no such publish job")
        return web.json_response(job)

    async def ipfs(self, request: web.Request) -> web.FileResponse:
        cid = request.match_info["cid"]
        if cid == "bafyposter" and self.poster:
            return web.FileResponse(self.poster, headers={"Content-Type": "image/png"})
        return web.FileResponse(self.media, headers={"Content-Type": "video/mp4"})

    def routes(self) -> tuple[Route, ...]:
        p = "/api/v1"
        return (
            Route("GET", "/healthz", node.healthz, ""),
            Route("GET", f"{p}/status", self.status, ""),
            Route("GET", f"{p}/events", events.events, ""),
            Route("GET", f"{p}/peers", self.peers, ""),
            Route("GET", f"{p}/feed", self.feed, ""),
            Route("GET", f"{p}/search", self.search, ""),
            Route("GET", f"{p}/posts/{{post_id}}", self.post, ""),
            Route("GET", f"{p}/posts/{{post_id}}/clip", self.clip, ""),
            Route("POST", f"{p}/posts/{{post_id}}/like", self.like, ""),
            Route("POST", f"{p}/posts/{{post_id}}/unlike", self.unlike, ""),
            Route("GET", f"{p}/creators/{{address}}", self.creator, ""),
            Route("GET", f"{p}/creators/{{address}}/posts", self.creator_posts, ""),
            Route("POST", f"{p}/creators/{{address}}/follow", self.follow, ""),
            Route("GET", f"{p}/tokens/{{token}}", self.token, ""),
            Route("GET", f"{p}/tokens/{{token}}/quote", self.quote, ""),
            Route("GET", f"{p}/tokens/{{token}}/history", self.history, ""),
            Route("GET", f"{p}/tokens/{{token}}/holders", self.holders, ""),
            Route("POST", f"{p}/tokens/{{token}}/buy", self.buy, ""),
            Route("GET", f"{p}/wallet", self.wallet, ""),
            Route("POST", f"{p}/token", self.create_token, ""),
            Route("GET", f"{p}/dashboard", self.dashboard, ""),
            Route("GET", f"{p}/portfolio", self.portfolio, ""),
            Route("GET", f"{p}/profile", self.profile, ""),
            Route("GET", f"{p}/notifications", self.notifications, ""),
            Route("GET", f"{p}/posts/{{post_id}}/comments", self.comments, ""),
            Route("GET", f"{p}/suggested-creators", self.suggested, ""),
            Route("GET", f"{p}/tags/{{tag}}", self.tag, ""),
            Route("GET", f"{p}/storage", self.storage, ""),
            Route("POST", f"{p}/profile", self.set_profile, ""),
            Route("POST", f"{p}/clips/{{post_id}}/unlock", self.unlock, ""),
            Route("GET", f"{p}/clips/{{post_id}}/buy-plan", self.buy_plan, ""),
            Route("GET", f"{p}/clips/{{post_id}}/media/{{rendition}}", self.decrypted, ""),
            Route("POST", f"{p}/publish", self.publish, "", upload=True),
            Route("GET", f"{p}/publish/{{job}}", self.job, ""),
        )


@dataclass
class FakeServer:
    """A running fake peer: ``url`` is the UI origin with a trailing slash; a browser logs in
    through :meth:`login_url`, as with a real peer."""

    peer: FakePeer
    url: str
    loop: asyncio.AbstractEventLoop
    auth: ApiAuth

    def login_url(self) -> str:
        """A fresh one-time login URL (append ``#/route`` to land on a view after the login)."""
        token: str = self.call(self.auth.tokens.issue)
        return f"{self.url}login?token={token}"

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the server's loop (the bus is loop-local)."""
        return asyncio.run_coroutine_threadsafe(_call(fn, *args), self.loop).result(10)


async def _call(fn: Any, *args: Any) -> Any:
    return fn(*args)


@contextlib.contextmanager
def serve_fake(peer: FakePeer) -> Iterator[FakeServer]:
    """Run both servers of ``peer`` on loopback in a thread with its own event loop."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runners: list[web.AppRunner] = []
    ports: list[int] = []
    failure: list[BaseException] = []
    auth = ApiAuth.generate()

    async def start() -> None:
        readiness = Readiness()
        for service in ("p2p", "store", "http"):  # what the fake's status says runs
            readiness.require(service)
            readiness.set_ready(service)
        ctx = ApiContext(readiness=readiness, bus=peer.bus, status=lambda: {})
        ui_policy, content_policy = HostPolicy(), HostPolicy()
        content = build_content_app(content_policy)
        content.router.add_get("/ipfs/{cid}", peer.ipfs)
        ui = build_ui_app(ctx, auth, ui_policy, content_policy, peer.routes())
        for app, policy in ((content, content_policy), (ui, ui_policy)):
            runner = web.AppRunner(
                app,
                access_log=None,
                handle_signals=False,
                handler_cancellation=True,
                shutdown_timeout=1,
            )
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            policy.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ports.append(policy.port)
        peer.content_origin = f"http://127.0.0.1:{content_policy.port}"
        peer.ui_origin = f"http://127.0.0.1:{ui_policy.port}"

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)
        ready.set()
        if not failure:
            loop.run_forever()

    thread = threading.Thread(target=run, name="fake-peer", daemon=True)
    thread.start()
    ready.wait(30)
    if failure:
        raise failure[0]
    try:
        yield FakeServer(peer, f"http://127.0.0.1:{ports[1]}/", loop, auth)
    finally:

        async def stop() -> None:
            for runner in reversed(runners):
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)
        loop.close()


def _post_new(item: dict[str, Any]) -> dict[str, Any]:
    """The ``post.new`` event data the daemon sends (docs/API.md)."""
    return {"post_id": item["id"], "creator": item["creator"], "fork": False}
