"""Helpers for the media integration tests (imported as ``integration.media.media_helpers``)."""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

from storage.media.transcode import TranscodeOptions

FAST = TranscodeOptions(preset="ultrafast", threads=2)
CREATOR = "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"


def ffmpeg(*args: str) -> None:
    """Run ffmpeg quietly (test fixtures only)."""
    argv = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    subprocess.run(argv, check=True, timeout=120)


def zero_durations(src: bytes) -> bytes:
    data = bytearray(src)
    for kind, off in ((b"mvhd", 16), (b"mdhd", 16), (b"tkhd", 20), (b"elst", 8)):
        body = data.find(kind) + 4
        data[body + off : body + off + 4] = bytes(4)
    stts = data.find(b"stts") + 4
    data[stts + 12 : stts + 16] = bytes(4)
    return bytes(data)


def patch_dims(src: bytes, width: int, height: int) -> bytes:
    data = bytearray(src)
    entry = data.find(b"stsd") + 4 + 8  # stsd body: version/flags + entry count
    dims = entry + 8 + 24  # sample entry header, then the visual fields before width
    data[dims : dims + 2] = width.to_bytes(2, "big")
    data[dims + 2 : dims + 4] = height.to_bytes(2, "big")
    return bytes(data)


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(4096))
                except OSError:
                    self.connections.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def hls_playlist(port: int) -> str:
    """An HLS playlist pointing at a local secret file and at the test's listener."""
    return (
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:10.0,\nhttp://127.0.0.1:{port}/segment0.ts\n"
        "#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    )


def passwd_markers() -> list[bytes]:
    """Lines of /etc/passwd that must never show up in any output."""
    lines = Path("/etc/passwd").read_bytes().splitlines()
    return [line for line in lines[:3] if len(line) > 8]


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line contains ``text`` (to prove ffmpeg was killed)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry.name))
    return found
