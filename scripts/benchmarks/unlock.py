"""Unlock benchmark: key-release latency and the unlocks/s one key server sustains.

Usage: scripts/bench unlock [--samples 200] [--holders 50] [--client-hosts 5] [--seconds 8]
                            [--runs 3]

Setup (not timed): anvil (block time 1 s), a creator token, ``--holders`` fresh wallets each
given 1 token (ERC-20 transfers from a dev account that bought them), a premium clip in an
in-memory content store, one key server (a real libp2p host, ``OwnershipChecker`` with lag 2
and the per-block balance cache over the chain client), and ``--client-hosts`` real libp2p
hosts for the holders (holders share hosts: 50 libp2p hosts in one process on 2 cores would
measure thread scheduling; the per-peer nonce rate limit is therefore lifted for the run).
Released keys are not cached on the holder side, so every unlock goes to the server.

- latency: one holder, ``--samples`` sequential unlocks; each is nonce round trip + EIP-4361
  message + signature + key round trip (server: parse, nonce, resources, ecrecover, holding
  rule, sealing) + open + verifying the key on the first chunk. Median / p90 / p99.
  Baselines in the same run: a bare request/response round trip on the same hosts (nonce
  request), and one uncached ``holds()`` (2 balance reads + block number) against anvil.
- throughput: ``--holders`` holders unlocking in a loop for ``--seconds``; unlocks/s, median
  of ``--runs`` runs; server-side balance reads per unlock (the per-block cache at work).
"""

# ruff: noqa: E402
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# scripts/benchmarks/ is on sys.path first and holds a storage.py: drop it for our imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import AsyncHTTPProvider, AsyncWeb3

from peer.gating import protocol as proto
from peer.gating.nonces import NonceOptions
from peer.gating.ports import GatedPost, MemoryPosts
from peer.gating.server import KeyServer, KeyServerOptions
from peer.gating.testing import store_premium_clip
from peer.gating.unlocker import Unlocker
from peer.p2p import HostOptions, P2PHost
from storage.crypto import ClipKey
from storage.embedded import EmbeddedContentStore
from storage.errors import ClipKeyNotFoundError
from tokens import siwe
from tokens.artifacts import load_artifact
from tokens.client import ChainClient, ClientOptions
from tokens.devnet import DEV_PRIVATE_KEYS, Devnet, DevnetOptions, find_anvil
from tokens.ownership import OwnershipChecker

ROOT = Path(__file__).resolve().parents[2]
ONE = 10**18


class MemoryKeys:
    def __init__(self) -> None:
        self.keys: dict[str, ClipKey] = {}

    def get(self, clip_id: str) -> ClipKey:
        return self.keys[clip_id]

    def has(self, clip_id: str) -> bool:
        return clip_id in self.keys


class NoCache:
    """Forgets every key, so each unlock asks the server."""

    def get(self, clip_id: str) -> ClipKey:
        raise ClipKeyNotFoundError(clip_id)

    def has(self, clip_id: str) -> bool:
        return False

    def put(self, clip_id: str, key: ClipKey) -> None:
        pass


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(v: float) -> float:
    return round(v * 1000, 2)


async def give_tokens(rpc: str, token: str, holders: list[LocalAccount], amount: int) -> None:
    """ERC-20 transfers from dev account 2 (unlocked on anvil), all sent, then awaited."""
    w3 = AsyncWeb3(AsyncHTTPProvider(rpc))
    abi = load_artifact("CreatorToken").abi
    contract = w3.eth.contract(address=w3.to_checksum_address(token), abi=abi)
    sender = Account.from_key(DEV_PRIVATE_KEYS[2]).address
    last = None
    for h in holders:
        last = await contract.functions.transfer(h.address, amount).transact({"from": sender})
    assert last is not None
    await w3.eth.wait_for_transaction_receipt(last, timeout=60)
    await w3.provider.disconnect()


async def direct_rate(
    server: KeyServer, holders: list[LocalAccount], post: GatedPost, seconds: float
) -> float:
    """Baseline: the same two requests handed to the server's handler in-process (no libp2p),
    same concurrency; message building, signing and opening included."""
    done = 0
    stop_at = time.monotonic() + seconds

    async def worker(i: int, h: LocalAccount) -> None:
        nonlocal done
        peer = f"direct-{i}"
        while time.monotonic() < stop_at:
            grant = proto.decode_response(await server.handle(peer, proto.encode_nonce_request()))
            assert isinstance(grant, proto.NonceGrant)
            eph = X25519PrivateKey.generate()
            res = proto.Resources(post.post_id, server.peer_id, proto.public_bytes(eph))
            now = datetime.now(UTC)
            text = proto.build_message(h.address, 31337, grant.nonce, res, now)
            req = proto.KeyRequest(post.post_id, text, siwe.sign(text, h.key))
            sealed = proto.decode_response(await server.handle(peer, proto.encode_key_request(req)))
            assert isinstance(sealed, proto.SealedKey), sealed
            proto.open_sealed(eph, sealed)
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(i, h) for i, h in enumerate(holders)))
    return done / (time.perf_counter() - t0)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="toktok-bench-unlock-") as tmp_s:
        tmp = Path(tmp_s)
        opts = DevnetOptions(state_dir=tmp / "devnet", anvil=find_anvil(ROOT), block_time=1.0)
        async with Devnet(opts) as info:
            return await run(args, info, tmp)


async def run(args: argparse.Namespace, info: Any, tmp: Path) -> dict[str, Any]:
    def client(i: int | None) -> ChainClient:
        acct = Account.from_key(DEV_PRIVATE_KEYS[i]) if i is not None else None
        return ChainClient(ClientOptions(rpc_url=info.rpc_url, deployment=info.deployment), acct)

    creator, funder, reader = client(1), client(2), client(None)
    token = await creator.create_token("Bench", "BEN")
    holders = [Account.create() for _ in range(args.holders)]
    await funder.buy(token, ONE * len(holders))
    await give_tokens(info.rpc_url, token, holders, ONE)

    store = EmbeddedContentStore.memory()
    clip = await store_premium_clip(store, creator.address, sizes=(200_000,), chunk_size=65536)
    keys = MemoryKeys()
    keys.keys[clip.manifest_cid] = clip.key
    hosts: list[P2PHost] = []

    async def host(name: str) -> P2PHost:
        h = P2PHost(HostOptions(identity_path=tmp / name / "identity.key"))
        await h.start()
        hosts.append(h)
        return h

    server_host = await host("server")
    post = GatedPost(os.urandom(32), creator.address, token, clip.manifest_cid, True, ONE,
                     (server_host.addrs[0],))  # fmt: skip
    posts = MemoryPosts()
    posts.add(post)
    checker = OwnershipChecker(reader, lag=2)
    no_limit = KeyServerOptions(nonces=NonceOptions(rate=10**9))
    server = KeyServer(server_host, keys, posts, checker, info.chain_id, options=no_limit)
    await server.start()
    client_hosts = [await host(f"client{i}") for i in range(args.client_hosts)]
    for h in client_hosts:
        await h.connect(server_host.addrs[0])
    unlockers = [
        Unlocker(client_hosts[i % len(client_hosts)], h, info.chain_id, NoCache(), store)
        for i, h in enumerate(holders)
    ]
    probe = OwnershipChecker(reader, lag=2, cache=False)
    while not await probe.holds(token, holders[-1].address, ONE):  # noqa: ASYNC110 (lag)
        await asyncio.sleep(0.2)
    try:
        # warm-up
        for u in unlockers[:5]:
            await u.unlock(post)
        latencies = []
        for _ in range(args.samples):
            t0 = time.perf_counter()
            await unlockers[0].unlock(post)
            latencies.append(time.perf_counter() - t0)
        rtt = []
        for _ in range(args.samples):
            t0 = time.perf_counter()
            await client_hosts[0].request(
                server_host.peer_id, proto.PROTOCOL, proto.encode_nonce_request()
            )
            rtt.append(time.perf_counter() - t0)
        holds_t = []
        for _ in range(min(args.samples, 50)):
            t0 = time.perf_counter()
            await probe.holds(token, holders[0].address, ONE)
            holds_t.append(time.perf_counter() - t0)

        direct_rates = []
        for _ in range(args.runs):
            direct_rates.append(await direct_rate(server, holders, post, args.seconds / 2))

        rates, reads_per_unlock, failures = [], [], 0
        for _ in range(args.runs):
            done = 0
            reads0 = checker.reads
            stop_at = time.monotonic() + args.seconds

            async def worker(u: Unlocker, stop_at: float = stop_at) -> None:
                nonlocal done, failures
                while time.monotonic() < stop_at:
                    try:
                        await u.unlock(post)
                        done += 1
                    except Exception:
                        failures += 1

            t0 = time.perf_counter()
            await asyncio.gather(*(worker(u) for u in unlockers))
            elapsed = time.perf_counter() - t0
            rates.append(done / elapsed)
            reads_per_unlock.append((checker.reads - reads0) / max(done, 1))
    finally:
        await server.stop()
        for h in hosts:
            await h.stop()
        for c in (creator, funder, reader):
            await c.close()

    lat_med = statistics.median(latencies)
    return {
        "benchmark": "unlock",
        "setup": {
            "holders": args.holders, "client_hosts": args.client_hosts, "lag": 2,
            "anvil_block_time_s": 1.0, "samples": args.samples, "runs": args.runs,
            "seconds_per_run": args.seconds, "nonce_rate_limit": "lifted for the run",
        },
        "latency_ms": {
            "median": ms(lat_med), "p90": ms(pct(latencies, 0.9)), "p99": ms(pct(latencies, 0.99)),
            "min": ms(min(latencies)), "max": ms(max(latencies)),
        },
        "baselines_ms": {
            "p2p_request_round_trip_median": ms(statistics.median(rtt)),
            "holds_uncached_median": ms(statistics.median(holds_t)),
        },
        "ratios": {
            "unlock_vs_round_trip": round(lat_med / statistics.median(rtt), 2),
            "unlock_vs_holds_uncached": round(lat_med / statistics.median(holds_t), 2),
        },
        "throughput": {
            "unlocks_per_s_median": round(statistics.median(rates), 1),
            "runs": [round(r, 1) for r in rates],
            "balance_reads_per_unlock": [round(r, 3) for r in reads_per_unlock],
            "failures": failures,
            "server_refused": dict(server.refused),
            "baseline_handler_only_unlocks_per_s_median": round(
                statistics.median(direct_rates), 1
            ),
            "ratio_vs_handler_only": round(
                statistics.median(rates) / statistics.median(direct_rates), 2
            ),
        },
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--holders", type=int, default=50)
    parser.add_argument("--client-hosts", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--runs", type=int, default=3)
    result = asyncio.run(main(parser.parse_args()))
    text = json.dumps(result, indent=2)
    print(text)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "unlock.json").write_text(text + "\n")
    sys.exit(0)
