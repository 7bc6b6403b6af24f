"""What the demo creator has published, and on which chain: ``<demo-data-dir>/demo.json``.

The stamp lets a second ``scripts/run`` reuse the demo data dir as it is (no transcoding, no
transactions). It is written only after the whole set-up succeeded. :func:`reusable` is the pure
decision: the stamp is reused only for the same chain deployment and the same sample clips; the
launcher also checks on the chain that the creator's token is still registered (a devnet that
was reset deploys to the same addresses but has forgotten the token).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from storage import untrusted

STAMP_FILE = "demo.json"
STAMP_VERSION = 1
_MAX_FILE = 64 * 1024  # the stamp is < 2 KB


@dataclass(frozen=True)
class DemoStamp:
    """The result of one complete demo set-up."""

    chain_id: int
    factory: str
    tok: str
    clips: str
    """Hash of the clip generator whose clips were published."""
    creator: str
    token: str
    p2p_port: int
    """The demo peer's libp2p port: its premium post names it as key server."""
    posts: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"version": STAMP_VERSION, **asdict(self), "posts": list(self.posts)}

    @classmethod
    def from_json(cls, data: Any) -> DemoStamp | None:
        """The stamp in ``data``, or None for anything unexpected (then the demo is set up anew)."""
        if not isinstance(data, dict) or data.get("version") != STAMP_VERSION:
            return None
        try:
            stamp = cls(
                chain_id=data["chain_id"],
                factory=data["factory"],
                tok=data["tok"],
                clips=data["clips"],
                creator=data["creator"],
                token=data["token"],
                p2p_port=data["p2p_port"],
                posts=tuple(data["posts"]),
            )
        except (KeyError, TypeError):
            return None
        texts = (stamp.factory, stamp.tok, stamp.clips, stamp.creator, stamp.token, *stamp.posts)
        ints = (stamp.chain_id, stamp.p2p_port)
        if not all(isinstance(t, str) and t for t in texts):
            return None
        if not all(isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in ints):
            return None
        return stamp


def reusable(stamp: DemoStamp | None, *, chain_id: int, factory: str, tok: str, clips: str) -> bool:
    """True if ``stamp`` describes a set-up on this deployment with these clips."""
    if stamp is None:
        return False
    return (
        stamp.chain_id == chain_id
        and stamp.factory.lower() == factory.lower()
        and stamp.tok.lower() == tok.lower()
        and stamp.clips == clips
    )


def load_stamp(data_dir: Path) -> DemoStamp | None:
    """The stamp in ``data_dir``, or None when there is none or it cannot be read."""
    try:
        raw = (data_dir / STAMP_FILE).read_bytes()
        return DemoStamp.from_json(untrusted.loads(raw, max_bytes=_MAX_FILE))
    except (OSError, ValueError):
        return None


def save_stamp(data_dir: Path, stamp: DemoStamp) -> None:
    """Write the stamp atomically (a crash leaves the old stamp or none, never half of one)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / (STAMP_FILE + ".tmp")
    tmp.write_text(json.dumps(stamp.to_json(), indent=2))
    os.replace(tmp, data_dir / STAMP_FILE)


def clear_stamp(data_dir: Path) -> None:
    """Forget the set-up (before the data dir is set up anew)."""
    (data_dir / STAMP_FILE).unlink(missing_ok=True)
