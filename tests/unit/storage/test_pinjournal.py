"""The write-ahead journal of publish pins."""

from __future__ import annotations

from pathlib import Path

from storage.pinjournal import JournalEntry, PinJournal


def test_a_job_is_remembered_across_restarts_until_it_ends(tmp_path: Path) -> None:
    path = tmp_path / "publish-journal.json"
    journal = PinJournal(path)
    journal.begin("a")
    journal.note("a", "bafy1")
    journal.note("a", "bafy2")
    journal.note("a", "bafy1")  # noted once
    journal.record_result("a", "bafy2")
    journal.begin("b")

    reopened = PinJournal(path)  # what a restarted owner sees
    assert reopened.pending() == {
        "a": JournalEntry(["bafy1", "bafy2"], "bafy2"),
        "b": JournalEntry([], None),
    }
    reopened.end("a")
    reopened.end("b")
    reopened.end("unknown")
    assert PinJournal(path).pending() == {}
    assert not list(tmp_path.glob(".journal-*")), "no temporary file is left behind"


def test_an_unreadable_journal_is_moved_aside_and_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "publish-journal.json"
    for broken in (b"{not json", b'{"v": 2, "jobs": {}}', b'{"v": 1, "jobs": {"a": {"pins": 3}}}'):
        path.write_bytes(broken)
        assert PinJournal(path).pending() == {}
        assert (tmp_path / "publish-journal.json.corrupt").read_bytes() == broken
        assert not path.exists()
