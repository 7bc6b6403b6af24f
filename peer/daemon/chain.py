"""The chain as a service of the composition root.

``chain.mode``: ``devnet`` starts anvil (state and deployment in ``<data-dir>/devnet``) and
connects to it; ``rpc`` connects to ``chain.rpc_url`` with the deployment in
``chain.deployment_file``; ``off`` is not built at all (no chain features, not required by
``/healthz``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from peer.config import ChainSection
from peer.daemon.wallet import DEVNET_FAUCET_ETH, DEVNET_FAUCET_TOK, WalletService
from peer.errors import ConfigError
from tokens.client import ChainClient, ClientOptions
from tokens.deployment import Deployment, load_deployment
from tokens.devnet import Devnet, DevnetOptions, find_anvil, fund_account

REPO_ROOT = Path(__file__).resolve().parents[2]


class ChainService:
    """Starts the devnet if configured, then the async chain client."""

    name = "chain"

    def __init__(
        self,
        settings: ChainSection,
        devnet_dir: Path,
        spend_limit: int | None,
        wallet: WalletService,
    ) -> None:
        if settings.mode == "rpc" and (not settings.rpc_url or not settings.deployment_file):
            raise ConfigError("chain.mode = 'rpc' needs chain.rpc_url and chain.deployment_file")
        self._settings = settings
        self._spend_limit = spend_limit
        self._wallet = wallet
        self._devnet = (
            Devnet(
                DevnetOptions(
                    state_dir=devnet_dir,
                    anvil=Path(settings.anvil_path)
                    if settings.anvil_path
                    else find_anvil(REPO_ROOT),
                    block_time=float(settings.block_time_s),
                )
            )
            if settings.mode == "devnet"
            else None
        )
        self._client: ChainClient | None = None
        self.rpc_url = settings.rpc_url
        self.deployment: Deployment | None = None

    @property
    def client(self) -> ChainClient:
        if self._client is None:
            raise RuntimeError("the chain client is not started")
        return self._client

    async def start(self) -> None:
        if self._devnet is not None:
            info = await self._devnet.start()
            self.rpc_url, self.deployment = info.rpc_url, info.deployment
        else:
            self.deployment = load_deployment(Path(self._settings.deployment_file))
        self._client = ChainClient(
            ClientOptions(
                rpc_url=self.rpc_url, deployment=self.deployment, spend_limit=self._spend_limit
            ),
            account=self._wallet.account,
        )
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
