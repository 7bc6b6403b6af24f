"""Benchmark: adding a file to the embedded store, against sha256 (the limit) and Helia.

Measured in one run, interleaved, median of ``--runs`` repetitions each:

* ``sha256``: ``hashlib.sha256`` streaming over the same file (read in 1 MiB pieces);
* ``cid_only``: our UnixFS importer computing the CID without storing (``toktok cid``);
* ``add_fsync``: ``LocalStore.import_file`` into a fresh store, fsync per block (our default);
* ``add_no_fsync``: the same without fsync (temp file + rename only, like blockstore-fs);
* ``cat_verified``: reading the file back from the store, every block hashed against its CID
  (then sha256 of the output, to check it);
* ``helia``: ``ipfs-unixfs-importer`` 17.1.1 into ``blockstore-fs`` 4.0.1 on Node 22, same
  chunking/layout/raw leaves (``scripts/benchmarks/js/helia_import.mjs``), import time only.

Then the peak RSS of a fresh process adding a ``--big-mb`` (1024) MiB file, next to the RSS of
a process that only imports the store, and of Helia adding the same file.

Data: the 100 MB file follows the generator of ``tests/vectors/unixfs_vectors.json``
(sha256 of a counter); the 1 GiB file, for speed, concatenates SHAKE-128 outputs of a counter
(1 MiB each). Both are non-repeating, so every chunk is a distinct block.

Usage: scripts/bench storage [--size-mb 100] [--runs 5] [--big-mb 1024] [--skip-big]
Prints JSON and writes bench-results/storage.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from storage import unixfs  # noqa: E402
from storage.cid import CID  # noqa: E402
from storage.local import READ_SIZE, LocalStore  # noqa: E402

NODE = ROOT / "node_modules" / "node" / "bin" / "node"
HELIA_SCRIPT = ROOT / "scripts" / "benchmarks" / "js" / "helia_import.mjs"
MB = 1_000_000


def write_vector_file(path: Path, size: int) -> None:
    """sha256(b'toktok-vector-<i>') digests concatenated (the unixfs_vectors.json generator)."""
    sha = hashlib.sha256
    with path.open("wb") as out:
        i = 0
        written = 0
        while written < size:
            count = min(32_768, (size - written + 31) // 32)
            piece = b"".join(sha(b"toktok-vector-%d" % n).digest() for n in range(i, i + count))
            piece = piece[: size - written]
            out.write(piece)
            written += len(piece)
            i += count


def write_shake_file(path: Path, size: int) -> None:
    """SHAKE-128 of b'toktok-bench-<i>', 1 MiB per counter value: fast, non-repeating."""
    with path.open("wb") as out:
        i = 0
        while size > 0:
            piece = hashlib.shake_128(b"toktok-bench-%d" % i).digest(min(1 << 20, size))
            out.write(piece)
            size -= len(piece)
            i += 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(READ_SIZE):
            digest.update(piece)
    return digest.hexdigest()


def cid_only(path: Path) -> str:
    importer = unixfs.FileImporter(1)
    with path.open("rb") as handle:
        while piece := handle.read(READ_SIZE):
            importer.write(piece)
    return str(importer.finish()[0])


def add(path: Path, store_dir: Path, fsync: bool) -> str:
    return str(LocalStore.open(store_dir, fsync=fsync).import_file(path))


def cat(store_dir: Path, cid: str) -> str:
    """Read the whole file back (every block verified); return the sha256 of the bytes."""
    digest = hashlib.sha256()
    for piece in LocalStore.open(store_dir, owner=False).iter_file(CID.parse(cid)):
        digest.update(piece)
    return digest.hexdigest()


def helia(path: Path, store_dir: Path) -> tuple[str, float]:
    out = subprocess.run(
        [str(NODE), str(HELIA_SCRIPT), str(path), str(store_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if out.returncode != 0:
        raise RuntimeError(f"Helia importer failed: {out.stderr.strip()[-800:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return str(result["cid"]), float(result["seconds"])


def timed(fn: Callable[[], str]) -> tuple[str, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def peak_rss_mb(argv: list[str]) -> tuple[float, str]:
    """Run ``argv`` in a fresh wrapper process; return the child's peak RSS (MB) and stdout."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(p.stdout.strip())\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *argv], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {out.stderr.strip()[-800:]}")
    lines = out.stdout.strip().splitlines()
    return int(lines[0]) / 1024, "\n".join(lines[1:])


def ensure_node22() -> None:
    """npm 11 skips node@22's preinstall (which fetches the binary): run it once if needed."""
    package = NODE.parent.parent
    if NODE.exists() or not (package / "package.json").exists():
        return
    subprocess.run(
        ["flock", "/tmp/toktok-npm.lock", "npm", "run", "preinstall"],  # noqa: S108 - shared lock
        cwd=package,
        check=False,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-mb", type=int, default=1024, help="MiB for the peak-RSS run")
    parser.add_argument("--skip-big", action="store_true")
    args = parser.parse_args()
    ensure_node22()
    have_helia = NODE.exists() and HELIA_SCRIPT.exists()
    size = args.size_mb * MB
    results: dict[str, Any] = {"file_bytes": size, "runs": args.runs, "unit": "MB/s (1e6 B/s)"}

    with tempfile.TemporaryDirectory(prefix="toktok-bench-storage-") as tmp_text:
        tmp = Path(tmp_text)
        data = tmp / "data.bin"
        write_vector_file(data, size)
        sha256_file(data)  # warm the page cache
        times: dict[str, list[float]] = {
            "sha256": [],
            "cid_only": [],
            "add_fsync": [],
            "add_no_fsync": [],
            "cat_verified": [],
        }
        if have_helia:
            times["helia"] = []
        cids: dict[str, str] = {}
        for run in range(args.runs):
            times["sha256"].append(timed(lambda: sha256_file(data))[1])
            cids["cid_only"], t = timed(lambda: cid_only(data))
            times["cid_only"].append(t)
            for fsync, name in ((True, "add_fsync"), (False, "add_no_fsync")):
                store_dir = tmp / f"store-{name}-{run}"
                cids[name], t = timed(lambda s=store_dir, f=fsync: add(data, s, f))  # type: ignore[misc]
                times[name].append(t)
                if not fsync:
                    reread, t = timed(lambda s=store_dir: cat(s, cids["cid_only"]))  # type: ignore[misc]
                    assert reread == sha256_file(data), "read back differs"
                    times["cat_verified"].append(t)
                subprocess.run(["rm", "-rf", str(store_dir)], check=True)
            if have_helia:
                helia_dir = tmp / f"helia-{run}"
                cids["helia"], t = helia(data, helia_dir)
                times["helia"].append(t)
                subprocess.run(["rm", "-rf", str(helia_dir)], check=True)
        throughput = {k: size / statistics.median(v) / MB for k, v in times.items()}
        results["median_mb_s"] = {k: round(v, 1) for k, v in throughput.items()}
        results["all_seconds"] = {k: [round(x, 4) for x in v] for k, v in times.items()}
        results["ratio_vs_sha256"] = {
            k: round(v / throughput["sha256"], 3) for k, v in throughput.items() if k != "sha256"
        }
        if have_helia:
            results["ratio_vs_helia"] = {
                k: round(v / throughput["helia"], 3) for k, v in throughput.items() if k != "helia"
            }
        results["cids"] = cids
        results["cids_agree"] = len(set(cids.values())) == 1
        if not have_helia:
            results["helia_missing"] = (
                f"{NODE} not found: node@22 is in package.json, but npm 11 skips its preinstall "
                "script (which downloads the binary); run "
                "'cd node_modules/node && npm run preinstall'"
            )
        data.unlink()

        if not args.skip_big:
            big = tmp / "big.bin"
            write_shake_file(big, args.big_mb << 20)
            code = (
                "import sys; from pathlib import Path; from storage.local import LocalStore; "
                "print(LocalStore.open(Path(sys.argv[2])).import_file(sys.argv[1]))"
            )
            rss, cid = peak_rss_mb([sys.executable, "-c", code, str(big), str(tmp / "big-store")])
            subprocess.run(["rm", "-rf", str(tmp / "big-store")], check=True)
            idle, _ = peak_rss_mb([sys.executable, "-c", "import storage.local"])
            big_results: dict[str, Any] = {
                "file_bytes": args.big_mb << 20,
                "peak_rss_mb": round(rss, 1),
                "idle_process_rss_mb": round(idle, 1),
                "cid": cid,
            }
            if have_helia:
                try:
                    h_rss, h_out = peak_rss_mb(
                        [str(NODE), str(HELIA_SCRIPT), str(big), str(tmp / "big-helia")]
                    )
                    big_results["helia_peak_rss_mb"] = round(h_rss, 1)
                    big_results["helia_cid_agrees"] = json.loads(h_out)["cid"] == cid
                except RuntimeError as exc:
                    big_results["helia_error"] = str(exc)
            results["big_add"] = big_results

    text = json.dumps(results, indent=2, sort_keys=True)
    print(text)
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "storage.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
