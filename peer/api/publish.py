"""Publishing: the browser's multipart upload, the CLI's local file, and job status."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web

from peer.api.context import context, json_body, local_path
from peer.api.errors import ApiError
from peer.api.params import whole_tokens
from peer.api.views import job_json
from peer.daemon.publish import PublishRequest, PublishService

FIELD_LIMIT = 4096
CHUNK = 256 * 1024


def service(request: web.Request) -> PublishService:
    publish = context(request).publish
    if publish is None:
        raise ApiError(503, "publish_unavailable", "publishing needs the chain and the feed")
    return publish


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise ApiError(400, "bad_request", f"{name} must be true or false")


def _whole(value: Any, name: str) -> int:
    """Whole tokens, 0 to the supply cap (an empty form field is 0)."""
    return 0 if value == "" else whole_tokens(value, name)


async def upload(request: web.Request) -> web.Response:
    """Stream the file to disk (never into memory), capped at storage.max_upload_mb."""
    ctx = context(request)
    publish = service(request)
    if ctx.upload_dir is None:
        raise ApiError(503, "publish_unavailable", "uploads are not configured")
    ctx.upload_dir.mkdir(parents=True, exist_ok=True)
    target = ctx.upload_dir / f"{secrets.token_hex(8)}.upload"
    fields: dict[str, str] = {}
    got_file = False
    try:
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader) or part.name is None:
                raise ApiError(400, "bad_request", "nested multipart bodies are not accepted")
            if part.name == "file":
                if got_file:
                    raise ApiError(400, "bad_request", "send exactly one file")
                await _save(part, target, ctx.max_upload_bytes)
                got_file = True
            else:
                value = await part.read(decode=True)
                if len(value) > FIELD_LIMIT:
                    raise ApiError(413, "field_too_large", f"field {part.name} is too large")
                fields[part.name] = value.decode("utf-8", errors="strict")
        if not got_file:
            raise ApiError(400, "bad_request", "the form has no 'file' part")
        job = await publish.submit(
            PublishRequest.checked(
                target,
                fields.get("title", ""),
                fields.get("tags", ""),
                _bool(fields.get("premium", "false"), "premium"),
                _whole(fields.get("min_balance", "0"), "min_balance"),
                remove_after=True,
            )
        )
    except BaseException:
        target.unlink(missing_ok=True)  # no partial files, whatever went wrong
        raise
    return web.json_response({"job": job.id}, status=202)


async def _save(part: BodyPartReader, target: Path, limit: int) -> None:
    """Chunks go to disk from a worker thread; the loop only receives them."""
    size = 0
    fd = await asyncio.to_thread(os.open, target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > limit:
                raise ApiError(
                    413, "upload_too_large", f"the file is larger than {limit // 2**20} MiB"
                )
            await asyncio.to_thread(_write_all, fd, chunk)
    finally:
        await asyncio.to_thread(os.close, fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


async def publish_file(request: web.Request) -> web.Response:
    """Publish a file already on this machine (the CLI's way; it sends a path)."""
    body = await json_body(request)
    path = await local_path(request, body.get("path"))
    if not await asyncio.to_thread(path.is_file):
        raise ApiError(400, "bad_request", f"{path} is not a file")
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ApiError(400, "bad_request", "'tags' must be a list of strings")
    title = body.get("title")
    if not isinstance(title, str):
        raise ApiError(400, "bad_request", "'title' is required")
    job = await service(request).submit(
        PublishRequest.checked(
            path,
            title,
            tags,
            _bool(body.get("premium", False), "premium"),
            _whole(body.get("min_balance", 0), "min_balance"),
        )
    )
    return web.json_response({"job": job.id}, status=202)


async def job_status(request: web.Request) -> web.Response:
    job = service(request).job(request.match_info["job"])
    if job is None:
        raise ApiError(404, "unknown_job", "no such publish job")
    return web.json_response(job_json(job))
