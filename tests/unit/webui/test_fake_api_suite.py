"""The API suite (``support.api_suite``) on the UI tests' fake peer, served on loopback; the
same cases run on a real daemon in ``tests/integration/peer/test_input_validation.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.api_suite import ApiSuite, HttpApi
from support.fake_api import ANA, BEN, ME, FakePeer, serve_fake


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpApi]:
    media = tmp_path_factory.mktemp("fake") / "clip.mp4"
    media.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))
    peer = FakePeer(media=media)
    peer.add_post(BEN, "Sunset over the bay", tags=["travel"])
    peer.add_post(ANA, "A cat", tags=["cats"])
    with serve_fake(peer) as server:
        assert server.auth.cli_token is not None
        yield HttpApi(server.url, server.auth.cli_token, ME)


class TestApiSuiteOnTheFake(ApiSuite):
    """Every case of the suite, on the fake."""
