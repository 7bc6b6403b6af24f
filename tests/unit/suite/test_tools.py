"""The missing-tool policy of tests/support/tools.py: fail in CI, skip elsewhere."""

from __future__ import annotations

import pytest
from support.tools import in_ci, require_tool, tool_missing


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes"])
def test_ci_true_fails_naming_the_tool(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci()
    with pytest.raises(pytest.fail.Exception, match="chromium is not installed"):
        tool_missing("chromium is not installed: run scripts/setup")


@pytest.mark.parametrize("value", [None, "", "false", "0"])
def test_elsewhere_the_test_is_skipped_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert not in_ci()
    with pytest.raises(pytest.skip.Exception, match="node is not installed"):
        tool_missing("node is not installed: run scripts/setup")


def test_an_available_tool_lets_the_test_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require_tool(True, "never said")
    with pytest.raises(pytest.fail.Exception, match="helia"):
        require_tool(False, "helia is missing")
