"""The chain as a service of the composition root.

``chain.mode``: ``devnet`` starts anvil (state and deployment in ``<data-dir>/devnet``) and
connects to it; ``rpc`` uses the network profile in ``chain.deployment_file`` (loaded by the
composition root, :mod:`peer.network`) and its RPC URL, and before anything else checks that
the chain's id and the code at every address are what our own artifacts make (a foreign
profile makes the start fail); ``off`` is not built at all (no chain features, not required
by ``/healthz``).

Once started, a watcher probes the chain (``eth_blockNumber``) every ``health_interval_s``;
the outcome goes to ``on_health`` (the composition root's readiness: ``/healthz`` says the
chain is not ready while it does not answer). After a failure it probes again after 1 s,
doubling up to ``health_backoff_max_s``. On the devnet, an anvil that died is restarted from
its state file on the same port (with the same backoff between attempts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peer.config import ChainSection
from peer.daemon.wallet import DEVNET_FAUCET_ETH, DEVNET_FAUCET_TOK, WalletService
from peer.errors import ConfigError
from peer.network import rpc_url
from tokens.client import (
    DEFAULT_LARGE_TRADE_TOK,
    DEFAULT_SLIPPAGE_BPS,
    ChainClient,
    ClientOptions,
)
from tokens.deployment import Deployment
from tokens.devnet import Devnet, DevnetOptions, find_anvil, fund_account
from tokens.errors import ChainError, TokensError

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRST_RETRY_S = 1.0
log = logging.getLogger(__name__)
HealthHook = Callable[[str | None], None]
"""Told ``None`` when the chain answers again, or the reason it does not."""


def devnet_options(settings: ChainSection, devnet_dir: Path) -> DevnetOptions:
    """How the devnet of ``chain.*`` settings runs (the daemon and ``toktok devnet`` agree)."""
    anvil = Path(settings.anvil_path) if settings.anvil_path else find_anvil(REPO_ROOT)
    return DevnetOptions(
        state_dir=devnet_dir,
        anvil=anvil,
        host=settings.devnet_host,
        port=settings.devnet_port,
        block_time=float(settings.block_time_s),
    )


class ChainService:
    """Starts the devnet if configured, then the async chain client."""

    name = "chain"

    def __init__(
        self,
        settings: ChainSection,
        devnet_dir: Path,
        spend_limit: int | None,
        wallet: WalletService,
        slippage_bps: int = DEFAULT_SLIPPAGE_BPS,
        large_trade_tok: int = DEFAULT_LARGE_TRADE_TOK,
        network: Deployment | None = None,
        on_health: HealthHook | None = None,
    ) -> None:
        if settings.mode == "rpc" and network is None:
            raise ConfigError("chain.mode = 'rpc' needs a network profile (chain.deployment_file)")
        self._settings = settings
        self._spend_limit = spend_limit
        self._slippage_bps = slippage_bps
        self.large_trade_tok = large_trade_tok
        """Trades of at least this many whole TOK are confirmed with a sandwich warning."""
        self._wallet = wallet
        self._devnet = (
            Devnet(devnet_options(settings, devnet_dir)) if settings.mode == "devnet" else None
        )
        self._client: ChainClient | None = None
        self.rpc_url = rpc_url(settings, network) if network is not None else settings.rpc_url
        self.deployment: Deployment | None = network
        self._on_health = on_health or (lambda _reason: None)
        self._watcher: asyncio.Task[None] | None = None
        self.problem: str | None = None
        """Why the last probe failed (None while the chain answers)."""

    @property
    def client(self) -> ChainClient:
        if self._client is None:
            raise RuntimeError("the chain client is not started")
        return self._client

    async def start(self) -> None:
        if self._devnet is not None:
            info = await self._devnet.start()
            self.rpc_url, self.deployment = info.rpc_url, info.deployment
        assert self.deployment is not None  # rpc mode: checked in __init__
        self._client = ChainClient(
            ClientOptions(
                rpc_url=self.rpc_url,
                deployment=self.deployment,
                spend_limit=self._spend_limit,
                slippage_bps=self._slippage_bps,
            ),
            account=self._wallet.account,
        )
        if self._devnet is None:
            # A profile is somebody's word: check the chain id and every contract's code.
            await self._client.verify_deployment()
        await self._client.block_number()  # reachable, or start fails with a clear error
        address = self._wallet.address
        if self._devnet is not None and address and await self._client.tok_balance(address) == 0:
            await fund_account(
                self.rpc_url,
                self.deployment,
                address,
                tok=DEVNET_FAUCET_TOK,
                eth_wei=DEVNET_FAUCET_ETH,
            )
        self._watcher = asyncio.create_task(self._watch(), name="chain health")

    async def _watch(self) -> None:
        """Probe the chain for ever: report its health, restart a dead devnet, back off."""
        wait = self._settings.health_interval_s
        while True:
            await asyncio.sleep(wait)
            try:
                problem = await self.probe()
            except Exception as exc:  # a bug must not end supervision silently
                log.exception("chain health probe failed")
                problem = f"health probe failed: {exc!r}"
            if problem is None:
                wait = self._settings.health_interval_s
            else:
                wait = FIRST_RETRY_S if self.problem is None else wait * 2
                wait = min(wait, self._settings.health_backoff_max_s)
            self._report(problem)

    def _report(self, problem: str | None) -> None:
        if problem == self.problem:
            return
        if problem is None:
            log.info("the chain answers again")
        else:
            log.warning("the chain is unavailable: %s", problem)
        self.problem = problem
        self._on_health(problem)

    async def probe(self) -> str | None:
        """One health check (restarting a dead devnet first); None when the chain answers."""
        devnet = self._devnet
        if devnet is not None and devnet.exited:
            self._report("anvil died; restarting it from its state file")
            try:
                await devnet.restart()
            except (TokensError, OSError) as exc:
                return f"anvil died and could not be restarted: {exc}"
        try:
            await self.client.block_number()
        except ChainError as exc:
            return f"the chain does not answer: {exc}"
        return None

    async def stop(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        client, self._client = self._client, None
        try:
            if client is not None:
                await client.close()
        finally:
            if self._devnet is not None:
                await self._devnet.stop()

    def status(self) -> dict[str, Any]:
        d = self.deployment
        return {
            "mode": self._settings.mode,
            "rpc_url": self.rpc_url,
            "chain_id": d.chain_id if d else None,
            "tok": d.tok if d else None,
            "factory": d.factory if d else None,
            "healthy": self.problem is None,
            "problem": self.problem,
            "devnet_restarts": self._devnet.restarts if self._devnet is not None else 0,
        }
