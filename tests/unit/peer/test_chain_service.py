"""The chain adapter finds the repository's own anvil (node_modules at the repository root)."""

from __future__ import annotations

from peer.daemon.chain import REPO_ROOT


def test_repo_root_is_the_repository_root() -> None:
    assert (REPO_ROOT / "pyproject.toml").is_file()
    assert (REPO_ROOT / "peer" / "daemon" / "chain.py").is_file()
