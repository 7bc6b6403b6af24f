"""Typed, documented settings of a Toktok peer.

Settings come in sections (``peer``, ``p2p``, ``storage``, ``chain``, ``ui``, ``wallet``,
``sync``). Each field carries its documentation in ``metadata["doc"]``; ``docs/CONFIG.md`` lists
every setting and a test fails when one is undocumented.

Sources, later ones win:

1. the defaults below (they obey ARCHITECTURE "Network hygiene": loopback only, no bootstrap
   peers, mDNS off);
2. ``config.toml`` in the user's config dir (``platformdirs``), or the file given by ``--config``
   / ``TOKTOK_CONFIG``;
3. ``config.toml`` inside the data dir (settings of that one peer);
4. environment variables ``TOKTOK_<SECTION>_<KEY>`` (e.g. ``TOKTOK_UI_PORT=8080``; lists are
   comma-separated);
5. command-line flags (``--set section.key=value`` and the dedicated flags of each command).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import platformdirs

from peer.errors import ConfigError

APP_NAME = "toktok"
ENV_PREFIX = "TOKTOK_"


def _doc(text: str) -> dict[str, str]:
    return {"doc": text}


@dataclass(frozen=True)
class PeerSection:
    """The daemon itself."""

    log_level: str = field(
        default="info",
        metadata=_doc("Log level of the daemon: debug, info, warning or error."),
    )
    shutdown_timeout_s: float = field(
        default=10.0,
        metadata=_doc("Seconds each service gets to stop cleanly on Ctrl-C/SIGTERM."),
    )


@dataclass(frozen=True)
class P2PSection:
    """The libp2p host (identity in ``<data-dir>/p2p/``)."""

    listen_addrs: tuple[str, ...] = field(
        default=("/ip4/127.0.0.1/tcp/0",),
        metadata=_doc(
            "Multiaddrs the libp2p host listens on. Port 0 picks a free port on the first start "
            "and keeps it (<data-dir>/ports.json; a new one if it is taken). Loopback by "
            "default. On a real network list the interface's own address with a fixed port, "
            "e.g. /ip4/192.168.1.20/tcp/4001 (LAN, or the machine behind a home router: other "
            "peers then reach it through AutoNAT's verdict, a relay and hole punching) or a "
            "public address (rather than 0.0.0.0, which announces nothing dialable). A fixed "
            "port keeps router mappings "
            "and other peers' address books valid across restarts."
        ),
    )
    announce_addrs: tuple[str, ...] = field(
        default=(),
        metadata=_doc("Multiaddrs announced to other peers instead of the listen addresses."),
    )
    bootstrap: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Peers dialled at start (full multiaddrs with /p2p/<id>). Empty by default: "
            "Toktok never contacts public peers unless you list them here."
        ),
    )
    mdns: bool = field(
        default=False,
        metadata=_doc("Discover peers on the local network with mDNS (multicast; off by default)."),
    )
    dht: str = field(
        default="server",
        metadata=_doc(
            "Kademlia DHT (/ipfs/kad/1.0.0) for finding content providers and peers by id: "
            "'server' (also answers other peers' queries), 'client' (only asks) or 'off'. "
            "It reaches only the peers you connect to; with the default loopback addresses "
            "and no bootstrap peers nothing leaves this machine."
        ),
    )
    relay_client: bool = field(
        default=True,
        metadata=_doc(
            "Circuit relay v2 client: dial /p2p-circuit addresses and accept connections "
            "relayed to this peer (only relays it holds a reservation on forward any)."
        ),
    )
    relays: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Relays to hold a reservation on (full multiaddrs with /p2p/<id>), for a peer "
            "others cannot dial (behind NAT): it is then reachable at "
            "<relay addr>/p2p-circuit/p2p/<its id>. Empty by default."
        ),
    )
    relay_service: bool = field(
        default=False,
        metadata=_doc("Act as a circuit relay v2 (hop) for other peers. Off by default."),
    )
    reachability: str = field(
        default="auto",
        metadata=_doc(
            "When to hold reservations on the relays (p2p.relays and the network profile's): "
            "'auto' once AutoNAT dial-backs say this peer is behind NAT (or it listens on no "
            "address), dropped again when they say it is reachable; 'private' always; "
            "'public' never."
        ),
    )
    hole_punching: bool = field(
        default=True,
        metadata=_doc(
            "DCUtR: turn a connection through a relay into a direct one by hole punching "
            "(both peers dial each other from their listen port at once); works behind "
            "routers that keep one external port per socket, not behind symmetric NATs."
        ),
    )
    relay_circuit_duration_s: int = field(
        default=120,
        metadata=_doc(
            "Relay service: longest life of one relayed connection, in seconds (go-libp2p's "
            "default, as public relays set it)."
        ),
    )
    relay_circuit_bytes: int = field(
        default=131072,
        metadata=_doc(
            "Relay service: most bytes one relayed connection carries, both directions "
            "together (128 KiB, go-libp2p's default: enough for posts, sync and keys, not for "
            "clips, which go direct after hole punching or come from fans)."
        ),
    )
    relay_reservation_ttl_s: int = field(
        default=3600,
        metadata=_doc(
            "Relay service: lifetime of a reservation in seconds (clients renew it); the test "
            "bed uses 120."
        ),
    )
    relay_max_reservations: int = field(
        default=128,
        metadata=_doc("Relay service: reservations held at once, in all."),
    )
    relay_max_reservations_per_ip: int = field(
        default=8,
        metadata=_doc(
            "Relay service: reservations from one IP address (one per peer id; a household "
            "behind one router shares its address)."
        ),
    )
    relay_max_circuits_per_peer: int = field(
        default=16,
        metadata=_doc("Relay service: relayed connections open at once to one reserved peer."),
    )
    public_ranges: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "Networks (CIDR) whose addresses count as public, besides the globally routable "
            "ones (Python's ipaddress is_global). This one setting decides which addresses this "
            "peer's AutoNAT service agrees to dial back (never private networks otherwise); "
            "whether this peer itself is reachable is learnt from other peers' dial-backs only. "
            "Empty by default; the test bed sets 198.18.0.0/15."
        ),
    )


@dataclass(frozen=True)
class StorageSection:
    """Content storage (IPFS blocks, pins, media pipeline limits)."""

    backend: str = field(
        default="embedded",
        metadata=_doc(
            "'embedded' (Toktok's own IPFS block store in <data-dir>/store) or 'kubo' "
            "(an existing Kubo / IPFS Desktop reached through kubo_api)."
        ),
    )
    kubo_api: str = field(
        default="/ip4/127.0.0.1/tcp/5001",
        metadata=_doc("Multiaddr of the Kubo RPC API, used when backend = 'kubo'."),
    )
    disk_budget_mb: float = field(
        default=4096.0,
        metadata=_doc(
            "Disk space for other creators' replicated clips, in MiB (fractions allowed); "
            "own clips never count."
        ),
    )
    replicate: bool = field(
        default=True,
        metadata=_doc(
            "Pin the clips of creators you follow and of posts you liked (within "
            "disk_budget_mb, oldest evicted first), so they stay available when their creator "
            "is offline."
        ),
    )
    replication_rate_kbps: int = field(
        default=16000,
        metadata=_doc("Bandwidth for replication fetches in kilobits per second; 0 = unlimited."),
    )
    max_clip_seconds: int = field(
        default=180,
        metadata=_doc("Longest clip accepted for publishing, in seconds."),
    )
    max_upload_mb: int = field(
        default=1024,
        metadata=_doc("Largest input file accepted for publishing, in MiB."),
    )


@dataclass(frozen=True)
class ChainSection:
    """The EVM chain holding TOK and the creator tokens."""

    mode: str = field(
        default="devnet",
        metadata=_doc(
            "'devnet' (start a local anvil chain, state in <data-dir>/devnet), 'rpc' (use "
            "rpc_url and the deployment in deployment_file) or 'off' (no chain features)."
        ),
    )
    rpc_url: str = field(
        default="",
        metadata=_doc("JSON-RPC URL of the chain when mode = 'rpc'."),
    )
    deployment_file: str = field(
        default="",
        metadata=_doc("JSON file with chain id and contract addresses when mode = 'rpc'."),
    )
    anvil_path: str = field(
        default="",
        metadata=_doc(
            "The anvil binary of the devnet; empty means node_modules/.bin/anvil of this checkout."
        ),
    )
    devnet_host: str = field(
        default="127.0.0.1",
        metadata=_doc(
            "Address the devnet's RPC listens on. Loopback by default; to share the devnet "
            "with a friend's peer ('toktok network export'), the LAN address to listen on "
            "(never 0.0.0.0)."
        ),
    )
    devnet_port: int = field(
        default=0,
        metadata=_doc("Port of the devnet's RPC; 0 picks a free port at every start."),
    )
    block_time_s: int = field(
        default=1,
        metadata=_doc("Block time of the devnet, in seconds (lagged balance reads need blocks)."),
    )
    holding_window_s: float = field(
        default=2.0,
        metadata=_doc(
            "Holding window of token-gated playback, in seconds: a holder qualifies only with "
            "the post's minimum held through the whole window, no outgoing transfer inside it "
            "(docs/GATING.md). Converted to blocks with block_time_s (rounded up). The devnet "
            "keeps it short (2 s = 2 blocks); a network where tokens have value should use "
            "hours (e.g. 14400), which needs an RPC that serves state that old."
        ),
    )
    trade_confirmations: int = field(
        default=12,
        metadata=_doc(
            "Blocks a Buy/Sell must be buried under before the trade index counts it (earnings, "
            "portfolio, price chart, trade notifications, trending), so a reorg cannot leave a "
            "trade in the index that the chain dropped. A local anvil chain (chain id 31337: "
            "one block producer, no reorgs) uses 0 whatever is set here. 12 suits Ethereum and "
            "its L2s' unsafe heads; a chain with faster finality may use less."
        ),
    )
    health_interval_s: float = field(
        default=5.0,
        metadata=_doc(
            "How often the chain is probed while it answers, in seconds. After a failed probe "
            "/healthz reports the chain not ready and probes back off from 1 s, doubling up to "
            "health_backoff_max_s; on the devnet a dead anvil is restarted from its state file."
        ),
    )
    health_backoff_max_s: float = field(
        default=60.0,
        metadata=_doc("Longest wait between probes of a chain that does not answer, in seconds."),
    )


@dataclass(frozen=True)
class UISection:
    """The local web UI/API and the IPFS content port (always bound to loopback)."""

    port: int = field(
        default=0,
        metadata=_doc(
            "Port of the web UI and JSON API on 127.0.0.1; 0 picks a free port on the first "
            "start and keeps it (<data-dir>/ports.json; a new one if it is taken)."
        ),
    )
    content_port: int = field(
        default=0,
        metadata=_doc(
            "Port of the /ipfs/ content origin on 127.0.0.1; 0 picks a free port on the first "
            "start and keeps it (<data-dir>/ports.json; a new one if it is taken)."
        ),
    )
    idle_timeout_s: float = field(
        default=15.0,
        metadata=_doc(
            "Seconds an HTTP connection may stay open with no request in progress (from its "
            "start too, so a client that sends its request head too slowly is cut off)."
        ),
    )


@dataclass(frozen=True)
class WalletSection:
    """The creator/fan wallet (encrypted keystore in <data-dir>/wallet)."""

    spend_limit_tok: int = field(
        default=1000,
        metadata=_doc("Most TOK that buys may spend in one daemon session, in whole TOK."),
    )
    slippage_bps: int = field(
        default=50,
        metadata=_doc(
            "Default slippage bound for buys and sells, in basis points (1% = 100). A sandwich "
            "(a trade just before yours and one just after) can take up to this share of a "
            "trade: at 1% with the devnet's 5% + 2% fees it took 0.87%."
        ),
    )
    large_trade_tok: int = field(
        default=100,
        metadata=_doc(
            "Buys and sells of at least this many whole TOK get a warning (CLI prompt, API "
            "confirmation) saying how much a sandwich could take; 0 turns it off."
        ),
    )


@dataclass(frozen=True)
class SyncSection:
    """Catch-up sync with connected peers (``/toktok/sync/1.1.0`` and ``1.0.0``)."""

    interval_s: float = field(
        default=30.0,
        metadata=_doc("Seconds between periodic sync rounds with every connected peer."),
    )
    page_size: int = field(
        default=50,
        metadata=_doc("Records asked for per sync request (1 to 100)."),
    )
    protocol_1_1: bool = field(
        default=True,
        metadata=_doc(
            "Speak /toktok/sync/1.1.0 (every record kind: follows, likes, tombstones...) beside "
            "1.0.0, asking peers in 1.1 first. Off: posts and profiles only, over 1.0.0."
        ),
    )


@dataclass(frozen=True)
class Config:
    """All settings of one peer."""

    peer: PeerSection = field(default_factory=PeerSection)
    p2p: P2PSection = field(default_factory=P2PSection)
    storage: StorageSection = field(default_factory=StorageSection)
    chain: ChainSection = field(default_factory=ChainSection)
    ui: UISection = field(default_factory=UISection)
    wallet: WalletSection = field(default_factory=WalletSection)
    sync: SyncSection = field(default_factory=SyncSection)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Plain data (lists instead of tuples), e.g. for ``toktok config show --json``."""
        out: dict[str, dict[str, Any]] = {}
        for name, section in _sections(self).items():
            out[name] = {
                f.name: list(v) if isinstance(v := getattr(section, f.name), tuple) else v
                for f in dataclasses.fields(section)
            }
        return out


# inclusive bounds of numeric settings beyond "not negative"
_RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("sync", "interval_s"): (1.0, 86_400.0),
    ("sync", "page_size"): (1, 100),
    ("chain", "health_interval_s"): (0.1, 3_600.0),
    ("chain", "holding_window_s"): (0.0, 7 * 86_400.0),
    ("chain", "trade_confirmations"): (0, 10_000),
    ("chain", "health_backoff_max_s"): (1.0, 3_600.0),
    ("ui", "idle_timeout_s"): (1.0, 3600.0),
    ("p2p", "relay_circuit_duration_s"): (1, 86_400),
    ("p2p", "relay_reservation_ttl_s"): (10, 86_400),
}

# lists of networks in CIDR form
_NETWORK_LISTS = {("p2p", "public_ranges")}

_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("peer", "log_level"): ("debug", "info", "warning", "error"),
    ("p2p", "dht"): ("off", "client", "server"),
    ("p2p", "reachability"): ("auto", "private", "public"),
    ("storage", "backend"): ("embedded", "kubo"),
    ("chain", "mode"): ("devnet", "rpc", "off"),
}


def _sections(config: Config) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


def section_types() -> dict[str, type[Any]]:
    """Section name -> section dataclass."""
    hints = get_type_hints(Config)
    return {f.name: hints[f.name] for f in dataclasses.fields(Config)}


def iter_settings() -> list[tuple[str, str, Any, str]]:
    """Every setting as (section, key, default, doc), in declaration order."""
    defaults = Config()
    rows = []
    for name, cls in section_types().items():
        for f in dataclasses.fields(cls):
            default = getattr(getattr(defaults, name), f.name)
            rows.append((name, f.name, default, f.metadata.get("doc", "")))
    return rows


def toml_value(value: object) -> str:
    """A setting's value as TOML (strings, booleans, numbers and lists of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = "".join(
            {"\\": "\\\\", '"': '\\"'}.get(c, c) if c.isprintable() else f"\\U{ord(c):08x}"
            for c in value
        )
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def default_config_file() -> Path:
    """The user's config file (may not exist)."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    """The user's default data dir."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def _in_range(section: str, key: str, value: float, where: str) -> Any:
    low, high = _RANGES.get((section, key), (0, float("inf")))
    if not low <= value <= high:
        raise ConfigError(f"{where}: must be between {low:g} and {high:g}, got {value:g}")
    return value


def _coerce(section: str, key: str, typ: Any, value: Any, origin: str) -> Any:
    where = f"{section}.{key} (from {origin})"
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in {"1", "true", "yes", "on"}:
            return True
        if isinstance(value, str) and value.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if typ is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        try:
            result = int(value) if isinstance(value, int | str) else None
        except ValueError:
            result = None
        if result is None:
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if result < 0:
            raise ConfigError(f"{where}: must not be negative, got {result}")
        return _in_range(section, key, result, where)
    if typ is float:
        try:
            result_f = float(value) if isinstance(value, int | float | str) else None
        except ValueError:
            result_f = None
        if result_f is None or isinstance(value, bool) or result_f < 0:
            raise ConfigError(f"{where}: expected a non-negative number, got {value!r}")
        return _in_range(section, key, result_f, where)
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        choices = _CHOICES.get((section, key))
        if choices and value not in choices:
            raise ConfigError(f"{where}: expected one of {', '.join(choices)}, got {value!r}")
        return value
    if typ == tuple[str, ...]:
        if isinstance(value, str):
            items = tuple(part.strip() for part in value.split(",") if part.strip())
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = tuple(value)
        else:
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
        if (section, key) in _NETWORK_LISTS:
            for item in items:
                try:
                    ipaddress.ip_network(item, strict=True)
                except ValueError:
                    raise ConfigError(
                        f"{where}: {item!r} is not a network in CIDR form "
                        "(e.g. 198.18.0.0/15, no host bits set)"
                    ) from None
        return items
    raise ConfigError(f"{where}: unsupported setting type {typ!r}")  # pragma: no cover


def _apply(config: Config, overrides: Mapping[str, Mapping[str, Any]], origin: str) -> Config:
    types = section_types()
    new_sections: dict[str, Any] = {}
    for section, values in overrides.items():
        cls = types.get(section)
        if cls is None:
            raise ConfigError(f"unknown section [{section}] in {origin}; known: {', '.join(types)}")
        if not isinstance(values, Mapping):
            raise ConfigError(f"[{section}] in {origin} must be a table")
        hints = get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if key not in known:
                names = ", ".join(sorted(known))
                raise ConfigError(f"unknown setting {section}.{key} in {origin}; known: {names}")
            changes[key] = _coerce(section, key, hints[key], value, origin)
        current = new_sections.get(section, getattr(config, section))
        new_sections[section] = dataclasses.replace(current, **changes)
    return dataclasses.replace(config, **new_sections)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid UTF-8 (byte {exc.start}): a TOML file must be UTF-8 text"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


def env_overrides(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """``TOKTOK_<SECTION>_<KEY>`` variables as overrides (other TOKTOK_ names are ignored)."""
    sections = section_types()
    out: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section, _, key = rest.partition("_")
        if section in sections and key:
            out.setdefault(section, {})[key] = value
    return out


def parse_assignments(items: list[str]) -> dict[str, dict[str, str]]:
    """``section.key=value`` strings (from ``--set``) as overrides."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        target, sep, value = item.partition("=")
        section, dot, key = target.strip().partition(".")
        if not sep or not dot or not section or not key:
            raise ConfigError(f"--set expects section.key=value, got {item!r}")
        out.setdefault(section, {})[key] = value
    return out


def load_config(
    data_dir: Path,
    *,
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Mapping[str, Any]] | None = None,
) -> Config:
    """Build the effective config of the peer in ``data_dir`` from all sources (module doc)."""
    env = os.environ if environ is None else environ
    config = Config()
    user_file = config_file or (Path(env["TOKTOK_CONFIG"]) if env.get("TOKTOK_CONFIG") else None)
    if user_file is not None and not user_file.is_file():
        raise ConfigError(f"config file {user_file} does not exist")
    candidate = user_file or default_config_file()
    if candidate.is_file():
        config = _apply(config, _read_toml(candidate), str(candidate))
    local = data_dir / "config.toml"
    if local.is_file():
        config = _apply(config, _read_toml(local), str(local))
    config = _apply(config, env_overrides(env), "environment")
    if flags:
        config = _apply(config, flags, "command line")
    return config
