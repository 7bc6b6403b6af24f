"""Devnet lifecycle: deployment survives restarts, loopback only, clear failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account

from tokens.artifacts import artifacts_fingerprint
from tokens.client import ChainClient, ClientOptions
from tokens.devnet import DEV_PRIVATE_KEYS, Devnet, DevnetOptions
from tokens.errors import DevnetError, StateUnavailableError
from tokens.ownership import OwnershipChecker

pytestmark = pytest.mark.integration


async def test_restart_keeps_deployment_tokens_and_balances(
    tmp_path: Path, make_options: Callable[..., DevnetOptions]
) -> None:
    async with Devnet(make_options(tmp_path)) as first:
        assert first.fresh_deployment
        written = json.loads((tmp_path / "deployment.json").read_text())
        assert written["tok"] == first.deployment.tok
        assert written["chain_id"] == 31337
        options = ClientOptions(rpc_url=first.rpc_url, deployment=first.deployment)
        async with ChainClient(options, Account.from_key(DEV_PRIVATE_KEYS[1])) as c:
            token = await c.create_token("Keeper", "KEEP")
            await c.buy(token, 10**18)
    async with Devnet(make_options(tmp_path)) as second:
        assert not second.fresh_deployment
        assert second.deployment == first.deployment
        options = ClientOptions(rpc_url=second.rpc_url, deployment=second.deployment)
        async with ChainClient(options) as c:
            creator = Account.from_key(DEV_PRIVATE_KEYS[1]).address
            assert await c.token_of(creator) == token
            assert await c.balance_of(token, creator) == 10**18
            history = await c.price_history(token)  # logs of blocks before the restart
            assert [(p.trade.kind, p.supply) for p in history] == [("buy", 10**18)]
            assert await c.holders(token) == {creator: 10**18}
            # Anvil keeps no state for blocks before the restart: until `lag` new blocks
            # exist the holding check fails closed with a typed error, then it works.
            checker = OwnershipChecker(c, lag=2)
            with contextlib.suppress(StateUnavailableError):
                await checker.holds(token, creator, 10**18)
            target = await c.block_number() + 3
            for _ in range(300):
                if await c.block_number() >= target:
                    break
                await asyncio.sleep(0.1)
            assert await checker.holds(token, creator, 10**18)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "localhost"])
async def test_all_interfaces_or_a_name_is_refused(
    tmp_path: Path, anvil_path: Path, host: str
) -> None:
    options = DevnetOptions(state_dir=tmp_path, anvil=anvil_path, host=host)
    with pytest.raises(DevnetError, match=r"every interface|IP address"):
        await Devnet(options).start()


async def test_missing_anvil_binary_is_reported(tmp_path: Path) -> None:
    options = DevnetOptions(state_dir=tmp_path, anvil=tmp_path / "no-anvil")
    with pytest.raises(DevnetError, match="anvil not found"):
        await Devnet(options).start()


async def test_stop_is_idempotent_and_leaves_no_process(
    tmp_path: Path, make_options: Callable[..., DevnetOptions]
) -> None:
    devnet = Devnet(make_options(tmp_path))
    await devnet.start()
    process = devnet._process
    assert process is not None
    await devnet.stop()
    await devnet.stop()
    assert process.returncode is not None


@pytest.mark.parametrize("recorded", ["sha256:" + "0" * 64, None])
async def test_a_devnet_deployed_from_other_artifacts_is_redeployed_on_an_empty_chain(
    tmp_path: Path, make_options: Callable[..., DevnetOptions], recorded: str | None
) -> None:
    creator = Account.from_key(DEV_PRIVATE_KEYS[1]).address
    async with Devnet(make_options(tmp_path)) as first:
        assert not first.reset_for_new_contracts
        options = ClientOptions(rpc_url=first.rpc_url, deployment=first.deployment)
        async with ChainClient(options, Account.from_key(DEV_PRIVATE_KEYS[1])) as c:
            await c.create_token("Old Code", "OLD")
    # The deployment file as an older build left it: another fingerprint, or none at all
    # (files written before the fingerprint was recorded).
    path = tmp_path / "deployment.json"
    data = json.loads(path.read_text())
    if recorded is None:
        del data["artifacts"]
    else:
        data["artifacts"] = recorded
    path.write_text(json.dumps(data))
    async with Devnet(make_options(tmp_path)) as second:
        assert second.reset_for_new_contracts
        assert second.fresh_deployment
        # An empty chain: the same deployer nonces give the same addresses, without the
        # old token; the deployment file now carries the current fingerprint.
        assert (second.deployment.tok, second.deployment.factory) == (
            first.deployment.tok,
            first.deployment.factory,
        )
        assert second.deployment.artifacts == first.deployment.artifacts
        assert json.loads(path.read_text())["artifacts"] == artifacts_fingerprint()
        options = ClientOptions(rpc_url=second.rpc_url, deployment=second.deployment)
        async with ChainClient(options) as c:
            assert await c.token_of(creator) is None
            assert await c.tok_balance(creator) == 1_000_000 * 10**18
    async with Devnet(make_options(tmp_path)) as third:  # the current code is kept
        assert not third.reset_for_new_contracts
        assert not third.fresh_deployment
