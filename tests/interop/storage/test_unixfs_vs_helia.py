"""Our UnixFS importer against ipfs-unixfs-importer (Helia's) on trees of every depth.

Small chunks and fan-outs make deep balanced trees cheap, so the layout rules (lone trailing
children wrapped at every level, single-leaf reduction, Tsize and blocksizes) are compared on
depths 1 to 5, for CIDv0 (dag-pb leaves) and CIDv1 (raw leaves).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.tools import require_tool
from support.vectors import vector_bytes

from storage import unixfs

pytestmark = pytest.mark.interop

ROOT = Path(__file__).resolve().parents[3]
NODE = ROOT / "node_modules" / "node" / "bin" / "node"
SCRIPT = Path(__file__).with_name("unixfs_cids.mjs")


def cases() -> list[dict[str, int]]:
    out = []
    for chunk, links in ((7, 2), (16, 3), (5, 4)):
        sizes = {0, 1, chunk - 1, chunk, chunk + 1}
        for depth in range(1, 5):
            edge = chunk * links**depth
            sizes |= {edge - 1, edge, edge + 1, edge + chunk}
        for size in sorted(sizes):
            for version in (0, 1):
                out.append({"size": size, "chunk": chunk, "links": links, "version": version})
    out.append({"size": 3 * 262_144 + 1, "chunk": 262_144, "links": 174, "version": 1})
    return out


def test_every_tree_shape_matches_helias_importer() -> None:
    require_tool(NODE.exists(), "Node 22 is not installed in node_modules: run scripts/setup")
    all_cases = cases()
    proc = subprocess.run(
        [str(NODE), str(SCRIPT), json.dumps(all_cases)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    expected = json.loads(proc.stdout)
    mismatches = []
    for case, cid in zip(all_cases, expected, strict=True):
        importer = unixfs.FileImporter(case["version"], case["chunk"], case["links"])
        importer.write(vector_bytes(case["size"]))
        ours = str(importer.finish()[0])
        if ours != cid:
            mismatches.append((case, ours, cid))
    assert mismatches == []
    assert len(expected) > 100
