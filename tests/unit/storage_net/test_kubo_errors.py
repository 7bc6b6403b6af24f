"""The Kubo backend fails clearly when its daemon is not there."""

from __future__ import annotations

import socket

import pytest

from storage.errors import BackendUnavailableError, KuboUnreachableError
from storage.kubo import KuboContentStore, KuboOptions


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there any more


async def test_unreachable_daemon_is_a_clear_typed_error() -> None:
    api = f"/ip4/127.0.0.1/tcp/{closed_port()}/http"
    with pytest.raises(KuboUnreachableError, match=r"unreachable.*storage\.kubo_api") as info:
        await KuboContentStore.connect(api, KuboOptions(call_timeout=2))
    assert isinstance(info.value, BackendUnavailableError)


async def test_calls_on_a_store_whose_daemon_went_away_fail_the_same_way() -> None:
    store = KuboContentStore(f"/ip4/127.0.0.1/tcp/{closed_port()}", KuboOptions(call_timeout=2))
    with pytest.raises(KuboUnreachableError):
        await store.add_bytes(b"nowhere to go")
    with pytest.raises(KuboUnreachableError):
        await store.pins()


def test_a_malformed_api_address_is_refused() -> None:
    with pytest.raises(KuboUnreachableError, match="invalid Kubo API address"):
        KuboContentStore("not a multiaddr")
