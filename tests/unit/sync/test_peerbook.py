"""The peer book: persistence, atomic writes, backoff, broken files; redial by the service."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.sync_kit import NodeFactory, make_log, posts

from peer.p2p.testing import wait_until
from peer.sync import PeerBook, PeerBookOptions
from peer.sync.errors import PeerBookError

PEER = "12D3KooWAbc"
ADDR = "/ip4/127.0.0.1/tcp/4001"


def book_at(path: Path, **options: float) -> PeerBook:
    book = PeerBook(PeerBookOptions(path, **options))  # type: ignore[arg-type]
    book.load()
    return book


def test_good_peers_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "p2p" / "peers.json"
    book = book_at(path)
    assert book.note_good(PEER, (ADDR, ADDR + "/p2p/" + PEER), 100.0)
    book.save()
    again = book_at(path)
    entry = again.get(PEER)
    assert entry is not None
    assert entry.addrs == (f"{ADDR}/p2p/{PEER}",)
    assert entry.last_good == 100.0
    assert json.loads(path.read_text())["v"] == 1
    assert [p.name for p in path.parent.iterdir()] == ["peers.json"]  # no temporary left


def test_a_missing_file_is_an_empty_book(tmp_path: Path) -> None:
    assert book_at(tmp_path / "peers.json").entries() == []


def test_failed_redials_back_off_exponentially_up_to_the_cap(tmp_path: Path) -> None:
    book = book_at(tmp_path / "peers.json", backoff_base_s=5.0, backoff_max_s=60.0)
    book.note_good(PEER, (ADDR,), 0.0)
    waits = []
    for _ in range(6):
        entry = book.note_failure(PEER, 1000.0)
        assert entry is not None
        waits.append(entry.next_dial - 1000.0)
    assert waits == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]
    assert book.due(1000.0 + 59.0, set()) == []
    assert [e.peer for e in book.due(1000.0 + 60.0, set())] == [PEER]
    assert book.due(1000.0 + 60.0, {PEER}) == []
    book.note_good(PEER, (), 2000.0)  # answered again: the backoff is forgotten
    entry = book.get(PEER)
    assert entry is not None
    assert entry.failures == 0
    assert entry.addrs == (f"{ADDR}/p2p/{PEER}",)


def test_an_address_that_keeps_failing_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "peers.json"
    book = book_at(path, max_addr_failures=3)
    old, new = f"{ADDR}/p2p/{PEER}", f"/ip4/127.0.0.1/tcp/4002/p2p/{PEER}"
    book.note_good(PEER, (old, new), 100.0)
    book.note_addr_failure(PEER, old)
    book.note_addr_failure(PEER, new)
    book.note_addr_ok(PEER, new)  # the new one answered: its count starts again
    book.note_addr_failure(PEER, old)
    book.save()
    book = book_at(path, max_addr_failures=3)  # counts survive a restart
    entry = book.get(PEER)
    assert entry is not None
    assert (entry.failures_of(old), entry.failures_of(new)) == (2, 0)
    book.note_addr_failure(PEER, old)
    entry = book.get(PEER)
    assert entry is not None
    assert entry.addrs == (new,)
    assert book.note_addr_failure(PEER, old) is None, "a dropped address is not counted"
    for _ in range(3):
        book.note_addr_failure(PEER, new)
    assert book.due(1e12, set()) == [], "a peer with no address left is not redialled"


def test_a_book_without_address_counts_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "peers.json"
    entry = {"peer": PEER, "addrs": [f"{ADDR}/p2p/{PEER}"], "last_good": 1.0, "failures": 0,
             "next_dial": 0.0}  # fmt: skip
    for counts in (None, [1, 2], ["x"]):
        item = dict(entry) if counts is None else {**entry, "addr_failures": counts}
        path.write_text(json.dumps({"v": 1, "peers": [item]}))
        loaded = book_at(path).get(PEER)
        assert loaded is not None
        assert loaded.failures_of(f"{ADDR}/p2p/{PEER}") == 0


def test_unknown_peers_have_no_failures_to_count(tmp_path: Path) -> None:
    assert book_at(tmp_path / "peers.json").note_failure("nobody", 1.0) is None


def test_a_broken_file_is_moved_aside_and_the_book_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "peers.json"
    path.write_bytes(b"{not json")
    book = book_at(path)
    assert book.entries() == []
    assert (tmp_path / "peers.json.corrupt").read_bytes() == b"{not json"
    assert not path.exists()


def test_malformed_entries_are_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    path = tmp_path / "peers.json"
    good = {"peer": PEER, "addrs": [f"{ADDR}/p2p/{PEER}"], "last_good": 1, "failures": 0}
    bad = [
        {"peer": "x", "addrs": [f"{ADDR}/p2p/y"], "last_good": 1, "failures": 0, "next_dial": 0},
        {"peer": "z", "addrs": "nope", "last_good": 1, "failures": 0, "next_dial": 0},
        {"peer": "w", "addrs": [], "last_good": "1", "failures": 0, "next_dial": 0},
        {"peer": "v", "addrs": [], "last_good": 1, "failures": -1, "next_dial": 0},
        "junk",
    ]
    path.write_text(json.dumps({"v": 1, "peers": [{**good, "next_dial": 0}, *bad]}))
    assert [e.peer for e in book_at(path).entries()] == [PEER]


def test_the_book_keeps_the_most_recently_good_peers(tmp_path: Path) -> None:
    book = book_at(tmp_path / "peers.json", max_peers=3)
    for n in range(5):
        book.note_good(f"peer{n}", (ADDR,), float(n))
    assert [e.peer for e in book.entries()] == ["peer4", "peer3", "peer2"]


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    book = PeerBook(PeerBookOptions(blocker / "peers.json"))
    with pytest.raises(PeerBookError, match="cannot read"):
        book.load()
    book.note_good(PEER, (ADDR,), 1.0)
    with pytest.raises(PeerBookError, match="cannot write"):
        book.save()


async def test_a_peer_that_answered_sync_is_written_to_the_book(make_node: NodeFactory) -> None:
    a = await make_node()
    b = await make_node(book=True)
    await b.connect(a)
    report = await b.sync.sync_peer(a.host.peer_id)
    assert report.answered
    saved = json.loads((b.data / "p2p" / "peers.json").read_text())
    assert [p["peer"] for p in saved["peers"]] == [a.host.peer_id]
    assert saved["peers"][0]["addrs"] == a.host.addrs


async def test_peers_in_the_book_are_redialled_at_start_and_synced(
    make_node: NodeFactory,
) -> None:
    a = await make_node()
    await a.add(*posts(make_log(), 3))
    b = await make_node(book=True)
    await b.connect(a)
    await b.sync.sync_peer(a.host.peer_id)
    c = await make_node(book=True, start=False)
    (c.data / "p2p").mkdir(parents=True)
    shutil.copy(b.data / "p2p" / "peers.json", c.data / "p2p" / "peers.json")
    await c.sync.start()

    async def synced() -> bool:
        return await c.seqs() == [1, 2, 3]

    await wait_until(synced, 10, "c to redial a from its book and sync")
    assert a.host.peer_id in {p.peer_id for p in c.host.peers()}


async def test_an_unreachable_peer_in_the_book_is_backed_off(make_node: NodeFactory) -> None:
    c = await make_node(book=True, start=False)
    ghost = "12D3KooWGhost"
    path = c.data / "p2p" / "peers.json"
    path.parent.mkdir(parents=True)
    entry = {
        "peer": ghost,
        "addrs": [f"/ip4/127.0.0.1/tcp/1/p2p/{ghost}"],
        "last_good": 1.0,
        "failures": 0,
        "next_dial": 0.0,
    }
    path.write_text(json.dumps({"v": 1, "peers": [entry]}))
    await c.sync.start()

    async def backed_off() -> bool:
        saved = c.sync._book.get(ghost) if c.sync._book else None
        return saved is not None and saved.failures == 1

    await wait_until(backed_off, 5, "the failed redial to be counted")
    await c.sync.stop()
    saved = json.loads(path.read_text())["peers"][0]
    assert saved["failures"] == 1
    assert saved["next_dial"] > 1_764_460_800.0
