"""No module of peer, storage or tokens parses JSON except through storage.untrusted, unless it
is on the allowlist below with the reason it is safe."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

# (module path, enclosing function) -> why a plain json.loads is safe there.
ALLOWED: dict[tuple[str, str], str] = {
    ("storage/untrusted.py", "<module>"): (
        "the decoder's own JSONDecoders, built once and used only by loads after its checks"
    ),
    ("peer/cli/client.py", "DaemonClient._request"): (
        "answers of our own daemon on loopback, trusted only while it holds the data-dir lock"
    ),
    ("peer/cli/client.py", "_error_of"): "error answers of our own daemon (as above)",
    ("peer/datadir.py", "read_credentials"): "api.json, mode 0600, written by our daemon",
    ("peer/feed/queries.py", "_item"): (
        "SQLite columns we wrote: flat lists from records the decoder already checked"
    ),
    ("peer/replication/state.py", "_record"): "SQLite columns we wrote: flat lists of CIDs",
    ("peer/social/notifications.py", "NotificationStore.add_sync"): (
        "SQLite column we wrote: a list of up to 3 addresses"
    ),
    ("peer/social/notifications.py", "NotificationStore.page_sync"): (
        "SQLite columns we wrote: up to 3 addresses and a flat dict of short strings"
    ),
    ("peer/p2p/worker.py", "WorkerProcess.call"): "pipe from our own child (test/bench harness)",
    ("peer/p2p/worker.py", "_serve_stdio"): "pipe from our own parent (test/bench harness)",
    ("peer/p2p/worker.py", "main"): "options on our own command line (test/bench harness)",
    # tokens may not import storage: files there are ours or the compiler's, capped where a
    # user supplies them, and deep nesting is a RecursionError under the sane recursion limit
    ("tokens/wallet.py", "Wallet._read"): "our keystore file (mode 0600)",
    ("tokens/wallet.py", "Wallet.import_keystore"): "user's file: size cap + RecursionError",
    ("tokens/artifacts.py", "load_artifact"): "contract artifacts built by scripts/build",
    ("tokens/deployment.py", "load_deployment"): "deployment file; RecursionError caught",
    ("tokens/devnet.py", "read_endpoint"): "endpoint.json written by our devnet launcher",
    ("tokens/build.py", "compile_contract"): "the vyper compiler's output",
    ("tokens/build.py", "build_all"): "artifacts this build has just rendered",
}


def _json_calls(tree: ast.AST) -> list[tuple[str, int]]:
    """(enclosing function qualname, line) of each json.loads / json.load / x.json() call and
    each JSONDecoder built (its ``decode`` parses as ``json.loads`` does)."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, [*scope, child.name])
                continue
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                attr, target = child.func.attr, child.func.value
                is_json_module = isinstance(target, ast.Name) and target.id == "json"
                if (is_json_module and attr in ("loads", "load", "JSONDecoder")) or (
                    attr == "json" and not child.args
                ):
                    found.append((".".join(scope) or "<module>", child.lineno))
            if (
                isinstance(child, ast.ImportFrom)
                and child.module in ("json", "json.decoder")
                and any(alias.name in ("loads", "load", "JSONDecoder") for alias in child.names)
            ):
                found.append((".".join(scope) or "<module>", child.lineno))
            visit(child, scope)

    visit(tree, [])
    return found


def _scan() -> dict[tuple[str, str], list[int]]:
    calls: dict[tuple[str, str], list[int]] = {}
    for package in ("peer", "storage", "tokens"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for scope, line in _json_calls(ast.parse(path.read_text(), rel)):
                calls.setdefault((rel, scope), []).append(line)
    return calls


def test_json_is_parsed_only_by_the_untrusted_decoder_or_on_the_allowlist() -> None:
    calls = _scan()
    outside = {f"{rel}:{lines[0]} in {scope}" for (rel, scope), lines in calls.items()}
    outside -= {
        f"{rel}:{calls[(rel, scope)][0]} in {scope}"
        for rel, scope in ALLOWED
        if (rel, scope) in calls
    }
    assert not outside, (
        "parse JSON from outside with storage.untrusted.loads (or add the call to ALLOWED "
        f"with the reason it is safe): {sorted(outside)}"
    )


def test_every_allowlist_entry_is_still_used() -> None:
    stale = set(ALLOWED) - set(_scan())
    assert not stale, f"remove stale allowlist entries: {sorted(stale)}"


def test_the_scan_finds_every_form_of_call() -> None:
    source = (
        "import json\nfrom json import loads\n"
        "def a(x):\n    return json.loads(x)\n"
        "class B:\n    async def c(self, r):\n        return await r.json()\n"
        "def d(f):\n    return json.load(f)\n"
        "DECODER = json.JSONDecoder()\nfrom json.decoder import JSONDecoder\n"
    )
    scopes = [scope for scope, _line in _json_calls(ast.parse(source))]
    assert scopes == ["<module>", "a", "B.c", "d", "<module>", "<module>"]
