"""Publishing in the daemon: a clip file becomes a pinned manifest and a signed, gossiped post.

Each publish is a *job* owned by this service (cancelled on stop). Its progress goes to the bus
(``publish.progress`` / ``publish.done`` / ``publish.failed``) and is kept for polling, so the
web UI follows the event stream while the CLI polls ``GET /api/v1/publish/<job>``.

Pins a job creates are journalled before they exist (``<data>/publish-journal.json``); the job
leaves the journal once its post is stored, or once its pins are released after a failure. At
start, a job still in the journal was interrupted (the peer was killed): its pins are released
unless its manifest is named by a stored post.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peer import post_input
from peer.bus import EventBus
from peer.config import Config
from peer.daemon import publish_queue
from peer.daemon.feed import FeedService
from peer.daemon.store import StoreService
from peer.daemon.wallet import WalletService
from peer.datadir import DataDir
from peer.errors import BadRequestError, PostInputError, PremiumNeedsTokenError
from peer.events import PublishDone, PublishFailed, PublishProgress
from peer.feed.text import first_control
from storage.cid import CID
from storage.errors import NotPinnedError, StorageError
from storage.media import progress as media_progress
from storage.media.pipeline import ClipPublisher, MediaSettings
from storage.media.probe import ProbeLimits
from storage.pinjournal import JournalEntry, PinJournal
from tokens.curve import MAX_SUPPLY

log = logging.getLogger(__name__)
BASE_UNITS = 10**18

Explain = Callable[[BaseException], tuple[str, str]]
"""An error as ``(code, message)`` for a failed job (the API's error table; the composition
root passes it, so this layer does not import the API)."""


@dataclass(frozen=True)
class PublishRequest:
    """What to publish; :meth:`checked` builds one from user input or raises BadRequestError."""

    path: Path
    title: str
    tags: tuple[str, ...] = ()
    premium: bool = False
    min_balance: int = 0  # whole tokens
    remove_after: bool = False  # an uploaded temp file is deleted when the job ends

    @staticmethod
    def checked(
        path: Path,
        title: str,
        tags: str | Sequence[str] = (),
        premium: bool = False,
        min_balance: int = 0,
        remove_after: bool = False,
    ) -> PublishRequest:
        try:
            title = post_input.clean_title(title)
            clean = post_input.clean_tags(tags)
            post_input.check_premium(premium, min_balance)
        except PostInputError as exc:
            raise BadRequestError(f"{exc.field}: {exc}") from exc
        control = first_control([title, *clean])
        if control is not None:
            raise BadRequestError(f"title and tags must not hold control characters ({control})")
        if not 0 <= min_balance <= MAX_SUPPLY // 10**18:
            raise BadRequestError(
                f"min_balance: at most {MAX_SUPPLY // 10**18} whole tokens (the supply cap)"
            )
        return PublishRequest(path, title, clean, premium, min_balance, remove_after)


@dataclass
class Job:
    """State of one publish, for polling."""

    id: str
    state: str = "running"  # running | done | failed
    stage: str = "probe"
    fraction: float = 0.0
    post_id: str | None = None
    manifest: str | None = None
    error: dict[str, str] | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


def media_settings(config: Config, data_dir: DataDir) -> MediaSettings:
    """Pipeline settings from config (work files in ``<data-dir>/tmp/media``)."""
    limits = ProbeLimits(
        max_duration_ms=config.storage.max_clip_seconds * 1000,
        max_file_bytes=config.storage.max_upload_mb * 1024 * 1024,
    )
    return MediaSettings(work_dir=data_dir.root / "tmp" / "media", limits=limits)


class PublishService:
    """Runs publish jobs: media pipeline, then the feed."""

    name = "publish"

    def __init__(
        self,
        store: StoreService,
        wallet: WalletService,
        feed: FeedService,
        settings: MediaSettings,
        bus: EventBus,
        journal_path: Path,
        key_servers: Callable[[], Sequence[str]] = tuple,
        *,
        explain: Explain,
        queue_root: Path | None = None,
    ) -> None:
        self._queue_root = queue_root
        self._journal_path = journal_path
        self._journal: PinJournal | None = None
        self._explain = explain
        self._store = store
        self._wallet = wallet
        self._feed = feed
        self._settings = settings
        self._bus = bus
        self._key_servers = key_servers
        self._jobs: dict[str, Job] = {}

    async def start(self) -> None:
        self._settings.work_dir.mkdir(parents=True, exist_ok=True)
        self._journal = await asyncio.to_thread(PinJournal, self._journal_path)
        await self.release_interrupted()
        await self.announce_queued()

    async def announce_queued(self) -> list[str]:
        """Sign and announce the posts the CLI queued while no daemon ran (oldest first);
        returns their post ids. One that cannot be announced moves to ``failed/``, logged."""
        if self._queue_root is None:
            return []
        posted: list[str] = []
        for path, queued in await asyncio.to_thread(publish_queue.pending, self._queue_root):
            try:
                if queued.premium and await self._feed.token_of(self._feed.me) is None:
                    raise PremiumNeedsTokenError()
                post_id = await self._feed.publish_post(
                    queued.manifest,
                    queued.title,
                    tags=queued.tags,
                    duration_ms=queued.duration_ms,
                    premium=queued.premium,
                    min_balance=queued.min_balance * BASE_UNITS,
                    key_servers=tuple(self._key_servers()) if queued.premium else (),
                )
            except Exception as exc:
                _, message = self._explain(exc)
                moved = await asyncio.to_thread(publish_queue.fail, path, message)
                log.warning("could not announce the queued post %s: %s", moved, message)
                continue
            await asyncio.to_thread(publish_queue.done, path)
            log.info("announced post %s (%r), queued while no daemon ran", post_id, queued.title)
            self._bus.publish(PublishDone(f"queued-{path.stem}", post_id, queued.manifest))
            posted.append(post_id)
        return posted

    @property
    def journal(self) -> PinJournal:
        if self._journal is None:
            raise RuntimeError("the publish service is not started")
        return self._journal

    async def release_interrupted(self) -> dict[str, int]:
        """Release the pins of jobs an earlier run left in the journal, unless their post was
        stored. Returns job id -> pins released (logged)."""
        released: dict[str, int] = {}
        for job, entry in self.journal.pending().items():
            if entry.result is not None and await self._feed.index.queries.has_manifest(
                entry.result
            ):
                log.info("interrupted publish %s had stored its post; keeping its pins", job)
            else:
                released[job] = await self._release(entry.pins)
                log.warning(
                    "released %d pins of publish %s, interrupted before its post was stored",
                    released[job],
                    job,
                )
            await asyncio.to_thread(self.journal.end, job)
        return released

    async def _release(self, cids: Sequence[str]) -> int:
        count = 0
        for cid in reversed(cids):  # manifest first, then what it names
            try:
                await self._store.store.unpin(cid)
                count += 1
            except NotPinnedError:
                continue
        return count

    async def stop(self) -> None:
        tasks = [j.task for j in self._jobs.values() if j.task is not None and not j.task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def job(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    async def submit(self, request: PublishRequest) -> Job:
        """Start a publish job; it runs in the background. What can be known before the media
        work is checked first: a wallet, and for a premium clip the creator's token."""
        creator = self._feed.me  # raises NoWalletError before any work starts
        if request.premium and await self._feed.token_of(creator) is None:
            raise PremiumNeedsTokenError()
        job = Job(secrets.token_hex(8))
        self._jobs[job.id] = job
        job.task = asyncio.create_task(self._run(job, request, creator), name=f"publish {job.id}")
        return job

    async def _run(self, job: Job, request: PublishRequest, creator: str) -> None:
        def stage(name: str, done: int, total: int, fraction: float) -> None:
            job.stage, job.fraction = name, fraction
            self._bus.publish(PublishProgress(job.id, name, done, total))

        def on_progress(p: media_progress.Progress) -> None:
            if p.stage is not media_progress.Stage.DONE:  # the job ends with publish.done
                stage(p.stage.value, p.done, p.total, p.fraction)

        journal = self.journal

        async def note(cid: CID) -> None:
            await asyncio.to_thread(journal.note, job.id, str(cid))

        stored = False
        try:
            await asyncio.to_thread(journal.begin, job.id)
            publisher = ClipPublisher(self._store.store, self._settings, self._wallet.clip_keys)
            clip = await publisher.publish(
                request.path,
                creator=creator,
                premium=request.premium,
                progress=on_progress,
                journal=note,
            )
            await asyncio.to_thread(journal.record_result, job.id, str(clip.manifest_cid))
            stage("sign", 0, 1, 0.0)
            post_id = await self._feed.publish_post(
                str(clip.manifest_cid),
                request.title,
                tags=request.tags,
                duration_ms=clip.manifest.duration_ms,
                premium=request.premium,
                min_balance=request.min_balance * BASE_UNITS,
                key_servers=tuple(self._key_servers()) if request.premium else (),
                on_signed=lambda: stage("gossip", 0, 1, 0.0),
            )
            stored = True
            job.state, job.post_id, job.manifest = "done", post_id, str(clip.manifest_cid)
            job.stage, job.fraction = "done", 1.0
            self._bus.publish(PublishDone(job.id, post_id, str(clip.manifest_cid)))
        except asyncio.CancelledError:
            job.state, job.error = "failed", {"code": "cancelled", "message": "daemon stopped"}
            raise
        except Exception as exc:
            code, message = self._explain(exc)
            if code == "internal":
                log.exception("publish job %s failed", job.id)
            job.state, job.error = "failed", {"code": code, "message": message}
            self._bus.publish(PublishFailed(job.id, code, message))
        finally:
            await asyncio.shield(self._finish_journal(job.id, stored))
            if request.remove_after:
                request.path.unlink(missing_ok=True)

    async def _finish_journal(self, job: str, stored: bool) -> None:
        """The job is over: keep its pins if its post was stored, else release them."""
        try:
            if not stored:
                await self._release(self.journal.pending().get(job, JournalEntry()).pins)
            await asyncio.to_thread(self.journal.end, job)
        except StorageError:
            log.warning("could not release the pins of publish %s", job, exc_info=True)
