"""``toktok devnet`` runs until interrupted, then stops anvil and removes its endpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_devnet_command_prints_deployment_and_stops_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "peer"
    data.mkdir()
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "peer.cli", "--data-dir", str(data), "devnet", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # Ctrl-C must reach it even when the suite runs as a background job: such a job starts
        # with SIGINT ignored, and an ignored SIGINT is inherited across exec
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("}"):
                break
        info = json.loads("".join(lines))
        assert info["chain_id"] == 31337
        assert info["rpc_url"].startswith("http://127.0.0.1:")
        assert info["fresh_deployment"] is True
        endpoint = data / "devnet" / "endpoint.json"
        assert json.loads(endpoint.read_text())["rpc_url"] == info["rpc_url"]
        anvil_pid = json.loads(endpoint.read_text())["pid"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not endpoint.exists()
        with pytest.raises(ProcessLookupError):
            os.kill(anvil_pid, 0)
        saved = json.loads((data / "devnet" / "deployment.json").read_text())
        assert saved["factory"] == info["factory"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
