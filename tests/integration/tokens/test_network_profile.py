"""Network profiles against a real chain: our code verifies, anything else is refused.

A profile is somebody's word; the peer computes the code each address must hold from its own
artifacts (tokens.codecheck). The daemon and the CLI flow (`network create`, `init --network`,
`toktok run`) are exercised end to end on an anvil devnet.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from eth_abi.abi import encode
from eth_account import Account
from support.daemon import Daemon, eventually, run_cli, spawn_daemon

from tokens.artifacts import load_artifact
from tokens.codecheck import verify_deployment
from tokens.deployment import load_deployment, save_deployment
from tokens.devnet import DevnetInfo
from tokens.errors import ChainMismatchError, ForeignCodeError
from tokens.rpc import TxSender, connect, disconnect

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("change", "error", "names"),
    [
        ({"chain_id": 1}, ChainMismatchError, "chain id 31337"),
        ({"slope": 1}, ForeignCodeError, "immutable slope"),
        ({"treasury": "0x000000000000000000000000000000000000dEaD"}, ForeignCodeError, "treasury"),
        ({"tok": "factory"}, ForeignCodeError, "TOK"),
        ({"blueprint": "tok"}, ForeignCodeError, "blueprint"),
    ],
)
async def test_a_profile_that_is_not_our_deployment_is_refused(
    devnet: DevnetInfo, change: dict[str, object], error: type[Exception], names: str
) -> None:
    d = devnet.deployment
    patch = {k: getattr(d, str(v)) if v in ("factory", "tok") else v for k, v in change.items()}
    w3 = connect(devnet.rpc_url)
    try:
        await verify_deployment(w3, d)  # the genuine deployment passes
        with pytest.raises(error, match=names):
            await verify_deployment(w3, replace(d, **patch))  # type: ignore[arg-type]
    finally:
        await disconnect(w3)


def _modified_tok_bytecode() -> str:
    """TOK's deploy code with its symbol changed from TOK to TOX: the same length, so the code
    is valid and deploys, but the immutable ``erc20.symbol`` it writes is not ours (the same
    kind of foreign copy a recompiled source gives, without a vyper run)."""
    code = load_artifact("TOK").bytecode.removeprefix("0x")
    symbol = "7f" + b"TOK".hex() + "00" * 29  # PUSH32 "TOK", left-aligned
    assert code.count(symbol) == 1, "the symbol literal is where it was"
    return "0x" + code.replace(symbol, "7f" + b"TOX".hex() + "00" * 29)


async def _deploy_modified_tok(devnet: DevnetInfo) -> str:
    """A copy of TOK with another symbol, deployed: code that is not ours."""
    bytecode = _modified_tok_bytecode()
    w3 = connect(devnet.rpc_url)
    try:
        sender = TxSender(w3, Account.from_key(devnet.dev_keys[3]), devnet.chain_id)
        args = encode(
            ["address", "uint256", "uint256"], [sender.address, 0, devnet.deployment.tok_cap]
        )
        receipt = await sender.transact(None, bytecode + args.hex(), "deploy a modified TOK")
        return str(receipt["contractAddress"])
    finally:
        await disconnect(w3)


ZERO = "0x0000000000000000000000000000000000000000"


async def _tok_state(rpc_url: str, tok: str, holder: str) -> tuple[str, int, int]:
    w3 = connect(rpc_url)
    try:
        c = w3.eth.contract(address=tok, abi=load_artifact("TOK").abi)
        return (
            str(await c.functions.owner().call()),
            int(await c.functions.totalSupply().call()),
            int(await c.functions.balanceOf(holder).call()),
        )
    finally:
        await disconnect(w3)


def _env() -> dict[str, str]:
    return {"TOKTOK_CHAIN_MODE": "rpc"}


def test_network_create_join_and_run_and_a_tampered_profile_stops_the_start(
    devnet: DevnetInfo, tmp_path: Path
) -> None:
    key_file = tmp_path / "deployer.key"
    key_file.write_text(devnet.dev_keys[2])
    key_file.chmod(0o600)
    profile_file = tmp_path / "friends.json"
    created = run_cli(
        tmp_path / "unused", "network", "create", "--rpc-url", devnet.rpc_url,
        "--key-file", str(key_file), "--name", "friends", "--out", str(profile_file), "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    profile = load_deployment(profile_file)
    assert profile.name == "friends"
    assert profile.rpc_urls == (devnet.rpc_url,)
    assert profile.factory != devnet.deployment.factory  # a deployment of its own
    # The public TOK: the whole supply minted to the deployer, no owner, nobody can mint.
    deployer = Account.from_key(devnet.dev_keys[2]).address
    supply = 10**9 * 10**18
    assert asyncio.run(_tok_state(devnet.rpc_url, profile.tok, deployer)) == (ZERO, supply, supply)
    assert profile.tok_cap == supply

    data = tmp_path / "fan"
    joined = run_cli(data, "init", "--network", str(profile_file), env=_env())
    assert joined.returncode == 0, joined.stderr
    daemon: Daemon = spawn_daemon(data, env=_env())
    try:
        status, health = daemon.get("/healthz")
        assert status == 200, health
        assert health["services"]["chain"] == "ready", health
    finally:
        daemon.kill()

    # Each of these makes `toktok run` refuse, naming what differs: another chain, a factory
    # with other parameters, a modified copy of TOK, a blueprint that is not ours.
    fake_tok = asyncio.run(_deploy_modified_tok(devnet))
    cases = [
        (replace(profile, chain_id=1), "chain id 31337"),
        (replace(profile, creator_fee_bps=profile.creator_fee_bps + 1), "creator_fee_bps"),
        (replace(profile, tok=fake_tok), "TOK"),
        (replace(profile, blueprint=devnet.deployment.factory), "blueprint"),
    ]

    def refusal(case: int) -> tuple[str, subprocess.CompletedProcess[str]]:
        """``toktok run`` on a copy of the fan's data dir holding tampered profile ``case``
        (the cases run side by side: each start is a process of its own)."""
        tampered, names = cases[case]
        copy = tmp_path / f"fan-{case}"
        shutil.copytree(data, copy, symlinks=True)
        save_deployment(copy / "network.json", tampered)
        return names, subprocess.run(
            [sys.executable, "-m", "peer.cli", "--data-dir", str(copy), "run"],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, **_env()},
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        refusals = list(pool.map(refusal, range(len(cases))))
    for names, refused in refusals:
        said = refused.stdout + refused.stderr
        assert refused.returncode != 0, names
        assert names in said, said
        assert "Traceback" not in said


def test_export_of_a_devnet_without_rpc_url_or_daemon_fails_clearly(tmp_path: Path) -> None:
    done = run_cli(tmp_path / "d", "network", "export", env={"TOKTOK_CHAIN_MODE": "devnet"})
    assert done.returncode == 1
    assert "no Toktok daemon is running" in done.stderr


def test_export_of_a_running_devnet_is_a_profile_a_second_peer_joins(tmp_path: Path) -> None:
    creator = spawn_daemon(tmp_path / "creator", env={"TOKTOK_CHAIN_MODE": "devnet"})
    try:
        profile_file = tmp_path / "shared.json"
        exported = run_cli(
            tmp_path / "creator", "network", "export", "--name", "lan", "--out",
            str(profile_file), env={"TOKTOK_CHAIN_MODE": "devnet"},
        )  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        profile = load_deployment(profile_file)
        _, status = creator.get("/api/v1/status")
        assert profile.rpc_urls == (status["chain"]["rpc_url"],)
        assert profile.bootstrap == tuple(status["p2p_addrs"])
        assert profile.bootstrap

        fan_dir = tmp_path / "fan"
        assert run_cli(fan_dir, "init", "--network", str(profile_file)).returncode == 0
        fan = spawn_daemon(fan_dir, env=_env())
        try:
            _, health = fan.get("/healthz")
            assert health["services"]["chain"] == "ready"
            wanted = status["peer_id"]

            def dialled() -> bool:
                _, peers = fan.get("/api/v1/peers")
                return any(p["peer_id"] == wanted for p in peers["peers"])

            eventually(dialled, timeout=60, what="the fan dials the profile's bootstrap peer")
        finally:
            fan.kill()
    finally:
        creator.kill()
