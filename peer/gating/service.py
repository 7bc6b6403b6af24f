"""One object the composition root builds and the HTTP handlers call (``GatingService``).

Wiring (peer/daemon/app.py)::

    gating = GatingService(
        network=host, posts=FeedPosts(feed_index.queries), store=content_store,
        chain_id=deployment_chain_id, checker=OwnershipChecker(chain_client, lag=2),
        chain=chain_client,                       # quotes, buys, EIP-1271 (None: no chain)
        account=wallet_account,                   # None while the wallet is locked
        creator_keys=ClipKeyStore(data.keys, passphrase),             # serves /toktok/keys
        released=ClipKeyStore(data.keys / "released", passphrase),    # holder cache
        options=GatingOptions(),
    )
    await gating.start()  ...  await gating.stop()

The key server runs whenever ``creator_keys`` is given (a creator, or a delegate holding
exported keys); the delegate receiver accepts pushes signed by ``account``'s address.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount

from peer.bus import Event
from peer.errors import NoWalletError
from peer.events import UnlockDone, WalletTx
from peer.p2p.errors import P2PError
from peer.p2p.ports import Network
from storage.clipkeys import ClipKeyStore
from storage.ports import ContentStore
from tokens.client import DEFAULT_SLIPPAGE_BPS, ChainClient, Trade
from tokens.ownership import OwnershipChecker

from . import protocol as proto
from .buy import BuyPlan, buy_and_wait, plan_buy, wait_until_holding
from .delegation import DelegateReceiver, delegate_keys
from .errors import (
    BuyError,
    GatingError,
    KeyRefusedError,
    NoKeyServerError,
    NotPremiumError,
    ProtocolError,
    Requirements,
    SealError,
    UnknownChallengeError,
    UnknownPostError,
    UnlockFailedError,
)
from .external import Pending, PendingChallenges
from .ledger import UnlockLedger
from .playback import DecryptedMedia, decrypted_media, requirements
from .ports import GatedPost, KeySource, PostSource, ProfileKeyServers
from .server import KeyServer, KeyServerOptions
from .unlocker import TRY_NEXT, Unlocker


class Posts(PostSource, ProfileKeyServers, Protocol):
    async def premium_posts(self, creator: str, max_posts: int = ...) -> list[GatedPost]: ...


@dataclass(frozen=True, slots=True)
class GatingOptions:
    slippage_bps: int = DEFAULT_SLIPPAGE_BPS
    """Default slippage bound of ``unlock --buy`` (``wallet.slippage_bps``, 0.5 %)."""
    unlock_timeout: float = 10.0
    """Seconds per key-server request."""
    buy_wait_timeout: float = 120.0
    """Seconds to wait for the holding rule after a buy (the lag)."""
    server: KeyServerOptions = field(default_factory=KeyServerOptions)
    ledger_path: Path | None = None
    """SQLite file of the key server's unlock ledger (in memory when None)."""


class GatingService:
    def __init__(
        self,
        *,
        network: Network,
        posts: Posts,
        store: ContentStore,
        chain_id: int,
        checker: OwnershipChecker,
        chain: ChainClient | None,
        account: LocalAccount | None,
        creator_keys: ClipKeyStore | None,
        released: ClipKeyStore | None,
        options: GatingOptions | None = None,
        clock: Callable[[], float] = time.time,
        publish: Callable[[Event], None] = lambda event: None,
    ) -> None:
        self._clock = clock
        self._publish = publish
        self._network, self._posts, self._store = network, posts, store
        self._chain_id, self._checker, self._chain = chain_id, checker, chain
        self._account, self._creator_keys, self._released = account, creator_keys, released
        self._options = options or GatingOptions()
        self.server: KeyServer | None = None
        self._receiver: DelegateReceiver | None = None
        self._pending = PendingChallenges()

    async def start(self) -> None:
        if self._creator_keys is not None:
            ledger = UnlockLedger(
                self._options.ledger_path,
                peers_per_day=self._options.server.peers_per_day,
                clock=self._clock,
            )
            self.server = KeyServer(
                self._network, self._creator_keys, self._posts, self._checker, self._chain_id,
                signatures=self._chain, options=self._options.server, clock=self._clock,
                ledger=ledger,
            )  # fmt: skip
            await self.server.start()
            if self._account is not None:
                self._receiver = DelegateReceiver(
                    self._network, self._creator_keys, str(self._account.address)
                )
                await self._receiver.start()

    async def stop(self) -> None:
        if self._receiver is not None:
            await self._receiver.stop()
        if self.server is not None:
            await self.server.stop()

    async def post(self, post_id: bytes) -> GatedPost:
        post = await self._posts.gated_post(post_id)
        if post is None:
            raise UnknownPostError(f"post 0x{post_id.hex()} is not in the local feed")
        return post

    def _keys(self) -> list[KeySource]:
        return [k for k in (self._creator_keys, self._released) if k is not None]

    def _unlocker(self, external: bool = False) -> Unlocker:
        """The holder side; ``external``: for a browser wallet (the peer's wallet is not
        needed then, only the key cache it encrypts)."""
        if self._released is None or (self._account is None and not external):
            raise NoWalletError("unlock the wallet first ('toktok wallet ...')")
        return Unlocker(
            self._network, self._account, self._chain_id, self._released, self._store,
            self._posts, timeout=self._options.unlock_timeout, clock=self._clock,
        )  # fmt: skip

    async def _servers(self, post: GatedPost) -> list[str]:
        more = await self._posts.profile_key_servers(post.creator)
        return list(dict.fromkeys((*post.key_servers, *more)))

    def _holder(self, holder: str | None) -> str | None:
        """The holder address of the request: a browser wallet's, else the peer's own."""
        if holder is not None:
            return holder
        return None if self._account is None else str(self._account.address)

    async def requirements(self, post_id: bytes, holder: str | None = None) -> Requirements:
        """GET .../requirements: what unlocking this post takes for ``holder`` (default: our
        wallet)."""
        post = await self.post(post_id)
        viewer = self._holder(holder)
        return await requirements(
            post, viewer, self._checker, self._chain, await self._servers(post)
        )

    async def media(self, post_id: bytes, rendition: str) -> DecryptedMedia:
        """GET /api/v1/clips/<post id>/media/<rendition> (LockedError -> 402)."""
        post = await self.post(post_id)
        viewer = None if self._account is None else str(self._account.address)
        return await decrypted_media(
            post, rendition, self._store, self._keys(), viewer=viewer, checker=self._checker,
            quoter=self._chain, key_servers=await self._servers(post),
        )  # fmt: skip

    async def plan_buy(
        self, post_id: bytes, slippage_bps: int | None = None, holder: str | None = None
    ) -> BuyPlan | None:
        """The quote ``unlock --buy`` shows before asking for confirmation (for ``holder``,
        a browser wallet's address, else our wallet)."""
        who = self._holder(holder)
        if who is None or self._chain is None:
            raise NoWalletError("buying needs an unlocked wallet and a chain")
        post = await self.post(post_id)
        bps = self._options.slippage_bps if slippage_bps is None else slippage_bps
        return await plan_buy(post, who, self._checker, self._chain, bps)

    async def unlock(
        self, post_id: bytes, *, buy: bool = False, max_cost: int | None = None
    ) -> dict[str, Any]:
        """POST .../unlock: optionally buy the missing amount (confirmed by the caller with
        ``max_cost`` from :meth:`plan_buy`), wait for the lag, then fetch the key."""
        post = await self.post(post_id)
        unlocker = self._unlocker()
        bought = None
        if buy:
            plan = await self.plan_buy(post_id)
            if plan is not None:
                if max_cost is None or plan.max_cost > max_cost:
                    raise BuyError(
                        f"buying {plan.amount} base units may cost {plan.max_cost} TOK base "
                        f"units, over the confirmed maximum {max_cost}"
                    )
                assert self._chain is not None

                async def confirmed(_: BuyPlan) -> bool:
                    return True

                def bought_event(trade: Trade) -> None:
                    self._publish(WalletTx("buy", trade.tx_hash, post.token, str(trade.amount)))

                await buy_and_wait(
                    post, unlocker.address, self._checker, self._chain, plan, confirmed,
                    timeout=self._options.buy_wait_timeout, on_bought=bought_event,
                )  # fmt: skip
                bought = {"amount": str(plan.amount), "maxCost": str(plan.max_cost)}
        await unlocker.unlock(post)
        self._publish(UnlockDone("0x" + post_id.hex()))
        return {"post": "0x" + post_id.hex(), "unlocked": True, "bought": bought}

    async def challenge(
        self, post_id: bytes, holder: str, domain: str, *, wait: bool = False
    ) -> dict[str, Any]:
        """POST .../unlock/challenge: the EIP-4361 message a browser wallet signs for
        ``holder`` (``domain``: the page's loopback host:port). ``wait``: the holder just
        bought, so wait out the holding window first. A clip whose key this peer holds
        already answers ``unlocked: true`` and nothing to sign."""
        post = await self.post(post_id)
        if not post.premium:
            raise NotPremiumError("the post is not premium: nothing to unlock")
        unlocker = self._unlocker(external=True)
        if await unlocker.cached(post) is not None:
            return {"post": "0x" + post_id.hex(), "unlocked": True}
        if wait:
            await wait_until_holding(
                post, holder, self._checker, timeout=self._options.buy_wait_timeout
            )
        servers = await unlocker.key_servers(post)
        if not servers:
            raise NoKeyServerError("neither the post nor the creator's profile lists a key server")
        return await self._next_challenge(unlocker, post, holder, domain, servers, 0, [])

    async def _next_challenge(
        self,
        unlocker: Unlocker,
        post: GatedPost,
        holder: str,
        domain: str,
        servers: list[str],
        start: int,
        attempts: list[tuple[str, Exception]],
    ) -> dict[str, Any]:
        """A challenge from the first server at or after ``start`` that issues a nonce."""
        for index in range(start, len(servers)):
            try:
                challenge = await unlocker.challenge(servers[index], post, holder, domain)
            except KeyRefusedError as exc:
                attempts.append((servers[index], exc))
                if exc.code in TRY_NEXT:
                    continue
                break
            except (P2PError, ProtocolError) as exc:
                attempts.append((servers[index], exc))
                continue
            ident = self._pending.add(Pending(challenge, servers, index, domain, attempts))
            return {
                "post": "0x" + post.post_id.hex(),
                "unlocked": False,
                "challenge": ident,
                "message": challenge.message,
                "holder": challenge.holder,
                "server": challenge.server,
                "expires_in": int(proto.DEFAULT_LIFETIME.total_seconds()),
            }
        summary = "; ".join(f"{s}: {e}" for s, e in attempts)
        raise UnlockFailedError(f"no key server released the key ({summary})", attempts)

    async def redeem(self, post_id: bytes, challenge_id: str, signature: bytes) -> dict[str, Any]:
        """POST .../unlock/signature: send the browser wallet's signature of a challenge;
        the released key is verified and cached. When that server refuses with a code after
        which another may release (or cannot be reached), the answer is the next server's
        challenge (``next``) to sign."""
        pending = self._pending.take(challenge_id)
        if pending.challenge.post.post_id != post_id:
            raise UnknownChallengeError("this challenge is for another post")
        challenge, unlocker = pending.challenge, self._unlocker(external=True)
        post = challenge.post
        try:
            key = await unlocker.redeem(challenge, signature)
            await unlocker.keep(post, key)
        except KeyRefusedError as exc:
            pending.attempts.append((challenge.server, exc))
            if exc.code not in TRY_NEXT:
                raise UnlockFailedError(f"the key server refused: {exc}", pending.attempts) from exc
            return await self._retry(unlocker, pending)
        except (P2PError, ProtocolError, SealError, GatingError) as exc:
            pending.attempts.append((challenge.server, exc))
            return await self._retry(unlocker, pending)
        self._publish(UnlockDone("0x" + post.post_id.hex()))
        return {"post": "0x" + post.post_id.hex(), "unlocked": True}

    async def _retry(self, unlocker: Unlocker, pending: Pending) -> dict[str, Any]:
        c = pending.challenge
        following = await self._next_challenge(
            unlocker, c.post, c.holder, pending.domain, pending.servers, pending.index + 1,
            pending.attempts,
        )  # fmt: skip
        return {"post": "0x" + c.post.post_id.hex(), "unlocked": False, "next": following}

    async def unlock_creator(self, creator: str) -> list[dict[str, Any]]:
        """POST /api/v1/creators/<address>/unlock: every premium post we qualify for."""
        unlocker = self._unlocker()
        results = await unlocker.unlock_many(await self._posts.premium_posts(creator))
        for result in results:
            if result.key is not None:
                self._publish(UnlockDone("0x" + result.post_id.hex()))
        return [
            {
                "post": "0x" + r.post_id.hex(),
                "unlocked": r.key is not None,
                "error": None if r.error is None else str(r.error),
                "code": getattr(r.error, "code", None),
            }
            for r in results
        ]

    async def delegate(self, peer: str) -> int:
        """POST /api/v1/gating/delegate: push our clip keys to another of our peers."""
        if self._account is None or self._creator_keys is None:
            raise NoWalletError("delegation needs the creator's unlocked wallet and key store")
        keys_store = self._creator_keys
        ids = await asyncio.to_thread(keys_store.ids)
        keys = {cid: await asyncio.to_thread(keys_store.get, cid) for cid in ids}
        return await delegate_keys(self._network, peer, keys, self._account)
