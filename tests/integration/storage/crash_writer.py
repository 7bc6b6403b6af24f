"""Writer process for the crash test: adds, pins, unpins and GCs forever until killed.

Usage: python crash_writer.py STORE_DIR SEED

Prints (flushed) ``ready`` once the store is open, ``pinned <cid> <seed> <size>`` after a pin
is committed and ``unpinning <cid>`` before an unpin starts.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from storage.cid import CID
from storage.local import LocalStore

CHUNK = 262_144


def content(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def main() -> None:
    store = LocalStore.open(Path(sys.argv[1]))
    rng = random.Random(int(sys.argv[2]))
    print("ready", flush=True)
    while True:
        roll = rng.random()
        pins = store.pins()
        if roll < 0.55:
            seed = rng.randrange(2**32)
            size = rng.choice([0, 1, CHUNK - 1, CHUNK, CHUNK + 1, rng.randrange(3 * CHUNK)])
            data = content(seed, size)
            pin_now = rng.random() < 0.7
            cid: CID = store.import_chunks(
                [data[i : i + 65_536] for i in range(0, len(data), 65_536)],
                cid_version=rng.choice([0, 1]),
                pin=pin_now,
            )
            if not pin_now:
                store.pin(cid, recursive=True)
            print(f"pinned {cid} {seed} {size}", flush=True)
        elif roll < 0.8 and len(pins) > 3:
            victim = rng.choice(pins).cid
            print(f"unpinning {victim}", flush=True)
            store.unpin(victim)
        else:
            store.gc()


if __name__ == "__main__":
    main()
