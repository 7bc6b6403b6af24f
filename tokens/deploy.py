"""Deploy TOK, the CreatorToken blueprint and the factory; check a deployment is live."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_utils.address import is_address
from web3 import AsyncWeb3
from web3.types import TxReceipt

from tokens.artifacts import artifacts_fingerprint, load_artifact
from tokens.deployment import Deployment
from tokens.errors import DeploymentError
from tokens.rpc import TxSender, Web3, call

DEFAULT_BASE_PRICE = 10**16  # 0.01 TOK per whole token at supply 0
DEFAULT_SLOPE = 10**15  # +0.001 TOK per whole token of supply
DEFAULT_CREATOR_FEE_BPS = 500  # 5 %
DEFAULT_PROTOCOL_FEE_BPS = 200  # 2 %
# The devnet TOK's cap: 10**18 whole TOK, far above anything its faucet hands out.
DEVNET_TOK_CAP = 10**36


@dataclass(frozen=True)
class TokSupply:
    """TOK's supply at deployment (``contracts/TOK.vy``): one contract, two uses.

    ``faucet()`` (the devnet): nothing minted, a large cap, the deployer owns TOK and mints
    to demo accounts. ``fixed(holder, supply)`` (a public network): the whole supply minted
    to `holder` at deployment and the cap equal to it, so the constructor leaves TOK without
    an owner and nobody can ever mint.
    """

    initial_holder: str
    initial_supply: int
    cap: int

    def __post_init__(self) -> None:
        if not 0 <= self.initial_supply <= self.cap or self.cap <= 0:
            raise DeploymentError("TOK needs 0 <= initial supply <= cap and a positive cap")
        if self.initial_supply > 0 and not self.initial_holder:
            raise DeploymentError("a TOK initial supply needs a holder address")
        if self.initial_holder and not is_address(self.initial_holder):
            raise DeploymentError(f"not an address: {self.initial_holder!r}")

    @classmethod
    def faucet(cls, cap: int = DEVNET_TOK_CAP) -> TokSupply:
        return cls("", 0, cap)

    @classmethod
    def fixed(cls, holder: str, supply: int) -> TokSupply:
        return cls(holder, supply, supply)

    @property
    def mintable(self) -> bool:
        """Whether the deployer keeps the right to mint (a faucet)."""
        return self.initial_supply < self.cap


_DEVNET_SUPPLY = TokSupply.faucet()


@dataclass(frozen=True)
class DeployParams:
    """Factory parameters, fixed forever once deployed, and TOK's supply."""

    treasury: str
    base_price: int = DEFAULT_BASE_PRICE
    slope: int = DEFAULT_SLOPE
    creator_fee_bps: int = DEFAULT_CREATOR_FEE_BPS
    protocol_fee_bps: int = DEFAULT_PROTOCOL_FEE_BPS
    tok: TokSupply = _DEVNET_SUPPLY


def _created_address(receipt: TxReceipt, what: str) -> str:
    address = receipt.get("contractAddress")
    if not address:
        raise DeploymentError(f"{what}: no contract address in the receipt")
    return str(address)


async def deploy_system(
    w3: Web3, sender: TxSender, params: DeployParams, build_dir: Path | None = None
) -> Deployment:
    """Deploy TOK + blueprint + factory from `sender`.

    With ``params.tok`` a faucet (the default) `sender` owns TOK and may mint; with a fixed
    supply TOK has no owner from its first block.
    """
    tok_art = load_artifact("TOK", build_dir)
    token_art = load_artifact("CreatorToken", build_dir)
    factory_art = load_artifact("CreatorTokenFactory", build_dir)
    chain_id = await call("read chain id", w3.eth.chain_id)
    start_block = await call("read block number", w3.eth.block_number)
    supply = params.tok
    holder = AsyncWeb3.to_checksum_address(supply.initial_holder or sender.address)
    tok_init = (
        w3.eth.contract(abi=tok_art.abi, bytecode=tok_art.bytecode)
        .constructor(holder, supply.initial_supply, supply.cap)
        .data_in_transaction
    )
    tok_hash = await sender.send(None, tok_init, "deploy TOK")
    bp_hash = await sender.send(None, token_art.blueprint_bytecode, "deploy CreatorToken blueprint")
    tok = _created_address(await sender.wait(tok_hash, "deploy TOK"), "deploy TOK")
    blueprint = _created_address(await sender.wait(bp_hash, "deploy blueprint"), "deploy blueprint")
    factory_contract = w3.eth.contract(abi=factory_art.abi, bytecode=factory_art.bytecode)
    init = factory_contract.constructor(
        blueprint,
        tok,
        AsyncWeb3.to_checksum_address(params.treasury),
        params.base_price,
        params.slope,
        params.creator_fee_bps,
        params.protocol_fee_bps,
    ).data_in_transaction
    receipt = await sender.transact(None, init, "deploy CreatorTokenFactory")
    factory = _created_address(receipt, "deploy factory")
    return Deployment(
        chain_id=chain_id,
        tok=tok,
        factory=factory,
        start_block=start_block,
        blueprint=blueprint,
        treasury=AsyncWeb3.to_checksum_address(params.treasury),
        base_price=params.base_price,
        slope=params.slope,
        creator_fee_bps=params.creator_fee_bps,
        protocol_fee_bps=params.protocol_fee_bps,
        tok_cap=supply.cap,
        artifacts=artifacts_fingerprint(build_dir),
    )


async def is_live(w3: Web3, deployment: Deployment) -> bool:
    """True when the chain id matches and TOK and the factory have code."""
    if await call("read chain id", w3.eth.chain_id) != deployment.chain_id:
        return False
    for address in (deployment.tok, deployment.factory):
        code = await call("read code", w3.eth.get_code(AsyncWeb3.to_checksum_address(address)))
        if len(code) == 0:
            return False
    return True
