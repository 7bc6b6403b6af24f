"""The composition root: builds every service from config and owns their lifecycles.

:class:`App` is the only place that knows how services fit together (no module-level
singletons; no service builds its own dependencies). ``run()`` takes the data-dir lock, starts
the services in order (each ``start()`` returns when it is ready), publishes the API credentials
for CLI commands, waits for SIGINT/SIGTERM or :meth:`request_stop`, then stops everything in
reverse order, each within ``peer.shutdown_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import time
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any

from peer.api.auth import ApiAuth, load_or_create_session
from peer.api.context import ApiContext
from peer.api.errors import describe
from peer.api.server import HttpService
from peer.bus import EventBus
from peer.config import Config
from peer.daemon.chain import ChainService
from peer.daemon.economy import EconomyService
from peer.daemon.feed import FeedService
from peer.daemon.gating import GatingRunner
from peer.daemon.portbook import PortBook, first_tcp_port, stable_listen_addrs
from peer.daemon.publish import PublishService, media_settings
from peer.daemon.replication import ReplicationRunner
from peer.daemon.services import Managed, Readiness, Service
from peer.daemon.social import SocialService
from peer.daemon.store import StoreService
from peer.daemon.sync import SyncRunner
from peer.daemon.wallet import WalletService
from peer.datadir import (
    ApiCredentials,
    DataDir,
    DataDirLock,
    remove_credentials,
    write_credentials,
)
from peer.errors import StartupError
from peer.events import ServiceReady, ServiceStopped
from peer.network import load_network
from peer.p2p import HostOptions, P2PHost
from peer.p2p.routing import DhtContentRouting
from storage import gateway
from tokens.ownership import window_blocks
from tokens.recursion import settle_recursion_limit

log = logging.getLogger(__name__)


def toktok_version() -> str:
    try:
        return metadata.version("toktok")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _merged(configured: tuple[str, ...], from_profile: tuple[str, ...]) -> tuple[str, ...]:
    """Settings first, then the network profile's entries not already listed."""
    return configured + tuple(a for a in from_profile if a not in configured)


class App:
    """One running peer, built from ``config`` for the data dir ``data_dir``."""

    def __init__(self, config: Config, data_dir: DataDir) -> None:
        self.config = config
        self.data_dir = data_dir
        self.bus = EventBus()
        self.readiness = Readiness()
        data_dir.ensure()
        self.auth = ApiAuth.generate(load_or_create_session(data_dir.session_file))
        self._started_at = time.monotonic()
        self._stop = asyncio.Event()
        self.ports = PortBook(data_dir.root / "ports.json")
        self._p2p_port_auto = False
        network = load_network(config.chain, data_dir.root)
        self.network = network
        self.p2p = P2PHost(
            HostOptions(
                identity_path=data_dir.p2p / "identity.key",
                listen_addrs=config.p2p.listen_addrs,
                announce_addrs=config.p2p.announce_addrs,
                bootstrap=_merged(config.p2p.bootstrap, network.bootstrap if network else ()),
                dht=config.p2p.dht,
                mdns=config.p2p.mdns,
                relay_client=config.p2p.relay_client,
                relays=_merged(config.p2p.relays, network.relays if network else ()),
                relay_service=config.p2p.relay_service,
                public_ranges=config.p2p.public_ranges,
                reachability=config.p2p.reachability,
                hole_punching=config.p2p.hole_punching,
                relay_circuit_duration_s=config.p2p.relay_circuit_duration_s,
                relay_circuit_bytes=config.p2p.relay_circuit_bytes,
                relay_reservation_ttl_s=config.p2p.relay_reservation_ttl_s,
                relay_max_reservations=config.p2p.relay_max_reservations,
                relay_max_reservations_per_ip=config.p2p.relay_max_reservations_per_ip,
                relay_max_circuits_per_peer=config.p2p.relay_max_circuits_per_peer,
            )
        )
        self.store = StoreService(
            data_dir.store,
            config.storage,
            self.p2p,
            DhtContentRouting(self.p2p) if config.p2p.dht != "off" else None,
            relayed=self.p2p.relayed,
        )
        self.wallet = WalletService(
            data_dir.wallet, data_dir.keys, devnet=config.chain.mode == "devnet"
        )
        self.chain = (
            ChainService(
                config.chain,
                data_dir.devnet,
                spend_limit=config.wallet.spend_limit_tok * 10**18,
                wallet=self.wallet,
                slippage_bps=config.wallet.slippage_bps,
                large_trade_tok=config.wallet.large_trade_tok,
                network=network,
                on_health=self._chain_health,
            )
            if config.chain.mode != "off"
            else None
        )
        self.feed = (
            FeedService(
                data_dir.index,
                self.p2p,
                self.chain,
                self.wallet,
                self.bus,
                holding_lag=window_blocks(
                    config.chain.holding_window_s, config.chain.block_time_s or 1
                ),
            )
            if self.chain is not None
            else None
        )
        self.economy = (
            EconomyService(
                self.chain,
                self.bus,
                data_dir.index / "trades.sqlite",
                configured_confirmations=config.chain.trade_confirmations,
            )
            if self.chain is not None
            else None
        )
        self.sync = (
            SyncRunner(self.p2p, self.feed, data_dir.p2p, config.sync)
            if self.feed is not None
            else None
        )
        self.publish = (
            PublishService(
                self.store,
                self.wallet,
                self.feed,
                media_settings(config, data_dir),
                self.bus,
                journal_path=data_dir.publish_journal,
                key_servers=lambda: self.p2p.addrs,
                queue_root=data_dir.root,
                explain=lambda exc: describe(exc)[1:],
            )
            if self.feed is not None
            else None
        )
        self.gating = (
            GatingRunner(
                self.p2p,
                self.feed,
                self.store,
                self.chain,
                self.wallet,
                data_dir.keys / "released",
                window_blocks(config.chain.holding_window_s, config.chain.block_time_s or 1),
                self.bus,
            )
            if self.feed is not None and self.chain is not None
            else None
        )
        self.replication = (
            ReplicationRunner(
                config.storage,
                self.store,
                self.wallet,
                self.bus,
                data_dir.index / "feed.sqlite",
                data_dir.store / "replication.sqlite",
            )
            if self.feed is not None
            else None
        )
        self.social = (
            SocialService(data_dir.root / "social", self.feed, self.economy, self.bus)
            if self.feed is not None and self.economy is not None
            else None
        )
        self.http = HttpService(
            ApiContext(
                readiness=self.readiness,
                bus=self.bus,
                status=self.status,
                network=self.p2p,
                content_origin=lambda: self.http.content_url.rstrip("/"),
                store=self.store,
                wallet=self.wallet,
                chain=self.chain,
                feed=self.feed,
                publish=self.publish,
                gating=self.gating,
                upload_dir=data_dir.root / "tmp" / "uploads",
                data_dir=data_dir,
                max_upload_bytes=config.storage.max_upload_mb * 1024 * 1024,
                extra={
                    "replication": self.replication,
                    "economy": self.economy,
                    "social": self.social,
                    "sync": self.sync,
                    "p2p_options": self.p2p.options,
                },
            ),
            self.auth,
            ui_port=config.ui.port,
            content_port=config.ui.content_port,
            idle_timeout_s=config.ui.idle_timeout_s,
            content_setup=lambda app: gateway.add_routes(app, self.store.store),
        )
        # Order matters: later services may use earlier ones; stop runs in reverse.
        self.services: list[Service] = [Managed("p2p", self.p2p), self.store, self.wallet]
        if self.chain is not None:
            self.services.append(self.chain)
        if self.feed is not None:
            self.services.append(self.feed)
        if self.economy is not None:
            self.services.append(self.economy)
        if self.sync is not None:
            self.services.append(self.sync)
        if self.publish is not None:
            self.services.append(self.publish)
        if self.gating is not None:
            self.services.append(self.gating)
        if self.replication is not None:
            self.services.append(self.replication)
        if self.social is not None:
            self.services.append(self.social)
        self.services.append(self.http)

    def _chain_health(self, problem: str | None) -> None:
        if problem is None:
            self.readiness.set_ready("chain")
        else:
            self.readiness.set_not_ready("chain", problem)

    def status(self) -> Mapping[str, Any]:
        """Facts about this peer for ``/api/v1/status`` and ``toktok status``."""
        return {
            "version": toktok_version(),
            "peer_id": self.p2p.peer_id if self.p2p.running else None,
            "p2p_addrs": self.p2p.addrs if self.p2p.running else [],
            "reachability": self.p2p.reachability() if self.p2p.running else None,
            "data_dir": str(self.data_dir.root),
            "ui_url": self.http.url,
            "content_url": self.http.content_url,
            "ports": {
                "p2p": first_tcp_port(self.p2p.listening) if self.p2p.running else None,
                "ui": self.http.ports[0],
                "content": self.http.ports[1],
            },
            "notices": [*self.ports.notices, *self.http.notices],
            "uptime_s": round(time.monotonic() - self._started_at, 1),
            "chain": self.chain.status() if self.chain else {"mode": "off"},
            "wallet": self.wallet.status(),
            "wallet_address": self.wallet.address,
            "storage": {"backend": self.config.storage.backend},
            "bitswap": (
                dataclasses.asdict(self.store.bitswap.stats()) if self.store.bitswap else None
            ),
        }

    def _plan_ports(self) -> None:
        """Ask for the ports this data dir had last time (ARCHITECTURE "Stable ports")."""
        listen, auto = stable_listen_addrs(self.config.p2p.listen_addrs, self.ports)
        self._p2p_port_auto = auto
        self.p2p.set_listen_addrs(listen)
        ui = self.ports.pick("ui", self.config.ui.port)
        content = self.ports.pick("content", self.config.ui.content_port)
        self.http.set_ports(ui, content, flexible=True)

    def _record_ports(self) -> None:
        ui, content = self.http.ports
        bound = {"p2p": first_tcp_port(self.p2p.listening) or 0, "ui": ui, "content": content}
        configured = {
            "p2p": 0 if self._p2p_port_auto else 1,
            "ui": self.config.ui.port,
            "content": self.config.ui.content_port,
        }
        self.ports.record(bound, configured)

    def request_stop(self) -> None:
        """Ask :meth:`run` to shut down (thread-unsafe; call from the loop)."""
        self._stop.set()

    async def run(self, on_ready: Callable[[App], None] | None = None) -> None:
        """Own the data dir, run every service until asked to stop, then stop them all."""
        settle_recursion_limit()  # again: every import the services need has happened by now
        with DataDirLock(self.data_dir):
            self._plan_ports()
            loop = asyncio.get_running_loop()
            installed = []
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(sig, self._stop.set)
                    installed.append(sig)
            try:
                async with contextlib.AsyncExitStack() as stack:
                    for service in self.services:
                        self.readiness.require(service.name)
                    for service in self.services:
                        await self._start(service)
                        stack.push_async_callback(self._stop_service, service)
                    self._record_ports()
                    write_credentials(
                        self.data_dir,
                        ApiCredentials(
                            url=self.http.url,
                            content_url=self.http.content_url,
                            secret=self.auth.session.secret,
                            cookie=self.auth.session.cookie,
                            cli_token=self.auth.cli_token,
                            pid=os.getpid(),
                        ),
                    )
                    stack.callback(remove_credentials, self.data_dir)
                    if on_ready is not None:
                        on_ready(self)
                    await self._stop.wait()
                    log.info("stopping")
            finally:
                for sig in installed:
                    loop.remove_signal_handler(sig)

    async def _start(self, service: Service) -> None:
        log.info("starting %s", service.name)
        try:
            await service.start()
        except StartupError:
            raise
        except Exception as exc:
            raise StartupError(service.name, str(exc) or type(exc).__name__) from exc
        self.readiness.set_ready(service.name)
        self.bus.publish(ServiceReady(service.name))

    async def _stop_service(self, service: Service) -> None:
        self.readiness.set_not_ready(service.name, "stopped")
        try:
            await asyncio.wait_for(service.stop(), self.config.peer.shutdown_timeout_s)
        except TimeoutError:
            timeout = self.config.peer.shutdown_timeout_s
            log.error("%s did not stop within %ss", service.name, timeout)
        except Exception:
            log.exception("%s failed to stop cleanly", service.name)
        self.bus.publish(ServiceStopped(service.name))
