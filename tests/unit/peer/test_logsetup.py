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
