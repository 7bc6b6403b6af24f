"""Share links (peer.social.links): format, strict parsing, and the hint filter."""

from __future__ import annotations

import ipaddress

import pytest

from peer.social.errors import ShareLinkError
from peer.social.links import MAX_HINTS, ShareLink, dialable, parse

POST = "0x" + "ab" * 32
CREATOR = "0x" + "Cd" * 20
PEER = "12D3KooWQ2dBEKxKJ8Nq4R4u8Y3pt5FcKk4Bz8jrqgS5fKxMG4xN"
LOOP = f"/ip4/127.0.0.1/tcp/4001/p2p/{PEER}"
LOCAL_ONLY = ("/ip4/127.0.0.1/tcp/0",)
PUBLIC = ("/ip4/0.0.0.0/tcp/4001",)
BED = (ipaddress.ip_network("198.18.0.0/15"),)


def test_a_post_link_round_trips() -> None:
    link = ShareLink(CREATOR, POST, (LOOP, f"/ip4/198.18.0.5/tcp/4001/p2p/{PEER}"))
    text = link.format()
    assert text.startswith(f"web+toktok:post/{POST}?creator={CREATOR}&peer=/ip4/127.0.0.1/")
    assert parse(text) == link


def test_a_creator_link_round_trips_without_hints() -> None:
    link = ShareLink(CREATOR)
    assert link.format() == f"web+toktok:creator/{CREATOR}"
    assert parse(link.format()) == link


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("https://example.org/post/1", r"starts with web\+toktok:"),
        (f"web+toktok:post/0x12?creator={CREATOR}", "post id"),
        (f"web+toktok:post/{POST}", "names its creator"),
        (f"web+toktok:post/{POST}?creator=0x12", "names its creator"),
        ("web+toktok:creator/bob", "creator must be"),
        ("web+toktok:video/1", "names a post"),
        (f"web+toktok:creator/{CREATOR}?peer=/ip4/127.0.0.1/tcp/1", "/p2p/"),
        (
            f"web+toktok:creator/{CREATOR}?" + "&".join([f"peer={LOOP}"] * (MAX_HINTS + 1)),
            "at most",
        ),
        ("web+toktok:" + "a" * 5000, "at most 4096"),
    ],
)
def test_bad_links_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ShareLinkError, match=message):
        parse(text)


def test_a_loopback_peer_dials_only_loopback_hints() -> None:
    assert dialable(LOOP, LOCAL_ONLY, ()) == ""
    assert "loopback only" in dialable(f"/ip4/8.8.8.8/tcp/1/p2p/{PEER}", LOCAL_ONLY, ())
    assert "loopback only" in dialable(f"/ip4/198.18.0.5/tcp/1/p2p/{PEER}", LOCAL_ONLY, BED)


def test_a_public_peer_dials_global_and_configured_ranges_never_private_ones() -> None:
    assert dialable(f"/ip4/8.8.8.8/tcp/1/p2p/{PEER}", PUBLIC, ()) == ""
    assert dialable(f"/ip4/198.18.0.5/tcp/1/p2p/{PEER}", PUBLIC, BED) == ""
    for private in ("10.0.0.1", "192.168.1.2", "169.254.1.1", "224.0.0.1", "0.0.0.0"):
        assert "never dialled" in dialable(f"/ip4/{private}/tcp/1/p2p/{PEER}", PUBLIC, ()), private


def test_dns_names_are_never_dialled_and_circuits_are_judged_by_their_relay() -> None:
    assert "no DNS" in dialable(f"/dns4/example.org/tcp/1/p2p/{PEER}", PUBLIC, ())
    circuit = f"{LOOP}/p2p-circuit/p2p/{PEER}"
    assert dialable(circuit, LOCAL_ONLY, ()) == ""
    relayed = f"/ip4/10.1.1.1/tcp/1/p2p/{PEER}/p2p-circuit/p2p/{PEER}"
    assert dialable(relayed, PUBLIC, ()) != ""
