"""TOK must be a plain ERC-20: the probe transfer passes ours and catches a fee-on-transfer one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from tokens import build
from tokens.devnet import DevnetInfo
from tokens.errors import NotPlainTokenError
from tokens.plaintoken import check_plain_erc20
from tokens.rpc import TxSender, connect, disconnect

pytestmark = pytest.mark.integration

FEE_TOKEN = Path(__file__).resolve().parents[2] / "contracts" / "FeeOnTransferToken.vy"


@pytest.fixture(scope="module")
def fee_token_artifact() -> dict[str, Any]:
    return build.compile_file(FEE_TOKEN)


@pytest.mark.parametrize("to_self", [True, False])
async def test_tok_is_a_plain_erc20(devnet: DevnetInfo, to_self: bool) -> None:
    w3 = connect(devnet.rpc_url)
    try:
        sender = TxSender(w3, Account.from_key(devnet.dev_keys[4]), devnet.chain_id)
        other = None if to_self else Account.create().address
        result = await check_plain_erc20(w3, sender, devnet.deployment.tok, 10**18, other)
        assert result.supply_delta == 0
        assert result.sender_delta == (0 if to_self else -(10**18))
    finally:
        await disconnect(w3)


@pytest.mark.parametrize("to_self", [True, False])
async def test_a_fee_on_transfer_token_is_refused(
    devnet: DevnetInfo, fee_token_artifact: dict[str, Any], to_self: bool
) -> None:
    w3 = connect(devnet.rpc_url)
    try:
        account = Account.from_key(devnet.dev_keys[5])
        sender = TxSender(w3, account, devnet.chain_id)
        art = fee_token_artifact
        init = (
            w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
            .constructor(account.address, 10**24)
            .data_in_transaction
        )
        token = str((await sender.transact(None, init, "deploy a fee token"))["contractAddress"])
        other = None if to_self else Account.create().address
        with pytest.raises(NotPlainTokenError, match="not a plain ERC-20"):
            await check_plain_erc20(w3, sender, token, 10**18, other)
    finally:
        await disconnect(w3)
