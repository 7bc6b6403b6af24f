"""``toktok publish FILE --title ... [--tags ...] [--premium --min-balance N]``.

With the daemon running (the normal case) the file is published by the daemon: probe ->
transcode -> (encrypt) -> add -> pin -> manifest -> signed post -> gossip, followed here with
one progress bar; prints the post id and manifest CID. A premium clip needs the creator's token:
that is checked first, and on a terminal the command offers to create it.

Without a daemon it takes the data-dir lock and runs the media part in-process (probe ->
transcode -> (encrypt) -> add -> pin -> manifest), prints the manifest CID (``--json``: the
manifest) and queues the post (``peer.daemon.publish_queue``): signing and announcing need the
chain and the network, so the daemon does both when it next starts. It says so on stderr (and
in ``--json``: ``queued``); a clip for another creator (``--creator``) is stored only, and it
says that too.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from eth_utils.address import is_address, to_checksum_address

from peer import post_input
from peer.cli.client import DaemonClient
from peer.cli.context import CliState, emit, json_option, pass_state, refuse_data_dir_path
from peer.cli.progress import PublishBar, stages_for
from peer.datadir import DataDir
from peer.errors import DaemonError, PeerError, PostInputError, PremiumNeedsTokenError
from storage import untrusted
from storage.media import progress as media_progress

if TYPE_CHECKING:  # the media stack is imported only for an in-process publish
    from storage.media.pipeline import ClipPublisher, PublishedClip

PASSPHRASE_ENV = "TOKTOK_PASSPHRASE"  # noqa: S105 - the name of a variable
MAX_KEYSTORE_BYTES = 64 * 1024  # a V3 keystore is < 1 KB


def wallet_of(data_dir: DataDir) -> tuple[str, dict[str, Any]] | None:
    """(checksummed address, keystore JSON) of the wallet, if there is one."""
    for keystore in sorted(data_dir.wallet.glob("*.json")):
        try:
            doc = untrusted.loads(keystore.read_bytes(), max_bytes=MAX_KEYSTORE_BYTES)
        except (OSError, ValueError):
            continue
        address = doc.get("address") if isinstance(doc, dict) else None
        if isinstance(address, str) and is_address(address):
            return to_checksum_address(address), doc
    return None


def unlock_wallet(wallet_doc: dict[str, Any] | None, passphrase: str | None) -> str:
    """The wallet passphrase, checked against the keystore (clip keys are sealed under it)."""
    if wallet_doc is None:
        raise PeerError(
            "premium clips need a wallet: their keys are encrypted under its passphrase"
        )
    if passphrase is None:
        passphrase = click.prompt("Wallet passphrase", hide_input=True, err=True)
    from eth_account import Account

    try:
        Account.decrypt(wallet_doc, passphrase)
    except ValueError as exc:
        raise PeerError("wrong wallet passphrase") from exc
    return passphrase


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", required=True, help="Title of the clip (public).")
@click.option(
    "--tags",
    "tag_values",
    multiple=True,
    metavar="TAG[,TAG...]",
    help="Tags, comma-separated or repeated.",
)
@click.option("--premium", is_flag=True, help="Encrypt the clip for holders of your token.")
@click.option(
    "--min-balance",
    type=click.IntRange(min=1),
    help="Whole tokens a fan must hold to watch a premium clip.",
)
@click.option(
    "--creator",
    help="Creator address (default: the wallet's address).",
)
@json_option
@pass_state
def publish(
    state: CliState,
    file: Path,
    title: str,
    tag_values: tuple[str, ...],
    premium: bool,
    min_balance: int | None,
    creator: str | None,
    as_json: bool,
) -> None:
    """Publish a video file: convert it, store and pin it, print the manifest CID."""
    refuse_data_dir_path(state, file)
    try:  # the publish rules of the daemon (peer.post_input), checked before any work
        title = post_input.clean_title(title)
        tags = list(post_input.clean_tags(tag_values))
        post_input.check_premium(premium, min_balance or 0)
    except PostInputError as exc:
        hint = {"title": "--title", "tags": "--tags"}.get(exc.field, "--min-balance")
        raise click.BadParameter(str(exc), param_hint=hint) from exc
    wallet = wallet_of(state.data_dir)
    if creator is None:
        if wallet is None:
            raise PeerError("no wallet in this data dir: pass --creator ADDRESS or create one")
        creator = wallet[0]
    elif not is_address(creator):
        raise click.BadParameter("not an Ethereum address", param_hint="--creator")
    creator = to_checksum_address(creator)

    def remote(client: DaemonClient) -> dict[str, Any]:
        if premium:
            _ensure_creator_token(client, interactive=not as_json)
        return _publish_through_daemon(
            client,
            {
                "path": str(file.resolve()),
                "title": title,
                "tags": tags,
                "premium": premium,
                "min_balance": min_balance or 0,
            },
            premium,
        )

    if state.daemon() is not None:
        job = state.change_state(remote, lambda: {})
        if job.get("state") != "done":
            error = job.get("error") or {}
            raise PeerError(str(error.get("message", "the publish failed")))
        if as_json:
            emit({"post_id": job["post_id"], "cid": job["manifest"]}, True)
        else:
            click.echo(f"published post {job['post_id']} (manifest {job['manifest']})")
        return

    def local() -> PublishedClip:
        from peer.daemon.publish import media_settings
        from storage.clipkeys import ClipKeyStore
        from storage.embedded import EmbeddedContentStore
        from storage.media.pipeline import ClipPublisher

        passphrase = (
            unlock_wallet(wallet[1] if wallet else None, os.environ.get(PASSPHRASE_ENV))
            if premium
            else None
        )
        state.data_dir.ensure()
        store = EmbeddedContentStore.at(state.data_dir.store)
        keys = ClipKeyStore(state.data_dir.keys, passphrase) if passphrase is not None else None
        publisher = ClipPublisher(store, media_settings(state.config, state.data_dir), keys)
        return _run_with_bar(publisher, file.resolve(), creator, premium, state.data_dir)

    clip = state.change_state(lambda _: local(), local)
    queued = None
    if wallet is not None and wallet[0] == creator:
        from peer.daemon.publish_queue import QueuedPost, enqueue

        queued = enqueue(
            state.data_dir.root,
            QueuedPost(
                str(clip.manifest_cid),
                title,
                tuple(tags),
                premium,
                min_balance or 0,
                clip.manifest.duration_ms,
                time.time(),
            ),
        )
        click.echo(
            f"No daemon is running for {state.data_dir.root}: the clip is converted and "
            "stored, and its post is queued, not announced yet. 'toktok run' signs and "
            f"announces it when it starts (queued as {queued.name}).",
            err=True,
        )
    else:
        click.echo(
            f"No daemon is running for {state.data_dir.root}: the clip is converted and "
            f"stored only. No post was signed or queued: this data dir's wallet is not "
            f"{creator}, so it cannot sign for that creator.",
            err=True,
        )
    if as_json:
        from storage.media.manifest import manifest_to_obj

        emit(
            {
                "cid": str(clip.manifest_cid),
                "manifest": manifest_to_obj(clip.manifest),
                "title": title,
                "tags": tags,
                "premium": premium,
                "minBalance": min_balance or 0,
                "queued": queued.name if queued is not None else None,
            },
            True,
        )
    else:
        click.echo(str(clip.manifest_cid))


def _ensure_creator_token(client: DaemonClient, *, interactive: bool) -> None:
    """A premium clip is for holders of the creator's token: check it exists before any media
    work; on a terminal, offer to create it."""
    if client.get("/api/v1/profile").get("token"):
        return
    if not (interactive and sys.stdin.isatty()):
        raise PremiumNeedsTokenError()
    click.echo(
        "A premium clip is only for holders of your creator token, and you have none yet.",
        err=True,
    )
    if not click.confirm("Create your token now?", default=True, err=True):
        raise PremiumNeedsTokenError()
    name = click.prompt("Token name (1-25 characters)", err=True).strip()
    symbol = click.prompt("Token symbol (1-5 characters)", err=True).strip()
    try:
        token = client.post("/api/v1/token", {"name": name, "symbol": symbol})
    except DaemonError as exc:
        raise PeerError(f"the token was not created: {exc}") from exc
    click.echo(f"Created {token['name']} ({token['symbol']}) at {token['address']}.", err=True)


def _publish_through_daemon(
    client: DaemonClient, body: dict[str, Any], premium: bool
) -> dict[str, Any]:
    """Start a publish job in the running daemon and follow it with one overall bar."""
    job_id = client.post("/api/v1/publish/file", body)["job"]
    with PublishBar(stages_for(premium)) as bar:
        while True:
            job: dict[str, Any] = client.get(f"/api/v1/publish/{job_id}")
            bar.show(str(job["stage"]), float(job["fraction"]))
            if job["state"] != "running":
                return job
            time.sleep(0.25)


def _run_with_bar(
    publisher: ClipPublisher, file: Path, creator: str, premium: bool, data_dir: DataDir
) -> PublishedClip:
    """Run the media part in-process; its pins are journalled while it runs (a killed run is
    released by the daemon's next start), and the journal entry ends with the run: the
    pinned manifest is this command's result."""
    import secrets

    from storage.cid import CID
    from storage.pinjournal import PinJournal

    journal = PinJournal(data_dir.publish_journal)
    job = "cli-" + secrets.token_hex(8)

    async def note(cid: CID) -> None:
        await asyncio.to_thread(journal.note, job, str(cid))

    async def run(on_progress: media_progress.ProgressCallback) -> PublishedClip:
        await asyncio.to_thread(journal.begin, job)
        try:
            return await publisher.publish(
                file, creator=creator, premium=premium, progress=on_progress, journal=note
            )
        finally:  # success: the pins are the result; failure: the pipeline released them
            await asyncio.to_thread(journal.end, job)

    with PublishBar(stages_for(premium, announce=False)) as bar:

        def on_progress(p: media_progress.Progress) -> None:
            bar.show(p.stage.value, p.fraction)

        return asyncio.run(run(on_progress))
