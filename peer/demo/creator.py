"""Set the demo creator up through its own peer's API: token, profile, then the sample clips.

Everything goes through the running demo peer (``DaemonClient``), exactly as a creator using the
CLI or the web UI would do it: the posts are signed by the demo peer and reach the user's peer
over the network only. The calls block; the launcher runs them in a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from peer.cli.client import DaemonClient
from peer.demo.clips import CLIPS, DemoClip
from peer.demo.errors import DemoSetupError
from peer.errors import DaemonError

PUBLISH_TIMEOUT_S = 300.0
# A premium post names the creator's token; the feed reads the token registry a few blocks
# behind the head (chain.holding_window_s = 2 at a 1 s block time), so give it those blocks.
TOKEN_SETTLE_S = 4.0


@dataclass(frozen=True)
class CreatorPlan:
    """Who the demo creator is."""

    name: str = "Nova Loops"
    token_name: str = "Nova Loops"  # noqa: S105 - a token's name, not a password
    token_symbol: str = "NOVA"  # noqa: S105


def _call(what: str, request: Callable[[], Any]) -> Any:
    try:
        return request()
    except DaemonError as exc:
        raise DemoSetupError(f"demo creator: {what} failed: {exc}") from exc


def registered_token(client: DaemonClient, creator: str) -> str | None:
    """The creator's token as the chain has it now (None if the chain has none)."""
    info = _call("reading the creator", lambda: client.get(f"/api/v1/creators/{creator}"))
    token = info.get("token") if isinstance(info, dict) else None
    return str(token["address"]) if isinstance(token, dict) else None


def ensure_token(client: DaemonClient, creator: str, plan: CreatorPlan) -> tuple[str, bool]:
    """The creator's token address, created now if needed; and whether it was just created."""
    existing = registered_token(client, creator)
    if existing is not None:
        return existing, False
    body = {"name": plan.token_name, "symbol": plan.token_symbol}
    info = _call("creating the creator token", lambda: client.post("/api/v1/token", body))
    return str(info["address"]), True


def refresh_profile(client: DaemonClient, plan: CreatorPlan) -> None:
    """Sign the profile again (it carries the peer's current addresses as key servers)."""
    _call("setting the profile", lambda: client.post("/api/v1/profile", {"name": plan.name}))


def publish_clip(
    client: DaemonClient, clip: DemoClip, path: Path, timeout: float = PUBLISH_TIMEOUT_S
) -> str:
    """Publish one clip through the peer's publish jobs; returns the post id."""
    body: dict[str, Any] = {
        "path": str(path.resolve()),
        "title": clip.title,
        "tags": list(clip.tags),
        "premium": clip.premium,
        "min_balance": clip.min_balance,
    }
    job = _call(f"publishing {clip.name}", lambda: client.post("/api/v1/publish/file", body))
    job_path = f"/api/v1/publish/{job['job']}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _call(f"publishing {clip.name}", lambda: client.get(job_path))
        if state["state"] == "done":
            return str(state["post_id"])
        if state["state"] == "failed":
            error = state.get("error") or {}
            raise DemoSetupError(f"demo creator: publishing {clip.name} failed: {error}")
        time.sleep(0.25)
    raise DemoSetupError(f"demo creator: publishing {clip.name} took over {timeout:.0f} s")


def set_up_creator(
    client: DaemonClient,
    files: Mapping[str, Path],
    plan: CreatorPlan,
    say: Callable[[str], None],
) -> tuple[str, str, tuple[str, ...]]:
    """Token, profile and every sample clip; returns (creator, token, post ids).

    The clips go out in :data:`CLIPS` order, oldest first: the feed (newest first) opens on a
    free clip, the premium one comes third.
    """
    creator = str(_call("reading the profile", lambda: client.get("/api/v1/profile"))["address"])
    token, created = ensure_token(client, creator, plan)
    created_at = time.monotonic() if created else 0.0
    refresh_profile(client, plan)
    posts = []
    for clip in CLIPS:
        if clip.premium:
            time.sleep(max(0.0, created_at + TOKEN_SETTLE_S - time.monotonic()))
        say(f"publishing '{clip.title}'{' (premium)' if clip.premium else ''}")
        posts.append(publish_clip(client, clip, files[clip.name]))
    return creator, token, tuple(posts)
