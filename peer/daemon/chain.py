"""The chain as a service of the composition root.

``chain.mode``: ``devnet`` starts anvil (state and deployment in ``<data-dir>/devnet``) and
connects to it; ``rpc`` uses the network profile in ``chain.deployment_file`` (loaded by the
composition root, :mod:`peer.network`) and its RPC URL, and before anything else checks that
the chain's id and the code at every address are what our own artifacts make (a foreign
profile makes the start fail); ``off`` is not built at all (no chain features, not required
by ``/healthz``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peer.config import ChainSection
from peer.daemon.wallet import DEVNET_FAUCET_ETH, DEVNET_FAUCET_TOK, WalletService
from peer.errors import ConfigError
from peer.network import rpc_url
from tokens.client import ChainClient, ClientOptions
from tokens.deployment import Deployment
from tokens.devnet import Devnet, DevnetOptions, find_anvil, fund_account

REPO_ROOT = Path(__file__).resolve().parents[2]


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
        network: Deployment | None = None,
    ) -> None:
        if settings.mode == "rpc" and network is None:
            raise ConfigError("chain.mode = 'rpc' needs a network profile (chain.deployment_file)")
        self._settings = settings
        self._spend_limit = spend_limit
        self._wallet = wallet
        self._devnet = (
            Devnet(devnet_options(settings, devnet_dir)) if settings.mode == "devnet" else None
        )
        self._client: ChainClient | None = None
        self.rpc_url = rpc_url(settings, network) if network is not None else settings.rpc_url
        self.deployment: Deployment | None = network

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
                rpc_url=self.rpc_url, deployment=self.deployment, spend_limit=self._spend_limit
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

    async def stop(self) -> None:
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
        }
