"""Errors raised by the media pipeline (``storage.media``).

Every error derives from :class:`MediaError`, itself a :class:`storage.errors.StorageError`.
Subprocess and OS failures (ffmpeg, ffprobe, the file system) are translated at the boundary
(``raise Unreadable(...) from exc``). Messages say what is wrong with the file and what to do;
they never quote the file's content.

Exception tree::

    MediaError
    ├── InputRejected            the input file cannot be published (pick another file)
    │   ├── NotAVideo            not an MP4/MOV or WebM/MKV container (by content, not by name)
    │   ├── NoVideoStream        a supported container without a (non cover-art) video stream
    │   ├── TooLong              longer than the configured maximum duration
    │   ├── TooLarge             bigger than the configured maximum file size
    │   ├── ZeroDuration         the container declares no or zero duration
    │   ├── BadDimensions        absurd or oversized frame dimensions (decoder bomb guard)
    │   └── Unreadable           missing, not a regular file, truncated or corrupt
    ├── ToolError                ffmpeg / ffprobe themselves failed
    │   ├── ToolMissing          the executable is not installed
    │   ├── ToolTimeout          the wall-clock timeout elapsed (process killed)
    │   └── TranscodeFailed      ffmpeg exited non-zero or produced unusable output
    └── ManifestError            a clip manifest is malformed (schema, types, encoding)
"""

from __future__ import annotations

from storage.errors import StorageError


class MediaError(StorageError):
    """Base class of every media pipeline error."""


class InputRejected(MediaError):
    """The input file cannot be published; the user should choose another file."""


class NotAVideo(InputRejected):
    """The file is not in an accepted container (MP4/MOV, WebM/MKV)."""


class NoVideoStream(InputRejected):
    """The container has no video stream (audio only, cover art only, data only)."""


class TooLong(InputRejected):
    """The clip is longer than the configured maximum."""


class TooLarge(InputRejected):
    """The file is bigger than the configured maximum size."""


class ZeroDuration(InputRejected):
    """The container declares no duration or a zero duration."""


class BadDimensions(InputRejected):
    """The video's declared dimensions are absurd or above the configured maximum."""


class Unreadable(InputRejected):
    """The file cannot be read or parsed (missing, not a regular file, truncated, corrupt)."""


class ToolError(MediaError):
    """ffmpeg or ffprobe failed for a reason that is not the input's fault."""


class ToolMissing(ToolError):
    """ffmpeg / ffprobe is not installed or not executable."""


class ToolTimeout(ToolError):
    """A ffmpeg / ffprobe run exceeded its wall-clock timeout and was killed."""


class TranscodeFailed(ToolError):
    """ffmpeg exited with an error or produced output that fails verification."""


class ManifestError(MediaError, ValueError):
    """A clip manifest is malformed: bad JSON, wrong types, unknown fields, not canonical."""
