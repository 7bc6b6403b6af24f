"""An incremental index of every creator-token trade (``Buy``/``Sell`` events) of a deployment.

The creator-economy views (a creator's earnings, a holder's cost basis, the price chart) read
trades from here instead of scanning the chain: :func:`sync` reads the logs of the blocks after
the persisted cursor (the deployment's start block on the first run), keeps only logs emitted by
the factory's creator tokens (anything can emit an event with the same signature), stamps them
with their block's time and stores them with the new cursor in one transaction. Nothing is ever
re-scanned from zero; the index belongs to one deployment (chain id, factory, start block) and
starts again, empty, when the data dir's deployment changes (a reset devnet).

Only blocks at least ``confirmations`` behind the head are indexed, so a short reorg does not
leave a trade in the index that the chain no longer has (:func:`confirmations_for`: 0 on a
local anvil chain, the configured depth on any other).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from tokens.client import ChainClient, Trade

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (address TEXT PRIMARY KEY, creator TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trades (
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    token TEXT NOT NULL,
    kind TEXT NOT NULL,
    trader TEXT NOT NULL,
    amount TEXT NOT NULL,
    total TEXT NOT NULL,
    curve_amount TEXT NOT NULL,
    creator_fee TEXT NOT NULL,
    protocol_fee TEXT NOT NULL,
    supply TEXT NOT NULL,
    price TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    tx TEXT NOT NULL,
    PRIMARY KEY (block, log_index)
);
CREATE TABLE IF NOT EXISTS received (
    holder TEXT NOT NULL,
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    token TEXT NOT NULL,
    sender TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (holder, block, log_index)
);
CREATE INDEX IF NOT EXISTS trades_token ON trades (token, block, log_index);
CREATE INDEX IF NOT EXISTS trades_trader ON trades (trader, block, log_index);
"""
MAX_BLOCKS_PER_SYNC = 50_000  # one sync reads at most this many blocks (a long catch-up resumes)


@dataclass(frozen=True, slots=True)
class IndexedTrade:
    """A trade of a creator token, with its token and its block's time."""

    token: str
    timestamp: int
    log_index: int  # its position among the trades of its block
    trade: Trade


@dataclass(frozen=True, slots=True)
class Received:
    """A creator token arriving at a holder by a plain transfer (no price: not a trade)."""

    token: str
    sender: str
    amount: int
    block: int
    log_index: int


class TradeIndex:
    """SQLite store of trades and the cursor (``path`` None: in memory). Thread-safe."""

    def __init__(self, path: Path | None, deployment_key: str) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path), check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'deployment'").fetchone()
            if row is not None and row[0] != deployment_key:  # another chain: start again
                self._db.execute("DELETE FROM trades")
                self._db.execute("DELETE FROM received")
                self._db.execute("DELETE FROM tokens")
                self._db.execute("DELETE FROM meta")
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('deployment', ?)", (deployment_key,)
            )

    def close(self) -> None:
        self._db.close()

    def next_block(self) -> int | None:
        """The first block not indexed yet (None: nothing indexed)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'next_block'").fetchone()
        return None if row is None else int(row[0])

    def known_creator(self, token: str) -> str | None:
        """The creator of ``token`` as recorded ("" for a contract that is not a creator
        token), or None when not looked up yet."""
        with self._lock:
            row = self._db.execute(
                "SELECT creator FROM tokens WHERE address = ?", (token,)
            ).fetchone()
        return None if row is None else str(row[0])

    def remember_creator(self, token: str, creator: str | None) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO tokens VALUES (?, ?)", (token, creator or ""))

    def add(self, trades: list[IndexedTrade], next_block: int) -> None:
        """Store ``trades`` and move the cursor to ``next_block``, atomically."""
        rows = [
            (
                t.trade.block, t.log_index, t.token, t.trade.kind, t.trade.trader,
                str(t.trade.amount), str(t.trade.total), str(t.trade.curve_amount),
                str(t.trade.creator_fee), str(t.trade.protocol_fee), str(t.trade.supply),
                str(t.trade.price), t.timestamp, t.trade.tx_hash,
            )
            for t in trades
        ]  # fmt: skip
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO trades VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows
            )
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('next_block', ?)", (str(next_block),)
            )

    def trades_from(self, block: int, before: int | None = None) -> list[IndexedTrade]:
        """Trades in blocks ``block`` .. ``before - 1`` (no upper bound: None), chain order."""
        sql, args = "SELECT * FROM trades WHERE block >= ?", [block]
        if before is not None:
            sql += " AND block < ?"
            args.append(before)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY block, log_index", args).fetchall()
        return [_row(r) for r in rows]

    def trade_counts(self, since: int) -> dict[str, int]:
        """Trades per token whose block time is at least ``since`` (Unix seconds)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT token, COUNT(*) FROM trades WHERE timestamp >= ? GROUP BY token", (since,)
            ).fetchall()
        return {str(t): int(n) for t, n in rows}

    def buyer_counts(self) -> dict[str, int]:
        """Distinct buyers per token, over every indexed trade."""
        with self._lock:
            rows = self._db.execute(
                "SELECT token, COUNT(DISTINCT lower(trader)) FROM trades WHERE kind = 'buy'"
                " GROUP BY token"
            ).fetchall()
        return {str(t): int(n) for t, n in rows}

    def received_next_block(self, holder: str) -> int | None:
        """The first block not read yet for transfers to ``holder`` (None: never read)."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM meta WHERE key = ?", (f"received:{holder.lower()}",)
            ).fetchone()
        return None if row is None else int(row[0])

    def add_received(self, holder: str, rows: list[Received], next_block: int) -> None:
        """Store transfers to ``holder`` and move its cursor to ``next_block``, atomically."""
        values = [
            (holder.lower(), r.block, r.log_index, r.token, r.sender, str(r.amount)) for r in rows
        ]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO received VALUES (?,?,?,?,?,?)", values)
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                (f"received:{holder.lower()}", str(next_block)),
            )

    def received_tokens(self, holder: str) -> set[str]:
        """Creator tokens ``holder`` ever received by a transfer (not a mint)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT token FROM received WHERE holder = ?", (holder.lower(),)
            ).fetchall()
        return {str(r[0]) for r in rows}

    def trades(self, *, token: str | None = None, trader: str | None = None) -> list[IndexedTrade]:
        """Trades of one token and/or one trader, in chain order."""
        where, args = [], []
        if token is not None:
            where.append("token = ?")
            args.append(token)
        if trader is not None:
            where.append("lower(trader) = lower(?)")
            args.append(trader)
        sql = "SELECT * FROM trades"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY block, log_index", args).fetchall()
        return [_row(r) for r in rows]


def _row(r: tuple[object, ...]) -> IndexedTrade:
    block, log_index, token, kind, trader, amount, total, curve_amount = r[:8]
    creator_fee, protocol_fee, supply, price, timestamp, tx = r[8:]
    trade = Trade(
        kind=str(kind),
        trader=str(trader),
        amount=int(str(amount)),
        total=int(str(total)),
        curve_amount=int(str(curve_amount)),
        creator_fee=int(str(creator_fee)),
        protocol_fee=int(str(protocol_fee)),
        supply=int(str(supply)),
        price=int(str(price)),
        block=int(str(block)),
        tx_hash=str(tx),
    )
    return IndexedTrade(str(token), int(str(timestamp)), int(str(log_index)), trade)


LOCAL_CHAIN_ID = 31337
"""anvil's chain id: a local chain with one block producer, which never reorganises."""


def confirmations_for(chain_id: int, configured: int) -> int:
    """How many blocks a trade must be buried under before it is indexed: none on the local
    devnet, ``configured`` (``chain.trade_confirmations``) on any other chain."""
    return 0 if chain_id == LOCAL_CHAIN_ID else configured


def deployment_key(client: ChainClient) -> str:
    d = client.deployment
    return f"{d.chain_id}:{d.factory.lower()}:{d.start_block}"


async def sync(
    index: TradeIndex, client: ChainClient, confirmations: int = 0
) -> list[IndexedTrade]:
    """Index the blocks after the cursor up to ``head - confirmations`` (at most
    :data:`MAX_BLOCKS_PER_SYNC` of them); returns the new trades, in chain order."""
    first = index.next_block()
    if first is None:
        first = client.deployment.start_block
    last = min(await client.block_number() - confirmations, first + MAX_BLOCKS_PER_SYNC - 1)
    if last < first:
        return []
    found: list[IndexedTrade] = []
    stamps: dict[int, int] = {}
    ordinal: dict[int, int] = {}  # position in its block: every sync reads whole blocks
    for emitter, trade in await client.trades_between(first, last):
        log_index = ordinal.get(trade.block, 0)
        ordinal[trade.block] = log_index + 1
        if not await _creator(index, client, emitter):
            continue  # not a creator token of this factory
        if trade.block not in stamps:
            stamps[trade.block] = await client.block_timestamp(trade.block)
        found.append(IndexedTrade(emitter, stamps[trade.block], log_index, trade))
    index.add(found, last + 1)
    return found


async def _creator(index: TradeIndex, client: ChainClient, token: str) -> str:
    """The creator of ``token`` ("" when it is no creator token), looked up once."""
    creator = index.known_creator(token)
    if creator is None:
        creator = await client.creator_of(token) or ""
        index.remember_creator(token, creator)
    return creator


async def sync_received(
    index: TradeIndex, client: ChainClient, holder: str, confirmations: int = 0
) -> list[Received]:
    """Index the creator tokens transferred to ``holder`` in the blocks after its cursor (the
    deployment's start block on the first run) up to ``head - confirmations``; mints (buys)
    are trades, not transfers, and are left out. Returns what was new."""
    first = index.received_next_block(holder)
    if first is None:
        first = client.deployment.start_block
    last = min(await client.block_number() - confirmations, first + MAX_BLOCKS_PER_SYNC - 1)
    if last < first:
        return []
    found = [
        Received(token, sender, amount, block, log_index)
        for token, sender, amount, block, log_index in await client.transfers_to(
            holder, first, last
        )
        if int(sender, 16) != 0 and await _creator(index, client, token)
    ]
    index.add_received(holder, found, last + 1)
    return found
