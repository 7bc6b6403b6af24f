"""``toktok cid | add | cat | pin add|rm|ls | gc | storage stats|verify``: local content.

Commands that change the store (add, pin add/rm, gc) go through the daemon's API while one
owns the data dir, else take the data-dir lock and work in-process. Read-only commands (cat,
pin ls, storage stats/verify) open the store as a non-owner reader, which is safe beside a
running daemon. ``toktok cid`` touches no store.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from peer.cli import remote_cat
from peer.cli.client import DaemonClient
from peer.cli.context import CliState, emit, json_option, pass_state, refuse_data_dir_path
from storage import unixfs
from storage.cid import CID
from storage.errors import BlockNotFoundError, StoreIOError
from storage.local import READ_SIZE, LocalStore

PROGRESS_THRESHOLD = 16 * 1024 * 1024
"""Files at least this large get a progress bar (on stderr) while they are added."""

cid_version_option = click.option(
    "--cid-version",
    type=click.Choice(["0", "1"]),
    default="1",
    show_default=True,
    help="1: raw leaves, CIDv1 (ipfs add --cid-version=1); 0: CIDv0 (plain ipfs add).",
)


def _parse_cid(text: str) -> CID:
    try:
        return CID.parse(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="CID") from exc


def _reader(state: CliState) -> LocalStore:
    root = state.data_dir.store
    if not (root / "pins.sqlite").exists():
        raise StoreIOError(f"no content store in {root} yet; add something with 'toktok add'")
    return LocalStore.open(root, owner=False)


def _write(state: CliState, remote: Callable[[DaemonClient], Any], work: Any) -> Any:
    """Through the running daemon's API, else in-process under the data-dir lock."""

    def local() -> Any:
        return work(LocalStore.open(state.data_dir.store))

    return state.change_state(remote, local)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@cid_version_option
@json_option
def cid(file: Path, cid_version: str, as_json: bool) -> None:
    """Print the CID FILE would get, without storing anything (like 'ipfs add -n -Q')."""
    importer = unixfs.FileImporter(int(cid_version))
    try:
        with file.open("rb") as handle:
            while piece := handle.read(READ_SIZE):
                importer.write(piece)
    except OSError as exc:
        raise StoreIOError(f"cannot read {file}: {exc.strerror or exc}") from exc
    root, _ = importer.finish()
    emit({"cid": str(root), "size": importer.size}, as_json, lambda d: d["cid"])


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@cid_version_option
@click.option("--no-pin", is_flag=True, help="Store without pinning (the next GC removes it).")
@json_option
@pass_state
def add(state: CliState, file: Path, cid_version: str, no_pin: bool, as_json: bool) -> None:
    """Add FILE to the local store and pin it; print its CID."""
    refuse_data_dir_path(state, file)
    size = file.stat().st_size

    def work(store: LocalStore) -> CID:
        if size < PROGRESS_THRESHOLD:
            return store.import_file(file, cid_version=int(cid_version), pin=not no_pin)
        with click.progressbar(
            length=size, label=f"adding {file.name}", file=sys.stderr, show_pos=True
        ) as bar:
            last = [0]

            def progress(done: int, _total: int | None) -> None:
                bar.update(done - last[0])
                last[0] = done

            return store.import_file(
                file, cid_version=int(cid_version), pin=not no_pin, progress=progress
            )

    def remote(daemon: DaemonClient) -> str:
        body = {"path": str(file.resolve()), "cid_version": int(cid_version), "pin": not no_pin}
        return str(daemon.post("/api/v1/storage/add", body)["cid"])

    root = _write(state, remote, work)
    emit({"cid": str(root), "size": size, "pinned": not no_pin}, as_json, lambda d: d["cid"])


def _parse_range(text: str) -> tuple[int, int | None]:
    start_text, sep, end_text = text.partition("-")
    try:
        start = int(start_text)
        end = int(end_text) if end_text else None
    except ValueError:
        start, end, sep = -1, None, ""
    if not sep or start < 0 or (end is not None and end < start):
        raise click.BadParameter(
            f"{text!r} is not a byte range A-B (A <= B, B exclusive) or A-", param_hint="--range"
        )
    return start, end


@click.command()
@click.argument("cid_text", metavar="CID")
@click.option(
    "--range",
    "byte_range",
    metavar="A-B",
    help="Only bytes A..B-1 (offsets from 0, B exclusive like a Python slice); 'A-' to the end.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds without a byte from the network before giving up (with a running daemon).",
)
@pass_state
def cat(state: CliState, cid_text: str, byte_range: str | None, timeout: float) -> None:
    """Write the content of CID to standard output (every block verified).

    With a running daemon, blocks missing here are fetched from the network through it (like
    'ipfs cat'); progress goes to stderr on a terminal. Without one, only the local store is
    read.
    """
    root = _parse_cid(cid_text)
    start, end = _parse_range(byte_range) if byte_range else (0, None)
    client = state.daemon()
    out = sys.stdout.buffer
    if client is not None:
        remote_cat.stream(
            client.creds, str(root), start, end, out, timeout, remote_cat.terminal_progress()
        )
        return
    store = _reader(state)
    try:
        for piece in store.iter_file(root, start, end):
            out.write(piece)
    except BlockNotFoundError as exc:
        raise BlockNotFoundError(
            f"{exc}; start the daemon ('toktok run') to fetch missing blocks from the network",
            exc.cid,
        ) from exc
    out.flush()


@click.group()
def pin() -> None:
    """Pin content so GC keeps it; unpin; list pins."""


@pin.command("add")
@click.argument("cid_text", metavar="CID")
@click.option("--direct", is_flag=True, help="Pin only the root block, not the whole DAG.")
@json_option
@pass_state
def pin_add(state: CliState, cid_text: str, direct: bool, as_json: bool) -> None:
    """Pin CID (recursively unless --direct); its blocks must be in the store."""
    root = _parse_cid(cid_text)
    _write(
        state,
        lambda d: d.post("/api/v1/storage/pin", {"cid": str(root), "recursive": not direct}),
        lambda store: store.pin(root, recursive=not direct),
    )
    kind = "direct" if direct else "recursive"
    emit({"cid": str(root), "kind": kind}, as_json, lambda d: f"pinned {d['cid']} {d['kind']}")


@pin.command("rm")
@click.argument("cid_text", metavar="CID")
@json_option
@pass_state
def pin_rm(state: CliState, cid_text: str, as_json: bool) -> None:
    """Remove the pin on CID (run 'toktok gc' to free the space)."""
    root = _parse_cid(cid_text)
    _write(
        state,
        lambda d: d.post("/api/v1/storage/unpin", {"cid": str(root)}),
        lambda store: store.unpin(root),
    )
    emit({"cid": str(root)}, as_json, lambda d: f"unpinned {d['cid']}")


@pin.command("ls")
@json_option
@pass_state
def pin_ls(state: CliState, as_json: bool) -> None:
    """List every pin."""
    pins = [{"cid": str(p.cid), "kind": p.kind.value} for p in _reader(state).pins()]
    emit(
        {"pins": pins},
        as_json,
        lambda d: "\n".join(f"{p['cid']} {p['kind']}" for p in d["pins"]) or "no pins",
    )


@dataclass(frozen=True)
class _Gc:
    removed_blocks: int
    freed_bytes: int


@click.command()
@json_option
@pass_state
def gc(state: CliState, as_json: bool) -> None:
    """Delete every block not reachable from a pin."""
    result = _write(
        state,
        lambda d: _Gc(**d.post("/api/v1/storage/gc", {})),
        lambda store: store.gc(),
    )
    emit(
        {"removed_blocks": result.removed_blocks, "freed_bytes": result.freed_bytes},
        as_json,
        lambda d: f"removed {d['removed_blocks']} blocks, freed {d['freed_bytes']} bytes",
    )


@click.group("storage")
def storage_group() -> None:
    """The local content store."""


def replication_text(info: dict[str, Any] | None) -> str:
    """One line about replication for ``toktok storage stats``."""
    if info is None:
        return "off"
    if not info["enabled"]:
        return f"not running: {info['last_error']}"
    mib = 1024 * 1024
    text = (
        f"{info['pinned_posts']} posts, {info['used_bytes'] / mib:.1f} of"
        f" {info['budget_bytes'] / mib:.0f} MiB, {info['queued']} queued,"
        f" {info['failed']} failed, {info['evicted']} evicted"
    )
    return text + (f"; last error: {info['last_error']}" if info["last_error"] else "")


@storage_group.command("stats")
@json_option
@pass_state
def storage_stats(state: CliState, as_json: bool) -> None:
    """Backend, blocks, bytes and pins (and bitswap counters when the daemon runs)."""
    daemon = state.daemon()
    if daemon is not None:
        data = daemon.get("/api/v1/storage")
        if not as_json and "replication" in data:
            data = {**data, "replication": replication_text(data["replication"])}
        emit(data, as_json)
        return
    usage = _reader(state).usage()
    emit(
        {
            "path": str(state.data_dir.store),
            "blocks": usage.blocks,
            "bytes": usage.bytes,
            "pins": usage.pins,
        },
        as_json,
    )


@storage_group.command("verify")
@json_option
@pass_state
def storage_verify(state: CliState, as_json: bool) -> None:
    """Hash every block and check every pinned DAG is complete (exit 1 if not)."""
    report = _reader(state).verify()
    emit(
        {
            "ok": report.ok,
            "blocks": report.blocks,
            "corrupt": list(report.corrupt),
            "incomplete_pins": list(report.incomplete_pins),
        },
        as_json,
    )
    if not report.ok:
        sys.exit(1)


COMMANDS = (cid, add, cat, pin, gc, storage_group)
"""Registered by ``peer/cli/main.py``."""
