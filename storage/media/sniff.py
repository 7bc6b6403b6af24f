"""Recognise the accepted containers from a file's first bytes (pure, no I/O).

The container decides which ffmpeg demuxer is named explicitly with ``-f``; nothing is ever
left to ffmpeg's own format guessing (which would happily open an HLS playlist or a concat list
that merely carries a ``.mp4`` name). File names and extensions are never consulted.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from storage.media.errors import NotAVideo

SNIFF_BYTES: Final = 64
"""How many leading bytes :func:`sniff_container` needs (it accepts fewer)."""

_EBML_MAGIC: Final = b"\x1a\x45\xdf\xa3"
# Top-level ISO BMFF / QuickTime box types a movie file may start with.
_BMFF_FIRST_BOXES: Final = frozenset({b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"})


class Container(StrEnum):
    """An accepted container family; the value is the ffmpeg demuxer named with ``-f``."""

    MP4 = "mov"
    """ISO base media / QuickTime: .mp4, .mov, .m4v (ffmpeg's ``mov`` demuxer)."""
    MATROSKA = "matroska"
    """Matroska and WebM (ffmpeg's ``matroska`` demuxer)."""


def sniff_container(head: bytes) -> Container:
    """Return the container family of a file starting with ``head``.

    Raises :class:`NotAVideo` for anything else (playlists, concat lists, images, text, random
    bytes, an empty file).
    """
    if head[:4] == _EBML_MAGIC:
        return Container.MATROSKA
    if len(head) >= 8 and head[4:8] in _BMFF_FIRST_BOXES:
        size = int.from_bytes(head[:4], "big")
        # 0 = box extends to end of file, 1 = 64-bit size follows; otherwise >= header size.
        if size in (0, 1) or size >= 8:
            return Container.MP4
    raise NotAVideo(
        "this file is not a video in a supported container; publish an MP4/MOV or WebM/MKV file"
    )
