"""Yamux receive credit given back as go-yamux does (trio side; installed by
``libp2p_host.build_libp2p_host``).

py-libp2p 0.8.1's ``YamuxStream._auto_tune_and_send_window_update`` sends a WINDOW_UPDATE
after nearly every read: whenever the stream's missing credit is above zero and below half
the window (its "partial slack" case), it sends the missing credit plus the bytes just read.
A gossipsub RPC is read in two reads (varint length, then body), so each RPC received cost
the reader one to two encrypted frames and socket writes back to its neighbour, about a sixth
of a relaying peer's CPU (py-spy during ``scripts/bench propagation``); the doubled credit also
lets the sender run past the window it announced.

go-yamux's rule (``sendWindowUpdate``): the missing credit is ``window - (buffered +
recv_window)``; nothing is sent while it is below half the window; otherwise all of it goes in
one update. That is what ``give_back_credit`` does, keeping py-libp2p's receive-window
auto-tuning (the window doubles, up to its maximum, when updates come within 4 round trips).

The fix belongs upstream: drop the partial-slack and release-on-read cases of
``_auto_tune_and_send_window_update`` (and never add ``bytes_read`` to a delta that already
counts it).
"""

from __future__ import annotations

from typing import Any

from libp2p.stream_muxer.yamux.yamux import YamuxStream


async def give_back_credit(stream: Any, *, bytes_read: int = 0) -> None:
    """Send one WINDOW_UPDATE once at least half of the stream's window was consumed."""
    del bytes_read  # the missing credit already counts what was read
    async with stream.window_lock:
        buffered = len(stream.conn.stream_buffers.get(stream.stream_id, b""))
        missing = stream.target_recv_window - (stream.recv_window + buffered)
        if missing <= 0 or missing < stream.target_recv_window // 2:
            return
        stream.recv_window += missing
        increment = missing + stream._apply_autotune_epoch(buffered)
    # outside the lock: an inbound WINDOW_UPDATE needs it while this frame is written
    await stream.send_window_update(increment, skip_lock=True)


def install() -> None:
    """Make every yamux stream of this process give credit back the go-yamux way."""
    YamuxStream._auto_tune_and_send_window_update = give_back_credit  # type: ignore[method-assign,assignment]
