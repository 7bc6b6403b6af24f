"""Local devnet: anvil on loopback with a block time and a state file in the data dir.

``Devnet(options)`` is an async start/stop pair (and async context manager). ``start()``
launches ``anvil``, deploys TOK + the CreatorToken blueprint + the factory the first time
(the ``--state`` file keeps them across restarts), mints TOK to the dev accounts, writes
``<state_dir>/deployment.json`` and returns a :class:`DevnetInfo`.

Supervision: :attr:`Devnet.exited` tells that anvil died under us (``kill -9``, OOM);
``restart()`` launches it again from its state file on the same port, so clients keep their
RPC URL (anvil dumps its state every ``state_interval`` seconds: up to that much recent chain
history is lost with a ``kill -9``).

A deployment records the fingerprint of the artifacts it was deployed from. When the
artifacts have changed since (new contract code), ``start()`` drops the anvil state and the
deployment file before anvil loads them and deploys afresh on an empty chain: same
addresses (the deployer's nonces start again from 0), none of the old tokens, balances or
events. ``DevnetInfo.reset_for_new_contracts`` tells the caller it happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import ipaddress
import json
import logging
import os
import platform
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import AsyncWeb3

from tokens.artifacts import artifacts_fingerprint, load_artifact
from tokens.deploy import DeployParams, deploy_system, is_live
from tokens.deployment import Deployment, load_deployment, save_deployment
from tokens.errors import ChainUnavailableError, DeploymentError, DevnetError
from tokens.rpc import TxSender, Web3, call, connect, disconnect

DEVNET_CHAIN_ID = 31337
# The well-known anvil dev keys (mnemonic "test test ... junk"); public, devnet only.
DEV_PRIVATE_KEYS: tuple[str, ...] = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)
DEPLOYMENT_FILE = "deployment.json"
ENDPOINT_FILE = "endpoint.json"  # {"rpc_url", "chain_id", "pid"} while a devnet runs
STATE_FILE = "anvil-state.json"
LOG_FILE = "anvil.log"
_LISTENING = re.compile(r"Listening on ([0-9.]+):(\d+)")
_log = logging.getLogger(__name__)


def find_anvil(repo_root: Path) -> Path:
    """The platform package's anvil binary under `repo_root`, else ``node_modules/.bin/anvil``.

    The binary comes first: ``.bin/anvil`` is a node wrapper that starts the binary as its own
    child, so signals sent to the wrapper (or its death) would not reach anvil.
    """
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), platform.machine()
    )
    system = platform.system().lower()
    candidates = [
        repo_root / "node_modules" / "@foundry-rs" / f"anvil-{system}-{machine}" / "bin" / "anvil",
        repo_root / "node_modules" / ".bin" / "anvil",
    ]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def read_endpoint(state_dir: Path) -> str | None:
    """The RPC URL of the devnet running on `state_dir`, if its endpoint file exists."""
    try:
        data = json.loads((state_dir / ENDPOINT_FILE).read_text())
        return str(data["rpc_url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def dev_account(index: int) -> LocalAccount:
    """Anvil dev account `index` (0-9); devnet only. Account 0 deploys and owns TOK."""
    if not 0 <= index < len(DEV_PRIVATE_KEYS):
        raise DevnetError(f"dev account index must be 0-{len(DEV_PRIVATE_KEYS) - 1}")
    account: LocalAccount = Account.from_key(DEV_PRIVATE_KEYS[index])
    return account


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the peer process dies, even by SIGKILL.

    Only one C call (libc was loaded in the parent), so it is safe between fork and exec.
    """
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG = 1


def _read_from(path: Path, offset: int) -> str:
    with path.open("rb") as fh:
        fh.seek(offset)
        return fh.read().decode(errors="replace")


def dev_addresses() -> list[str]:
    return [str(Account.from_key(key).address) for key in DEV_PRIVATE_KEYS]


def check_devnet_host(host: str) -> None:
    """The devnet listens on one chosen address: loopback by default, never all interfaces.

    Sharing a devnet (``toktok network export``) needs an address others can route to, e.g. a
    LAN or test-bed address the user names; ``0.0.0.0`` / ``::`` would expose it everywhere.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError as exc:
        raise DevnetError(f"devnet host must be an IP address, not {host!r}") from exc
    if address.is_unspecified or address.is_multicast:
        raise DevnetError(
            f"devnet host {host} would listen on every interface; name one address "
            "(127.0.0.1 by default, or the LAN address to share the devnet on)"
        )


@dataclass(frozen=True)
class DevnetOptions:
    """How to run the devnet. `state_dir` is ``<data>/devnet``."""

    state_dir: Path
    anvil: Path
    host: str = "127.0.0.1"
    port: int = 0  # 0 = let anvil pick a free port
    block_time: float = 1.0
    mint_per_account: int = 1_000_000 * 10**18  # TOK base units per dev account
    startup_timeout: float = 30.0
    stop_timeout: float = 10.0
    state_interval: int = 5  # seconds between state dumps (plus one at exit)
    build_dir: Path | None = None  # contract artifacts; default contracts/build


@dataclass(frozen=True)
class DevnetInfo:
    """What a running devnet offers."""

    rpc_url: str
    chain_id: int
    deployment: Deployment
    dev_keys: tuple[str, ...] = field(default=DEV_PRIVATE_KEYS, repr=False)
    fresh_deployment: bool = False
    # True when the chain was dropped because it carried contracts built from other
    # artifacts (the deployment is then fresh, on an empty chain).
    reset_for_new_contracts: bool = False


class Devnet:
    """One anvil process plus the deployment it carries."""

    def __init__(self, options: DevnetOptions) -> None:
        self._options = options
        self._process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None
        self._port = options.port
        self.info: DevnetInfo | None = None
        self.restarts = 0
        """How many times anvil was restarted after it died."""

    @property
    def deployment_path(self) -> Path:
        return self._options.state_dir / DEPLOYMENT_FILE

    async def __aenter__(self) -> DevnetInfo:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> DevnetInfo:
        """Start anvil, deploy once, mint once; returns the RPC URL and deployment."""
        if self._process is not None:
            raise DevnetError("devnet already started")
        opts = self._options
        check_devnet_host(opts.host)
        if not opts.anvil.exists():
            raise DevnetError(f"anvil not found at {opts.anvil}; run `npm install` (scripts/setup)")
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        reset = self._drop_chain_with_old_contracts()
        try:
            url = await self._launch()
            self.info = dataclasses.replace(await self._prepare(url), reset_for_new_contracts=reset)
            self._write_endpoint(self.info)
        except BaseException:
            await self.stop()
            raise
        return self.info

    def _drop_chain_with_old_contracts(self) -> bool:
        """Before anvil loads its state: forget a chain deployed from other artifacts.

        Returns True when the state and deployment files were removed. A deployment file
        that cannot be read is left to ``_prepare`` (which deploys again on that chain).
        """
        try:
            recorded = load_deployment(self.deployment_path).artifacts
        except DeploymentError:
            return False
        current = artifacts_fingerprint(self._options.build_dir)
        if recorded == current:
            return False
        _log.warning(
            "devnet: the contracts changed since this devnet was deployed (%s, now %s): "
            "starting an empty chain and deploying them again",
            recorded or "no fingerprint",
            current,
        )
        for name in (STATE_FILE, DEPLOYMENT_FILE):
            (self._options.state_dir / name).unlink(missing_ok=True)
        return True

    @property
    def exited(self) -> bool:
        """True when anvil was started and has died since (not stopped by us)."""
        return self._process is not None and self._process.returncode is not None

    async def restart(self) -> DevnetInfo:
        """Start anvil again after it died: same port, same state file (raises DevnetError
        when it cannot, e.g. the port was taken meanwhile)."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            raise DevnetError("anvil is still running")
        if self._log is not None:
            self._log.close()
            self._log = None
        try:
            url = await self._launch(append=True)
            self.info = await self._prepare(url)
            self._write_endpoint(self.info)
        except BaseException:
            failed = self._process
            if failed is not None and failed.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    failed.kill()
                await asyncio.shield(failed.wait())  # exited again: a later restart may retry
            raise
        self.restarts += 1
        return self.info

    async def _launch(self, append: bool = False) -> str:
        opts = self._options
        log_path = opts.state_dir / LOG_FILE
        offset = log_path.stat().st_size if append and log_path.exists() else 0
        self._log = log_path.open("ab" if append else "wb")
        args = [
            "--host", opts.host, "--port", str(self._port),
            "--block-time", f"{opts.block_time:g}",
            "--chain-id", str(DEVNET_CHAIN_ID),
            "--state", str(opts.state_dir / STATE_FILE),
            "--state-interval", str(opts.state_interval),
        ]  # fmt: skip
        try:
            self._process = await asyncio.create_subprocess_exec(
                str(opts.anvil), *args, stdout=self._log, stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL, preexec_fn=_die_with_parent,
            )  # fmt: skip
        except OSError as exc:
            raise DevnetError(f"cannot start anvil ({opts.anvil}): {exc}") from exc
        deadline = time.monotonic() + opts.startup_timeout
        while time.monotonic() < deadline:
            text = _read_from(log_path, offset)
            if self._process.returncode is not None:
                raise DevnetError(f"anvil exited with {self._process.returncode}: {text[-2000:]}")
            match = _LISTENING.search(text)
            if match:
                self._port = int(match.group(2))
                return f"http://{match.group(1)}:{match.group(2)}"
            await asyncio.sleep(0.05)
        raise DevnetError(f"anvil did not start within {opts.startup_timeout} s (see {log_path})")

    async def _prepare(self, url: str) -> DevnetInfo:
        opts = self._options
        w3 = connect(url)
        try:
            chain_id = await self._wait_ready(w3)
            if self.deployment_path.exists():
                try:
                    existing = load_deployment(self.deployment_path)
                    if await is_live(w3, existing):
                        return DevnetInfo(url, chain_id, existing)
                except DeploymentError:
                    pass  # unreadable or from a lost chain: deploy again
            deployer = Account.from_key(DEV_PRIVATE_KEYS[0])
            sender = TxSender(w3, deployer, chain_id, poll_interval=0.1)
            params = DeployParams(treasury=str(deployer.address))
            deployment = await deploy_system(w3, sender, params, opts.build_dir)
            await self._mint(w3, sender, deployment)
            save_deployment(self.deployment_path, deployment)
            return DevnetInfo(url, chain_id, deployment, fresh_deployment=True)
        finally:
            await disconnect(w3)

    async def _wait_ready(self, w3: Web3) -> int:
        deadline = time.monotonic() + self._options.startup_timeout
        while True:
            try:
                return await call("devnet chain id", w3.eth.chain_id)
            except ChainUnavailableError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)

    async def _mint(self, w3: Web3, sender: TxSender, deployment: Deployment) -> None:
        tok = w3.eth.contract(
            address=AsyncWeb3.to_checksum_address(deployment.tok),
            abi=load_artifact("TOK", self._options.build_dir).abi,
        )
        hashes = [
            await sender.send(
                deployment.tok,
                tok.encode_abi("mint", args=[account, self._options.mint_per_account]),
                "mint devnet TOK",
            )
            for account in dev_addresses()
        ]
        for tx_hash in hashes:
            await sender.wait(tx_hash, "mint devnet TOK")

    def _write_endpoint(self, info: DevnetInfo) -> None:
        path = self._options.state_dir / ENDPOINT_FILE
        tmp = path.with_name(ENDPOINT_FILE + ".tmp")
        pid = self._process.pid if self._process is not None else None
        tmp.write_text(json.dumps({"rpc_url": info.rpc_url, "chain_id": info.chain_id, "pid": pid}))
        os.replace(tmp, path)

    async def stop(self) -> None:
        """Stop anvil gracefully (it writes its state file on exit); idempotent."""
        if self._process is not None:
            (self._options.state_dir / ENDPOINT_FILE).unlink(missing_ok=True)
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), self._options.stop_timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


async def fund_account(
    rpc_url: str,
    deployment: Deployment,
    address: str,
    *,
    tok: int,
    eth_wei: int,
    build_dir: Path | None = None,
) -> None:
    """Devnet faucet: give ``address`` ``eth_wei`` of gas money and mint it ``tok`` TOK.

    ETH comes from anvil's ``anvil_setBalance``; TOK is minted by its owner (dev account 0).
    Only for the devnet: on a real chain neither call is allowed.
    """
    w3 = connect(rpc_url)
    try:
        checksummed = AsyncWeb3.to_checksum_address(address)
        await call(
            "devnet faucet (ETH)",
            w3.provider.make_request("anvil_setBalance", [checksummed, hex(eth_wei)]),
        )
        chain_id = await call("devnet chain id", w3.eth.chain_id)
        sender = TxSender(w3, Account.from_key(DEV_PRIVATE_KEYS[0]), chain_id, poll_interval=0.1)
        token = w3.eth.contract(
            address=AsyncWeb3.to_checksum_address(deployment.tok),
            abi=load_artifact("TOK", build_dir).abi,
        )
        tx = await sender.send(
            deployment.tok, token.encode_abi("mint", args=[checksummed, tok]), "mint devnet TOK"
        )
        await sender.wait(tx, "mint devnet TOK")
    finally:
        await disconnect(w3)
