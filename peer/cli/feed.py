"""``toktok feed | profile | follow | like | delete | mute | block`` and their undos (daemon)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import click

from peer.cli.context import CliState, emit, json_option, pass_state


def _render_page(page: dict[str, Any]) -> str:
    if not page["items"]:
        return "no posts yet (follow creators, or connect to peers: toktok connect)"
    lines = []
    now = time.time()
    for item in page["items"]:
        age = max(0, int(now - item["created_at"]))
        ago = f"{age // 3600}h" if age >= 3600 else f"{age // 60}m"
        lock = " [premium]" if item["premium"] else ""
        who = item["creator_name"] or item["creator"][:10]
        tags = " ".join("#" + t for t in item["tags"])
        lines.append(f"{item['id']}  {who}: {item['title']}{lock} {tags}  ({ago} ago)".rstrip())
    if page["next"]:
        lines.append(f"more: --cursor {page['next']}")
    return "\n".join(lines)


@click.command()
@click.option("--following", is_flag=True, help="Only creators you follow.")
@click.option("--search", "query", metavar="WORDS", help="Search titles, tags and names.")
@click.option("--creator", metavar="ADDRESS", help="One creator's posts.")
@click.option("--limit", type=click.IntRange(1, 50), default=20, show_default=True)
@click.option("--cursor", help="Continue from a previous page.")
@json_option
@pass_state
def feed(
    state: CliState,
    following: bool,
    query: str | None,
    creator: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Show the feed of the running peer (for you, following, a search or a creator)."""
    if sum(bool(x) for x in (following, query, creator)) > 1:
        raise click.UsageError("choose one of --following, --search and --creator")
    page_args = f"limit={limit}" + (f"&cursor={quote(cursor)}" if cursor else "")
    if query:
        path = f"/api/v1/search?q={quote(query)}&{page_args}"
    elif creator:
        path = f"/api/v1/creators/{creator}/posts?{page_args}"
    else:
        tab = "following" if following else "for_you"
        path = f"/api/v1/feed?tab={tab}&{page_args}"
    emit(state.require_daemon().get(path), as_json, _render_page)


@click.group()
def profile() -> None:
    """Your public profile."""


@profile.command(name="set")
@click.option("--name", required=True, help="Your display name (1-64 characters).")
@json_option
@pass_state
def profile_set(state: CliState, name: str, as_json: bool) -> None:
    """Sign and publish your profile."""
    result = state.require_daemon().post("/api/v1/profile", {"name": name})
    emit(result, as_json, lambda r: f"profile of {r['address']} is now {r['name']!r}")


@profile.command(name="show")
@json_option
@pass_state
def profile_show(state: CliState, as_json: bool) -> None:
    """Show your profile."""
    emit(state.require_daemon().get("/api/v1/profile"), as_json)


def _toggle(verb: str, path: str, on: bool, done: str, help_text: str) -> click.Command:
    @click.command(name=verb)
    @click.argument("address")
    @json_option
    @pass_state
    def command(state: CliState, address: str, as_json: bool) -> None:
        result = state.require_daemon().post(f"/api/v1/creators/{address}/{path}", {"on": on})
        emit(result, as_json, lambda _: f"{done} {address}")

    command.help = help_text
    return command


follow = _toggle(
    "follow", "follow", True, "following", "Follow creator ADDRESS (their clips are replicated)."
)
unfollow = _toggle("unfollow", "follow", False, "no longer following", "Stop following ADDRESS.")
mute = _toggle("mute", "mute", True, "muted", "Hide creator ADDRESS from your feeds (local only).")
unmute = _toggle("unmute", "mute", False, "unmuted", "Show muted creator ADDRESS again.")
block = _toggle(
    "block", "block", True, "blocked", "Block creator ADDRESS on this peer (local only)."
)
unblock = _toggle("unblock", "block", False, "unblocked", "Unblock creator ADDRESS.")


@click.command()
@click.argument("post")
@json_option
@pass_state
def like(state: CliState, post: str, as_json: bool) -> None:
    """Like POST (its 0x id)."""
    result = state.require_daemon().post(f"/api/v1/posts/{post}/like", {})
    emit(result, as_json, lambda r: f"liked ({r['likes']} likes)")


@click.command()
@click.argument("post")
@json_option
@pass_state
def unlike(state: CliState, post: str, as_json: bool) -> None:
    """Take back your like of POST (its 0x id)."""
    result = state.require_daemon().post(f"/api/v1/posts/{post}/unlike", {})
    emit(result, as_json, lambda r: f"unliked ({r['likes']} likes)")


@click.command()
@click.argument("post")
@json_option
@pass_state
def delete(state: CliState, post: str, as_json: bool) -> None:
    """Withdraw your post POST: peers stop showing and replicating it."""
    result = state.require_daemon().post(f"/api/v1/posts/{post}/delete", {})
    emit(result, as_json, lambda _: f"deleted {post}")


COMMANDS = (
    feed,
    profile,
    follow,
    unfollow,
    like,
    unlike,
    delete,
    mute,
    unmute,
    block,
    unblock,
)
