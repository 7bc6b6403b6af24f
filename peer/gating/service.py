"""One object the composition root builds and the HTTP handlers call (``GatingService``).

Wiring (peer/daemon/app.py)::

    gating = GatingService(
        network=host, posts=FeedPosts(feed_index), store=content_store,
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
from peer.p2p.ports import Network
from storage.clipkeys import ClipKeyStore
from storage.ports import ContentStore
from tokens.client import DEFAULT_SLIPPAGE_BPS, ChainClient, Trade
from tokens.ownership import OwnershipChecker

from .buy import BuyPlan, buy_and_wait, plan_buy
from .delegation import DelegateReceiver, delegate_keys
from .errors import BuyError, Requirements, UnknownPostError
from .ledger import UnlockLedger
from .playback import DecryptedMedia, decrypted_media, requirements
from .ports import GatedPost, KeySource, PostSource, ProfileKeyServers
from .server import KeyServer, KeyServerOptions
from .unlocker import Unlocker


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

    def _unlocker(self) -> Unlocker:
        if self._account is None or self._released is None:
            raise NoWalletError("unlock the wallet first ('toktok wallet ...')")
        return Unlocker(
            self._network, self._account, self._chain_id, self._released, self._store,
            self._posts, timeout=self._options.unlock_timeout, clock=self._clock,
        )  # fmt: skip

    async def _servers(self, post: GatedPost) -> list[str]:
        more = await self._posts.profile_key_servers(post.creator)
        return list(dict.fromkeys((*post.key_servers, *more)))

    async def requirements(self, post_id: bytes) -> Requirements:
        """GET .../requirements: what unlocking this post takes for our wallet."""
        post = await self.post(post_id)
        viewer = None if self._account is None else str(self._account.address)
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

    async def plan_buy(self, post_id: bytes, slippage_bps: int | None = None) -> BuyPlan | None:
        """The quote ``unlock --buy`` shows before asking for confirmation."""
        if self._account is None or self._chain is None:
            raise NoWalletError("buying needs an unlocked wallet and a chain")
        post = await self.post(post_id)
        bps = self._options.slippage_bps if slippage_bps is None else slippage_bps
        return await plan_buy(post, str(self._account.address), self._checker, self._chain, bps)

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
