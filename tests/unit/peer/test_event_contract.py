"""One event contract: every bus event has a schema in the OpenAPI document, and docs/API.md
and the web UI name exactly the event kinds and publish stages the peer sends."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from support.http import daemon_schema

from peer.api.schemas import EVENTS as EVENT_SCHEMAS
from peer.events import EVENTS, PUBLISH_STAGES

ROOT = Path(__file__).resolve().parents[3]
KINDS = {event.kind for event in EVENTS} | {"dropped"}  # the SSE stream's own


def _api_events_section() -> str:
    text = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    start = text.index("## Events")
    return text[start : text.index("\n## ", start + 1)]


def _js_list(path: str, name: str) -> list[str]:
    source = (ROOT / "webui" / "static" / "js" / path).read_text(encoding="utf-8")
    match = re.search(rf"const {name} = \[(.*?)\];", source, flags=re.S)
    assert match, f"{path} has no {name} list"
    return re.findall(r'"([^"]+)"', match.group(1))


def test_every_event_has_a_closed_schema_of_its_fields() -> None:
    assert set(EVENT_SCHEMAS) == KINDS
    for event in EVENTS:
        fields = [f.name for f in dataclasses.fields(event)]
        schema = EVENT_SCHEMAS[event.kind]
        assert list(schema["properties"]) == fields, event.kind
        assert schema["additionalProperties"] is False


def test_the_openapi_document_serves_every_event_schema() -> None:
    assert set(daemon_schema().doc["x-events"]) == KINDS


def test_an_event_that_does_not_fit_its_schema_is_refused() -> None:
    schema = daemon_schema()
    schema.check_event(
        "wallet.tx", {"action": "buy", "tx": "", "token": "0x" + "1" * 40, "amount": "5"}
    )
    with pytest.raises(AssertionError, match="does not match"):
        schema.check_event("wallet.tx", {"kind": "buy", "tx": "", "token": "0x", "amount": "5"})
    with pytest.raises(AssertionError, match="not documented"):
        schema.check_event("gossip.done", {})


def test_no_event_class_lives_outside_peer_events() -> None:
    found = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "peer").rglob("*.py")
        if path.name != "events.py" and re.search(r"^class \w+\(Event\)", path.read_text(), re.M)
    ]
    assert found == []


def test_api_doc_names_exactly_the_event_kinds_and_stages() -> None:
    section = _api_events_section()
    named = set(re.findall(r"`([a-z]+\.[a-z]+|dropped)`", section))
    assert named == KINDS
    stages = re.search(r"stages in order: (.*?) \|", section)
    assert stages
    assert re.findall(r"`(\w+)`", stages.group(1)) == list(PUBLISH_STAGES)


def test_web_ui_names_exactly_the_event_kinds_and_stages() -> None:
    assert set(_js_list("api.js", "KINDS")) == KINDS
    # "upload" is the browser's own first stage (sending the file), not an event
    assert _js_list("upload.js", "STAGES") == ["upload", *PUBLISH_STAGES]
