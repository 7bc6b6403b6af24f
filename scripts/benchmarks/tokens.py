"""Benchmark: gas of create_token / buy / sell and the cost of 1,000 holds() checks.

    scripts/bench tokens [--runs 3] [--checks 1000] [--trades 10]

Starts a fresh anvil devnet (block time 1 s) in a temp dir. Gas: ``gasUsed`` from the
receipts of one ``create_token`` per creator (``--runs`` creators), ``--trades`` buys and
``--trades`` sells of varying size; medians reported. holds(): ``--checks`` sequential
``OwnershipChecker.holds`` calls against the devnet RPC, with the per-block cache and
without it (the baseline, measured in the same run, alternating), ``--runs`` times each;
median wall time, checks per second, RPC balance reads, and the ratio cached/uncached.
Prints JSON and writes bench-results/tokens.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# This file is named like the `tokens` package; drop its own folder from the import path
# so `import tokens` finds the package, not this script.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from eth_account import Account  # noqa: E402

from tokens.client import ChainClient, ClientOptions  # noqa: E402
from tokens.devnet import DEV_PRIVATE_KEYS, Devnet, DevnetOptions, find_anvil  # noqa: E402
from tokens.ownership import OwnershipChecker  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ONE = 10**18


async def _gas(info: Any, runs: int, trades: int) -> dict[str, Any]:
    options = ClientOptions(rpc_url=info.rpc_url, deployment=info.deployment)
    w3_gas: dict[str, list[int]] = {"create_token": [], "buy": [], "sell": []}
    for i in range(runs):
        async with ChainClient(options, Account.from_key(DEV_PRIVATE_KEYS[1 + i])) as c:
            sender = c._tx()
            data = c._factory.encode_abi("create_token", args=[f"Bench {i}", f"B{i}"])
            receipt = await sender.transact(c._factory.address, data, "create")
            w3_gas["create_token"].append(int(receipt["gasUsed"]))
    async with ChainClient(options, Account.from_key(DEV_PRIVATE_KEYS[1])) as c:
        token = await c.require_token_of(c.address)
        await c.approve_tok(token, 10**30)
        contract = c.token(token)
        deadline = 2**40
        for k in range(trades):
            amount = (k + 1) * ONE
            data = contract.encode_abi("buy", args=[amount, 10**30, deadline])
            receipt = await c._tx().transact(token, data, "buy")
            w3_gas["buy"].append(int(receipt["gasUsed"]))
        for k in range(trades):
            data = contract.encode_abi("sell", args=[(k % 3 + 1) * ONE // 2, 0, deadline])
            receipt = await c._tx().transact(token, data, "sell")
            w3_gas["sell"].append(int(receipt["gasUsed"]))
    return {
        name: {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
        for name, v in w3_gas.items()
    }


async def _holds(info: Any, runs: int, checks: int) -> dict[str, Any]:
    options = ClientOptions(rpc_url=info.rpc_url, deployment=info.deployment)
    times: dict[str, list[float]] = {"cached": [], "uncached": []}
    reads: dict[str, list[int]] = {"cached": [], "uncached": []}
    async with ChainClient(options) as c:
        holder = Account.from_key(DEV_PRIVATE_KEYS[1]).address
        token = await c.require_token_of(holder)
        for _ in range(runs):
            for mode in ("uncached", "cached"):
                checker = OwnershipChecker(c, lag=2, cache=mode == "cached")
                start = time.perf_counter()
                for _ in range(checks):
                    await checker.holds(token, holder, ONE)
                times[mode].append(time.perf_counter() - start)
                reads[mode].append(checker.reads)
    out: dict[str, Any] = {}
    for mode in times:
        med = statistics.median(times[mode])
        out[mode] = {
            "median_s": round(med, 4),
            "checks_per_s": round(checks / med, 1),
            "balance_reads_median": statistics.median(reads[mode]),
            "runs_s": [round(t, 4) for t in times[mode]],
        }
    out["speedup_cached_vs_uncached"] = round(
        out["uncached"]["median_s"] / out["cached"]["median_s"], 2
    )
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="toktok-bench-") as tmp:
        opts = DevnetOptions(state_dir=Path(tmp), anvil=find_anvil(ROOT), block_time=1.0)
        async with Devnet(opts) as info:
            gas = await _gas(info, args.runs, args.trades)
            holds = await _holds(info, args.runs, args.checks)
    return {
        "benchmark": "tokens",
        "gas": gas,
        "holds": {"checks": args.checks, "lag": 2, **holds},
        "machine": {"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--checks", type=int, default=1000)
    parser.add_argument("--trades", type=int, default=10)
    result = asyncio.run(main(parser.parse_args()))
    text = json.dumps(result, indent=2)
    print(text)
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "tokens.json").write_text(text + "\n")
