"""What HTTP handlers may use, and small helpers shared by them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from peer.api.errors import ApiError, PathInDataDir
from peer.bus import EventBus
from peer.daemon.services import Readiness
from peer.datadir import DataDir
from peer.p2p import Network
from storage import untrusted
from storage.errors import UntrustedJsonError

if TYPE_CHECKING:
    from peer.daemon.chain import ChainService
    from peer.daemon.feed import FeedService
    from peer.daemon.gating import GatingRunner
    from peer.daemon.publish import PublishService
    from peer.daemon.store import StoreService
    from peer.daemon.wallet import WalletService

T = TypeVar("T")
StatusProvider = Callable[[], Mapping[str, Any]]


@dataclass
class ApiContext:
    """What handlers may use; built by the composition root."""

    readiness: Readiness
    bus: EventBus
    status: StatusProvider
    network: Network | None = None
    content_origin: Callable[[], str] = str
    gating: GatingRunner | None = None
    store: StoreService | None = None
    wallet: WalletService | None = None
    chain: ChainService | None = None
    feed: FeedService | None = None
    publish: PublishService | None = None
    upload_dir: Path | None = None
    max_upload_bytes: int = 0
    data_dir: DataDir | None = None  # local paths inside it are refused
    extra: dict[str, Any] = field(default_factory=dict)


CONTEXT = web.AppKey("toktok_api_context", ApiContext)


def context(request: web.Request) -> ApiContext:
    return request.app[CONTEXT]


MAX_JSON_BODY = 64 * 1024
"""Largest JSON request body (the largest real one, a profile or publish form, is < 4 KiB)."""


async def json_body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_JSON_BODY:
        raise ApiError(413, "request_entity_too_large", f"the body exceeds {MAX_JSON_BODY} bytes")
    try:
        body = untrusted.loads(await request.read(), max_bytes=MAX_JSON_BODY, what="the body")
    except UntrustedJsonError as exc:
        if exc.reason == "too-large":
            raise ApiError(413, "request_entity_too_large", str(exc)) from exc
        raise ApiError(400, "bad_json", f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the request body must be a JSON object")
    return body


async def local_path(request: web.Request, value: object) -> Path:
    """A local path from a request body: absolute, and not the data dir nor inside it (with
    symlinks resolved) nor a hard link to one of its files, so no credential can make the daemon
    add or publish its own keys, wallet or credentials."""
    if not isinstance(value, str) or not Path(value).is_absolute():
        raise ApiError(400, "bad_request", "'path' must be an absolute path")
    if "\x00" in value:
        raise ApiError(400, "bad_request", "'path' contains a NUL byte")
    path = Path(value)
    data_dir = context(request).data_dir
    if data_dir is not None and await asyncio.to_thread(data_dir.contains, path):
        raise PathInDataDir(value, str(data_dir.root))
    return path


def _required(service: T | None, what: str, message: str) -> T:
    """A configured service, or 503 ``<what>_unavailable`` saying why it is missing."""
    if service is None:
        raise ApiError(503, f"{what}_unavailable", message)
    return service


def network(request: web.Request) -> Network:
    return _required(context(request).network, "p2p", "the p2p host is not running")


def feed(request: web.Request) -> FeedService:
    return _required(context(request).feed, "feed", "the feed needs a chain (chain.mode is 'off')")


def chain(request: web.Request) -> ChainService:
    return _required(
        context(request).chain, "chain", "no chain is configured (chain.mode is 'off')"
    )


def store(request: web.Request) -> StoreService:
    return _required(context(request).store, "store", "the content store is not running")


def gating(request: web.Request) -> GatingRunner:
    return _required(context(request).gating, "gating", "premium clips need the chain and the feed")
