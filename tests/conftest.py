"""Suite-wide isolation: no test reads or writes the real user's config or data dirs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from support.interop import prefetch_jsipfs

# Every API answer a test receives over urllib is checked against the OpenAPI document.
pytest_plugins = ("support.http",)

# No per-example deadline: on a loaded 2-core machine an example can take over Hypothesis's
# default 200 ms, and the suite checks behaviour, not speed (speed lives in scripts/bench).
settings.register_profile("toktok", deadline=None)
settings.load_profile("toktok")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CONFIG_HOME", str(home / "config"))
        mp.setenv("XDG_DATA_HOME", str(home / "data"))
        for name in ("TOKTOK_CONFIG", "TOKTOK_DATA_DIR"):
            mp.delenv(name, raising=False)
        yield


def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API runs an event loop in the main thread while
    its driver is alive, and asyncio tests cannot start their own loop beside it."""
    ui = [item for item in items if "/tests/ui/" in str(item.path)]
    others = [item for item in items if "/tests/ui/" not in str(item.path)]
    items[:] = others + ui


_JSIPFS_PREFETCH = pytest.StashKey[threading.Thread]()


def pytest_collection_finish(session: pytest.Session) -> None:
    """When a selected test needs the js-ipfs daemon, its fixture tree (a 3-4 min install on a
    machine without the cache, CI's first run) is installed in the background from now on, so
    the install overlaps the tests that run before the interop folder."""
    if session.config.option.collectonly:
        return
    if any("jsipfs" in getattr(item, "fixturenames", ()) for item in session.items):
        session.config.stash[_JSIPFS_PREFETCH] = prefetch_jsipfs()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """A run that ends before the interop tests (``-x``) still lets the install finish, so no
    half-written tree or orphaned npm is left behind."""
    thread = session.config.stash.get(_JSIPFS_PREFETCH, None)
    if thread is not None:
        thread.join()
