"""The status page against the contract fake: editing the display name (validation before
anything is sent, an explicit confirmation, the published result), the storage panel and the
reachability line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.browser import screenshot
from support.fake_api import FakeServer

pytestmark = pytest.mark.ui


def test_display_name_is_validated_confirmed_and_published(
    fake: FakeServer, open_page: Any, tmp_path: Path
) -> None:
    probe = open_page(fake.login_url() + "#/status")
    page = probe.page
    name = page.get_by_label("Display name")
    page.wait_for_function("() => !document.querySelector('#profile-name').disabled")
    assert name.input_value() == "me"
    save = page.get_by_role("button", name="Save")
    error = page.locator("#profile-name-error")

    name.fill("   ")
    save.click()
    assert error.inner_text() == "Enter a display name."
    assert name.get_attribute("aria-invalid") == "true"
    name.fill("x" * 65)
    save.click()
    assert error.inner_text() == ("The display name is 65 characters long; at most 64 are allowed.")
    name.fill("me")
    save.click()
    assert error.inner_text() == "That is already your display name."
    assert fake.peer.profiles_published == 0

    # a valid name asks first; cancel sends nothing
    name.fill("  Ana Lopez ")
    assert error.inner_text() == ""  # fixed while typing
    save.click()
    question = page.get_by_text("Publish “Ana Lopez” as your display name?")
    question.wait_for()
    page.get_by_role("button", name="Cancel").click()
    assert question.count() == 0
    assert fake.peer.profiles_published == 0

    save.click()
    screenshot(page, tmp_path, "status-profile-confirm-phone")
    page.get_by_role("button", name="Publish", exact=True).click()
    page.locator("#profile-out", has_text="Saved: your display name is now “Ana Lopez”.").wait_for()
    assert fake.peer.name == "Ana Lopez"
    assert fake.peer.profiles_published == 1
    assert name.get_attribute("aria-invalid") is None
    assert probe.problems() == []


def test_status_page_shows_storage_bitswap_and_replication(
    fake: FakeServer, open_page: Any
) -> None:
    probe = open_page(fake.login_url() + "#/status")
    storage = probe.page.locator("#storage")
    storage.get_by_text("12 MiB in 120 blocks, 4 pins").wait_for()
    text = storage.inner_text()
    assert "2.5 MiB (10 blocks)" in text
    assert "768 KiB (3 blocks); 1 peer connected" in text
    assert "2 clips kept for creators you follow, 5.0 MiB of 1.0 GiB" in text
    assert probe.problems() == []


def test_status_page_says_the_peer_is_behind_nat_and_why(fake: FakeServer, open_page: Any) -> None:
    probe = open_page(fake.login_url() + "#/status")
    facts = probe.page.locator("#peer")
    facts.get_by_text("behind NAT, unreachable", exact=False).wait_for()
    text = facts.inner_text()
    assert "Reachability" in text
    assert "no relay in p2p.relays or the network profile" in text
    assert probe.problems() == []
