"""Read what the pipeline must verify in an MP4 it produced (pure parsing, file-object I/O).

* the order of top-level boxes (``moov`` before ``mdat``: progressive fast start);
* the RFC 6381 ``codecs`` string of each track, from ``avcC`` (``avc1.PPCCLL``) and ``esds``
  (``mp4a.OO.A``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Final

from storage.media.errors import TranscodeFailed

_MAX_MOOV: Final = 64 * 1024 * 1024
_CONTAINERS: Final = (b"trak", b"mdia", b"minf", b"stbl")
_VISUAL_ENTRY_HEADER: Final = 78
_AUDIO_ENTRY_HEADER: Final = 28


@dataclass(frozen=True, slots=True)
class Box:
    """A box header: type, absolute offset of the box, total size, header length."""

    type: bytes
    offset: int
    size: int
    header: int


@dataclass(frozen=True, slots=True)
class Mp4Info:
    """What :func:`inspect_mp4` found."""

    top_level: tuple[bytes, ...]
    codecs: tuple[str, ...]
    """One RFC 6381 codecs entry per track, in track order."""

    @property
    def fast_start(self) -> bool:
        """True if ``moov`` comes before the first ``mdat``."""
        if b"moov" not in self.top_level or b"mdat" not in self.top_level:
            return False
        return self.top_level.index(b"moov") < self.top_level.index(b"mdat")

    @property
    def codecs_string(self) -> str:
        """The value for a ``codecs=`` MIME parameter, e.g. ``avc1.64001f,mp4a.40.2``."""
        return ",".join(self.codecs)


def iter_boxes(buf: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """Boxes laid out back to back in ``buf[start:end]`` (offsets relative to ``buf``)."""
    end = len(buf) if end is None else end
    pos = start
    while pos + 8 <= end:
        size = int.from_bytes(buf[pos : pos + 4], "big")
        kind = bytes(buf[pos + 4 : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise TranscodeFailed("MP4 box header truncated")
            size = int.from_bytes(buf[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise TranscodeFailed(f"MP4 box {kind!r} has an invalid size")
        yield Box(kind, pos, size, header)
        pos += size


def scan_top_level(fh: BinaryIO) -> list[Box]:
    """Walk the top-level boxes of a seekable file, reading only their headers."""
    fh.seek(0, 2)
    file_end = fh.tell()
    boxes: list[Box] = []
    pos = 0
    while pos + 8 <= file_end:
        fh.seek(pos)
        head = fh.read(16)
        size = int.from_bytes(head[:4], "big")
        header = 8
        if size == 1:
            size = int.from_bytes(head[8:16], "big")
            header = 16
        elif size == 0:
            size = file_end - pos
        if size < header or pos + size > file_end:
            raise TranscodeFailed("MP4 top-level box has an invalid size")
        boxes.append(Box(head[4:8], pos, size, header))
        pos += size
    return boxes


def _child(buf: bytes, parent: Box, kind: bytes, skip: int = 0) -> Box | None:
    for box in iter_boxes(buf, parent.offset + parent.header + skip, parent.offset + parent.size):
        if box.type == kind:
            return box
    return None


def _body(buf: bytes, box: Box, skip: int = 0) -> bytes:
    return buf[box.offset + box.header + skip : box.offset + box.size]


def avc_codecs(avcc_body: bytes) -> str:
    """``avc1.PPCCLL`` from an ``avcC`` box body (AVCDecoderConfigurationRecord)."""
    if len(avcc_body) < 4 or avcc_body[0] != 1:
        raise TranscodeFailed("avcC record malformed")
    return "avc1." + avcc_body[1:4].hex()


def _descriptor(buf: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, body start, body end) of an MPEG-4 descriptor at ``pos``."""
    if pos >= len(buf):
        raise TranscodeFailed("esds descriptor truncated")
    tag = buf[pos]
    pos += 1
    length = 0
    for _ in range(4):
        if pos >= len(buf):
            raise TranscodeFailed("esds descriptor truncated")
        b = buf[pos]
        pos += 1
        length = (length << 7) | (b & 0x7F)
        if not b & 0x80:
            break
    if pos + length > len(buf):
        raise TranscodeFailed("esds descriptor truncated")
    return tag, pos, pos + length


def aac_codecs(esds_body: bytes) -> str:
    """``mp4a.OO.A`` from an ``esds`` box body (version/flags, then an ES_Descriptor)."""
    buf = esds_body[4:]
    tag, pos, end = _descriptor(buf, 0)
    if tag != 0x03 or pos + 3 > end:
        raise TranscodeFailed("esds has no ES_Descriptor")
    flags = buf[pos + 2]
    pos += 3
    if flags & 0x80:
        pos += 2  # dependsOn_ES_ID
    if flags & 0x40:
        pos += 1 + buf[pos]  # URL
    if flags & 0x20:
        pos += 2  # OCR_ES_ID
    tag, dpos, dend = _descriptor(buf, pos)
    if tag != 0x04 or dpos + 13 > dend:
        raise TranscodeFailed("esds has no DecoderConfigDescriptor")
    oti = buf[dpos]
    codecs = f"mp4a.{oti:02x}"
    if dpos + 13 < dend:
        tag, spos, send = _descriptor(buf, dpos + 13)
        if tag == 0x05 and spos < send:
            aot = buf[spos] >> 3
            if aot == 31 and spos + 1 < send:
                aot = 32 + (((buf[spos] & 0x07) << 3) | (buf[spos + 1] >> 5))
            codecs += f".{aot}"
    return codecs


def track_codecs(moov: bytes) -> list[str]:
    """Codecs strings of every track in a ``moov`` box given as bytes (box header included)."""
    out: list[str] = []
    moov_box = next(iter_boxes(moov), None)
    if moov_box is None or moov_box.type != b"moov":
        raise TranscodeFailed("moov box missing")
    for trak in iter_boxes(
        moov, moov_box.offset + moov_box.header, moov_box.offset + moov_box.size
    ):
        if trak.type != b"trak":
            continue
        box: Box | None = trak
        for kind in _CONTAINERS[1:]:
            box = _child(moov, box, kind) if box else None
        stsd = _child(moov, box, b"stsd") if box else None
        if stsd is None:
            raise TranscodeFailed("track without sample description")
        entry = next(iter_boxes(moov, stsd.offset + stsd.header + 8, stsd.offset + stsd.size), None)
        if entry is None:
            raise TranscodeFailed("empty sample description")
        if entry.type == b"avc1":
            avcc = _child(moov, entry, b"avcC", _VISUAL_ENTRY_HEADER)
            if avcc is None:
                raise TranscodeFailed("avc1 track without avcC")
            out.append(avc_codecs(_body(moov, avcc)))
        elif entry.type == b"mp4a":
            esds = _child(moov, entry, b"esds", _AUDIO_ENTRY_HEADER)
            if esds is None:
                raise TranscodeFailed("mp4a track without esds")
            out.append(aac_codecs(_body(moov, esds)))
        else:
            out.append(entry.type.decode("latin-1").strip())
    return out


def inspect_mp4(fh: BinaryIO) -> Mp4Info:
    """Top-level layout and track codecs of an MP4 file opened in binary mode."""
    boxes = scan_top_level(fh)
    moov = next((b for b in boxes if b.type == b"moov"), None)
    if moov is None:
        raise TranscodeFailed("the MP4 has no moov box")
    if moov.size > _MAX_MOOV:
        raise TranscodeFailed("the MP4's moov box is implausibly large")
    fh.seek(moov.offset)
    data = fh.read(moov.size)
    return Mp4Info(tuple(b.type for b in boxes), tuple(track_codecs(data)))
