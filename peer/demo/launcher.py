"""``scripts/run`` with the demo: the user's peer, and beside it a demo creator peer.

1. The user's peer starts as ``toktok run`` would (it runs the devnet); its output is passed
   through, so the UI URL appears on its own line as soon as it is ready.
2. The demo creator peer starts in its own data dir, on the user's devnet over RPC, with an
   anvil dev key as wallet and the user's peer as bootstrap peer. The first time (or when the
   chain or the clips changed) it creates its token, sets its profile and publishes the sample
   clips (one premium); afterwards it only starts (see :mod:`peer.demo.state`).
3. The user's peer gets the demo posts over the network (gossip and sync), never written into
   its index by us. Once they are in the user's feed the launcher says so, with the time taken.

Ctrl-C (SIGINT) or SIGTERM stops both peers (the user's peer stops the devnet); the exit code
is the user's peer's. A demo that fails says why and leaves the user's peer running.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, DataDirLock
from peer.demo import clips as demo_clips
from peer.demo.creator import CreatorPlan, registered_token, set_up_creator
from peer.demo.errors import DemoError, DemoPeerError
from peer.demo.process import PeerProcess
from peer.demo.state import DemoStamp, clear_stamp, load_stamp, reusable, save_stamp
from peer.errors import DaemonError
from tokens.errors import TokensError

# tokens.devnet, tokens.wallet and tokens.deployment import web3 and eth-account (seconds on a
# busy machine): they are imported where used, after the user's peer has been started.

DEMO_DEV_KEY = 9  # the last anvil dev account; tests use the lower ones
FEED_WAIT_S = 120.0
CONNECT_WAIT_S = 30.0
LOG_FILE = "demo-peer.log"
# What a fresh set-up replaces; the identity (p2p/) and the wallet stay, so the demo creator
# keeps its address and peer id across set-ups.
PUBLISHED_STATE = ("index", "store", "keys", "tmp")


@dataclass(frozen=True)
class LaunchOptions:
    """Where everything lives (``scripts/run`` passes them)."""

    user_data: Path
    demo_data: Path
    clips_dir: Path
    run_args: tuple[str, ...] = ()
    demo: bool = True
    plan: CreatorPlan = field(default_factory=CreatorPlan)


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def _echo(line: str) -> None:
    sys.stdout.write(line)
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def forget_published(demo_data: Path) -> None:
    """Drop what the demo creator published (not its identity or wallet) to set it up anew."""
    clear_stamp(demo_data)
    for name in PUBLISHED_STATE:
        shutil.rmtree(demo_data / name, ignore_errors=True)


def ensure_wallet(demo_data: Path) -> None:
    """Import the demo's anvil dev key unless the demo data dir has a wallet."""
    data_dir = DataDir(demo_data)
    if any(data_dir.wallet.glob("*.json")):
        return  # a keystore is there (checked before importing eth-account: seconds when busy)
    from tokens.devnet import DEV_PRIVATE_KEYS
    from tokens.wallet import DEVNET_PASSPHRASE, DEVNET_SCRYPT_N, Wallet, WalletOptions

    data_dir.ensure()
    with DataDirLock(data_dir):
        # sealed under the public devnet passphrase: the full scrypt cost would protect nothing
        wallet = Wallet(WalletOptions(wallet_dir=data_dir.wallet, scrypt_n=DEVNET_SCRYPT_N))
        if not wallet.exists():
            wallet.import_private_key(DEV_PRIVATE_KEYS[DEMO_DEV_KEY], DEVNET_PASSPHRASE)


class Launcher:
    """Runs the user's peer and the demo peer until told to stop."""

    def __init__(self, options: LaunchOptions, environ: Mapping[str, str]) -> None:
        self.options = options
        self.environ = dict(environ)
        self.started = time.monotonic()
        self.user = PeerProcess(options.user_data, options.run_args, self.environ, echo=_echo)
        self.demo: PeerProcess | None = None
        self._demo_log: IO[str] | None = None

    async def run(self) -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        demo_task: asyncio.Task[None] | None = None
        prepared: asyncio.Task[None] | None = None
        if self.options.demo:
            prepared = asyncio.create_task(asyncio.to_thread(self._prepare))
        try:
            starting = asyncio.create_task(self.user.start())
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if starting.done() and starting.exception() is None:
                user_client = starting.result()
                if prepared is not None:
                    demo_task = asyncio.create_task(self._demo(user_client, prepared))
                exited = asyncio.create_task(self._user_exited())
                await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
                exited.cancel()
            starting.cancel()
            stopping.cancel()
        finally:
            if demo_task is None and prepared is not None:
                with contextlib.suppress(Exception):
                    await prepared  # a thread cannot be cancelled: let it finish
            if demo_task is not None:
                demo_task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await demo_task
            code = await self._stop_all()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
        return code

    async def _user_exited(self) -> None:
        await self.user.wait(within_s=None)

    async def _stop_all(self) -> int:
        if self.demo is not None:
            self.demo.signal_stop()
        self.user.signal_stop()
        demo_code = await self.demo.wait() if self.demo is not None else 0
        code = await self.user.wait()
        if self._demo_log is not None:
            self._demo_log.close()
        if demo_code not in (0, None):
            say(f"the demo peer exited with {demo_code} (see {self.options.demo_data / LOG_FILE})")
        return code

    async def _demo(self, user_client: DaemonClient, prepared: asyncio.Task[None]) -> None:
        try:
            await prepared
            posts = await self._start_demo(user_client)
            await self._await_feed(user_client, posts)
        except (DemoError, DaemonError, TokensError, OSError) as exc:
            say(f"not running: {exc}")
            log_path = self.options.demo_data / LOG_FILE
            say(f"your peer runs without it; the demo peer's log: {log_path}")
            if self.demo is not None:
                await self.demo.stop()

    def _prepare(self) -> None:
        """What needs no chain (runs while the user's peer starts): clips and wallet."""
        demo_clips.ensure_clips(self.options.clips_dir)
        ensure_wallet(self.options.demo_data)

    async def _start_demo(self, user_client: DaemonClient) -> tuple[str, ...]:
        from tokens.deployment import load_deployment
        from tokens.wallet import DEVNET_PASSPHRASE

        opts = self.options
        status = await asyncio.to_thread(user_client.get, "/api/v1/status")
        chain = status.get("chain") or {}
        if chain.get("mode") != "devnet":
            raise DemoError("the demo needs your peer on the devnet (chain.mode = devnet)")
        deployment_file = opts.user_data / "devnet" / "deployment.json"
        deployment = load_deployment(deployment_file)
        files = await asyncio.to_thread(demo_clips.ensure_clips, opts.clips_dir)
        stamp = load_stamp(opts.demo_data)
        if not reusable(
            stamp,
            chain_id=deployment.chain_id,
            factory=deployment.factory,
            tok=deployment.tok,
            clips=demo_clips.generator_hash(),
        ):
            stamp = None
            await asyncio.to_thread(forget_published, opts.demo_data)
        env = {
            **self.environ,
            "TOKTOK_CHAIN_MODE": "rpc",
            "TOKTOK_CHAIN_RPC_URL": str(chain["rpc_url"]),
            "TOKTOK_CHAIN_DEPLOYMENT_FILE": str(deployment_file),
            "TOKTOK_PASSPHRASE": DEVNET_PASSPHRASE,
            # The demo peer dials the user's peer as it starts (the user's peer may have just
            # failed to redial the demo peer's remembered address, and libp2p then refuses to
            # dial that peer again for a minute).
            "TOKTOK_P2P_BOOTSTRAP": str(status["p2p_addrs"][0]),
            "TOKTOK_UI_PORT": "0",
            "TOKTOK_UI_CONTENT_PORT": "0",
        }
        env.pop("TOKTOK_DATA_DIR", None)
        port = stamp.p2p_port if stamp is not None else free_port()
        moved = False
        try:
            client = await self._spawn_demo(env, port)
        except DemoPeerError:
            if stamp is None:
                raise
            # E.g. its port is taken now. The posts stay (publishing them again would show
            # every clip twice). The premium post names the old address as key server; the
            # user's peer still reaches it: it asks over its open connection to the demo peer
            # (the launcher connects the two), and libp2p does not dial a connected peer again.
            say(f"the demo peer did not start on port {port}: trying another port")
            port, moved = free_port(), True
            client = await self._spawn_demo(env, port)
        if stamp is not None:
            on_chain = await asyncio.to_thread(registered_token, client, stamp.creator)
            if on_chain is None or on_chain.lower() != stamp.token.lower():
                say("the devnet was reset since the demo was set up: setting it up again")
                assert self.demo is not None
                await self.demo.stop()
                await asyncio.to_thread(forget_published, opts.demo_data)
                stamp = None
                client = await self._spawn_demo(env, port)
        await self._ensure_connected(user_client, client)
        if stamp is not None and moved:
            stamp = dataclasses.replace(stamp, p2p_port=port)
            await asyncio.to_thread(save_stamp, opts.demo_data, stamp)
        if stamp is None:
            say(f"setting up the demo creator '{opts.plan.name}' (first run: about a minute)")
            creator, token, posts = await asyncio.to_thread(
                set_up_creator, client, files, opts.plan, say
            )
            stamp = DemoStamp(
                chain_id=deployment.chain_id,
                factory=deployment.factory,
                tok=deployment.tok,
                clips=demo_clips.generator_hash(),
                creator=creator,
                token=token,
                p2p_port=port,
                posts=posts,
            )
            await asyncio.to_thread(save_stamp, opts.demo_data, stamp)
        say(
            f"creator '{opts.plan.name}' ({opts.plan.token_symbol}) is online with "
            f"{len(stamp.posts)} clips on its own peer; they reach your feed over the network"
        )
        return stamp.posts

    async def _ensure_connected(self, user_client: DaemonClient, demo: DaemonClient) -> None:
        """Make sure the two peers are connected (the bootstrap dial normally did it)."""
        demo_status = await asyncio.to_thread(demo.get, "/api/v1/status")
        user_status = await asyncio.to_thread(user_client.get, "/api/v1/status")
        dials = (
            (user_client, demo_status["p2p_addrs"][0]),
            (demo, user_status["p2p_addrs"][0]),
        )
        deadline = time.monotonic() + CONNECT_WAIT_S
        while time.monotonic() < deadline:
            peers = (await asyncio.to_thread(user_client.get, "/api/v1/peers"))["peers"]
            if demo_status["peer_id"] in {p["peer_id"] for p in peers}:
                return
            for dialler, addr in dials:
                with contextlib.suppress(DaemonError):
                    await asyncio.to_thread(
                        dialler.post, "/api/v1/peers/connect", {"multiaddr": addr}
                    )
                    return
            await asyncio.sleep(1.0)
        say("could not connect your peer to the demo peer; it keeps trying in the background")

    async def _spawn_demo(self, env: dict[str, str], port: int) -> DaemonClient:
        opts = self.options
        opts.demo_data.mkdir(parents=True, exist_ok=True)
        if self._demo_log is None:
            self._demo_log = (opts.demo_data / LOG_FILE).open("w")  # this run's log only
        env = {**env, "TOKTOK_P2P_LISTEN_ADDRS": f"/ip4/127.0.0.1/tcp/{port}"}
        self.demo = PeerProcess(opts.demo_data, (), env, output=self._demo_log)
        try:
            return await self.demo.start()
        except DemoPeerError as exc:
            await self.demo.stop()  # it may still be starting
            raise DemoPeerError(f"the demo creator peer did not start: {exc}") from exc

    async def _await_feed(self, user_client: DaemonClient, posts: tuple[str, ...]) -> None:
        wanted = set(posts)
        deadline = time.monotonic() + FEED_WAIT_S
        while time.monotonic() < deadline:
            page = await asyncio.to_thread(user_client.get, "/api/v1/feed?limit=50")
            if wanted <= {item["id"] for item in page["items"]}:
                took = time.monotonic() - self.started
                say(f"your feed has the {len(wanted)} demo clips ({took:.1f} s after start)")
                return
            await asyncio.sleep(0.5)
        say(f"the demo clips did not reach your feed within {FEED_WAIT_S:.0f} s")


def main(argv: list[str] | None = None) -> int:
    """``python -m peer.demo.launcher [toktok run args]``, configured by ``scripts/run``:
    TOKTOK_DATA_DIR (the user's peer), TOKTOK_DEMO_DATA_DIR, TOKTOK_DEMO_CLIPS_DIR, TOKTOK_DEMO."""
    env = os.environ
    user_data = Path(env["TOKTOK_DATA_DIR"]).resolve()
    options = LaunchOptions(
        user_data=user_data,
        demo_data=Path(env.get("TOKTOK_DEMO_DATA_DIR") or f"{user_data}-demo").resolve(),
        clips_dir=Path(env.get("TOKTOK_DEMO_CLIPS_DIR") or user_data.parent / "demo-clips"),
        run_args=tuple(sys.argv[1:] if argv is None else argv),
        demo=env.get("TOKTOK_DEMO", "1") not in {"0", "false", "no", "off"},
    )
    return asyncio.run(Launcher(options, env).run())


if __name__ == "__main__":
    raise SystemExit(main())
