"""What HTTP handlers may use, and small helpers shared by them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from peer.api.errors import ApiError
from peer.bus import EventBus
from peer.p2p import Network
from peer.services import Readiness

if TYPE_CHECKING:
    from peer.chain_service import ChainService
    from peer.feed_service import FeedService
    from peer.gating_runner import GatingRunner
    from peer.publish_service import PublishService
    from peer.store_service import StoreService
    from peer.wallet_service import WalletService

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
    extra: dict[str, Any] = field(default_factory=dict)


CONTEXT = web.AppKey("toktok_api_context", ApiContext)


def context(request: web.Request) -> ApiContext:
    return request.app[CONTEXT]


def network(request: web.Request) -> Network:
    net = context(request).network
    if net is None:
        raise ApiError(503, "p2p_unavailable", "the p2p host is not running")
    return net


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise ApiError(400, "bad_json", "the request body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "the request body must be a JSON object")
    return body


def feed(request: web.Request) -> FeedService:
    service = context(request).feed
    if service is None:
        raise ApiError(503, "feed_unavailable", "the feed needs a chain (chain.mode is 'off')")
    return service


def chain(request: web.Request) -> ChainService:
    service = context(request).chain
    if service is None:
        raise ApiError(503, "chain_unavailable", "no chain is configured (chain.mode is 'off')")
    return service


def store(request: web.Request) -> StoreService:
    service = context(request).store
    if service is None:
        raise ApiError(503, "store_unavailable", "the content store is not running")
    return service


def gating(request: web.Request) -> GatingRunner:
    service = context(request).gating
    if service is None:
        raise ApiError(503, "gating_unavailable", "premium clips need the chain and the feed")
    return service
