"""``toktok comment | comments | comment-delete | comment-hide | comment-policy`` (through the
running daemon)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import click

from peer.cli.context import CliState, emit, json_option, pass_state

TOKEN_DECIMALS = 18


def _render(page: dict[str, Any]) -> str:
    lines = []
    if page["min_balance"] != "0":
        lines.append(f"holders only: {int(page['min_balance']) / 10**TOKEN_DECIMALS:g} tokens")
    if not page["items"]:
        lines.append("no comments yet")
    now = time.time()
    for item in page["items"]:
        age = max(0, int(now - item["created_at"]))
        ago = f"{age // 3600}h" if age >= 3600 else f"{age // 60}m"
        who = item["author_name"] or item["author"][:10]
        marks = (" [hidden]" if item["hidden"] else "") + (
            f" (re {item['parent'][:10]})" if item["parent"] else ""
        )
        lines.append(f"{item['id']}  {who}{marks}: {item['text']}  ({ago} ago)")
    if page["next"]:
        lines.append(f"more: --cursor {page['next']}")
    return "\n".join(lines)


@click.command()
@click.argument("post")
@click.argument("text")
@click.option("--parent", metavar="COMMENT", help="The comment this one answers (its 0x id).")
@json_option
@pass_state
def comment(state: CliState, post: str, text: str, parent: str | None, as_json: bool) -> None:
    """Comment TEXT on POST (its 0x id); at most 500 characters, one line."""
    body: dict[str, Any] = {"text": text}
    if parent is not None:
        body["parent"] = parent
    result = state.require_daemon().post(f"/api/v1/posts/{post}/comments", body)
    emit(result, as_json, lambda r: f"commented: {r['id']}")


@click.command()
@click.argument("post")
@click.option("--hidden", is_flag=True, help="Include comments the creator hid.")
@click.option("--limit", type=click.IntRange(1, 50), default=20, show_default=True)
@click.option("--cursor", help="Continue from a previous page.")
@json_option
@pass_state
def comments(
    state: CliState, post: str, hidden: bool, limit: int, cursor: str | None, as_json: bool
) -> None:
    """Show the comments on POST, oldest first."""
    query = f"limit={limit}&hidden={int(hidden)}" + (f"&cursor={quote(cursor)}" if cursor else "")
    emit(state.require_daemon().get(f"/api/v1/posts/{post}/comments?{query}"), as_json, _render)


@click.command(name="comment-hide")
@click.argument("comment_id", metavar="COMMENT")
@click.option("--show", is_flag=True, help="Show a hidden comment again.")
@json_option
@pass_state
def comment_hide(state: CliState, comment_id: str, show: bool, as_json: bool) -> None:
    """Hide COMMENT on one of your posts from every peer that honours moderation."""
    result = state.require_daemon().post(
        f"/api/v1/comments/{comment_id}/hide", {"hidden": not show}
    )
    emit(result, as_json, lambda r: f"{'hidden' if r['hidden'] else 'shown'}: {r['id']}")


@click.command(name="comment-delete")
@click.argument("comment_id", metavar="COMMENT")
@json_option
@pass_state
def comment_delete(state: CliState, comment_id: str, as_json: bool) -> None:
    """Delete your comment COMMENT (and the replies to it) for every peer that honours it."""
    result = state.require_daemon().post(f"/api/v1/comments/{comment_id}/delete", {})
    emit(result, as_json, lambda r: f"deleted: {r['id']}")


@click.command(name="comment-policy")
@click.argument("post")
@click.option(
    "--min-tokens",
    type=click.IntRange(0),
    required=True,
    help="Whole tokens of your creator token a commenter must hold (0: everyone).",
)
@json_option
@pass_state
def comment_policy(state: CliState, post: str, min_tokens: int, as_json: bool) -> None:
    """Let only holders of your token comment on your post POST."""
    units = str(min_tokens * 10**TOKEN_DECIMALS)
    result = state.require_daemon().post(
        f"/api/v1/posts/{post}/comment-policy", {"min_balance": units}
    )
    emit(
        result,
        as_json,
        lambda _: f"holders of {min_tokens} tokens may comment" if min_tokens else "open to all",
    )


COMMANDS = (comment, comments, comment_delete, comment_hide, comment_policy)
