"""Log set-up: a library record with arguments that do not fit its format is written, not
turned into a "Logging error" traceback on the console."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from peer import logsetup


def test_a_record_whose_arguments_do_not_fit_is_written_raw(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = logsetup.configure("info", tmp_path)
    assert path is not None
    try:
        # the shape of py-libp2p 0.8.1's gossipsub health line: a format split into the args
        record = logging.LogRecord(
            "libp2p.pubsub.gossipsub", logging.DEBUG, __file__, 1,
            "Network health updated: %.2f (connectivity: %.2f, ", ("delivery: %.2f)", 0.5), None,
        )  # fmt: skip
        ours = [h for h in logging.getLogger().handlers if getattr(h, logsetup._MARK, False)]
        assert ours
        for handler in ours:  # not through pytest's own capture handler
            handler.handle(record)
            handler.flush()
    finally:
        logsetup.configure("info", None)
    assert "Logging error" not in capsys.readouterr().err
    written = path.read_text()
    assert "Network health updated" in written
    assert "unformatted" in written


def test_the_file_gets_debug_records_but_py_libp2p_only_from_info(
    tmp_path: Path,
) -> None:
    path = logsetup.configure("info", tmp_path)
    assert path is not None
    try:
        assert logging.getLogger("peer.feed.index").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("storage").isEnabledFor(logging.DEBUG)
        # py-libp2p's debug records cost more CPU than the exchanges they describe
        assert not logging.getLogger("libp2p.stream_muxer.yamux").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("aiohttp").isEnabledFor(logging.DEBUG)
        assert logging.getLogger("libp2p.host").isEnabledFor(logging.INFO)
    finally:
        logsetup.configure("info", None)
    assert not logging.getLogger("libp2p.host").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("libp2p.host").isEnabledFor(logging.INFO)
