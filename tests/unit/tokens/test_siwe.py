"""EIP-4361: the EIP's examples parse and round-trip; malformed variants are refused;
verification checks every field and the signature."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account

from tokens import siwe
from tokens.errors import SiweParseError, SiweVerifyError

RESOURCES = (
    "ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/",
    "https://example.com/my-web2-claim.json",
)
BODY = (
    "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n\n"
    "I accept the ExampleOrg Terms of Service: https://example.com/tos\n\n"
    "URI: https://example.com/login\nVersion: 1\nChain ID: 1\nNonce: 32891756\n"
    "Issued At: 2021-09-30T16:25:24Z\nResources:\n- " + "\n- ".join(RESOURCES)
)
HEADER = " wants you to sign in with your Ethereum account:\n"
EIP_EXAMPLES = {
    "implicit scheme": "example.com" + HEADER + BODY,
    "explicit port": "example.com:3388" + HEADER + BODY,
    "explicit scheme": "https://example.com" + HEADER + BODY,
}


@pytest.mark.parametrize("name", sorted(EIP_EXAMPLES))
def test_eip_examples_parse_and_round_trip(name: str) -> None:
    text = EIP_EXAMPLES[name]
    m = siwe.parse(text)
    assert m.address == "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
    assert m.statement == "I accept the ExampleOrg Terms of Service: https://example.com/tos"
    assert (m.uri, m.version, m.chain_id, m.nonce) == (
        "https://example.com/login",
        "1",
        1,
        "32891756",
    )
    assert m.issued_at == "2021-09-30T16:25:24Z"
    assert m.resources == RESOURCES
    assert m.to_text() == text


def test_example_fields_scheme_and_port() -> None:
    assert siwe.parse(EIP_EXAMPLES["explicit scheme"]).scheme == "https"
    assert siwe.parse(EIP_EXAMPLES["explicit port"]).domain == "example.com:3388"
    assert siwe.parse(EIP_EXAMPLES["implicit scheme"]).scheme is None


def test_all_optional_fields_round_trip() -> None:
    m = siwe.SiweMessage(
        domain="toktok", address=Account.create().address, uri="toktok:keys", chain_id=31337,
        nonce="abcDEF12345", issued_at="2026-01-01T00:00:00Z", statement=None,
        expiration_time="2026-01-01T00:10:00.5+01:00", not_before="2025-12-31T23:59:60Z",
        request_id="req-1:@x%20y", resources=("toktok:post:0x" + "ab" * 32, "toktok:epk:AbC-_9"),
    )  # fmt: skip
    assert siwe.parse(m.to_text()) == m
    assert "\n\n\nURI: " in m.to_text()  # no statement: the grammar's two empty lines


VALID = EIP_EXAMPLES["implicit scheme"]
MALFORMED = {
    "trailing newline": VALID + "\n",
    "CRLF": VALID.replace("\n", "\r\n"),
    "lowercase address": VALID.replace(
        "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
    ),
    "bad checksum": VALID.replace("0xC02aaA39", "0xc02aaA39"),
    "short address": VALID.replace("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xC02aaA39"),
    "short nonce": VALID.replace("Nonce: 32891756", "Nonce: 1234567"),
    "nonce symbols": VALID.replace("Nonce: 32891756", "Nonce: 3289-1756"),
    "version 2": VALID.replace("Version: 1", "Version: 2"),
    "label case": VALID.replace("Chain ID: 1", "Chain Id: 1"),
    "chain not digits": VALID.replace("Chain ID: 1", "Chain ID: one"),
    "bad date": VALID.replace("2021-09-30T16:25:24Z", "2021-09-30 16:25:24"),
    "impossible date": VALID.replace("2021-09-30T16:25:24Z", "2021-02-30T16:25:24Z"),
    "no offset": VALID.replace("2021-09-30T16:25:24Z", "2021-09-30T16:25:24"),
    "fields swapped": VALID.replace("Version: 1\nChain ID: 1", "Chain ID: 1\nVersion: 1"),
    "missing nonce": VALID.replace("Nonce: 32891756\n", ""),
    "unknown field": VALID.replace("Resources:", "Foo: bar\nResources:"),
    "statement with newline-ish quote": VALID.replace("Terms of Service", 'Terms "of" Service'),
    "non-ascii statement": VALID.replace("Terms", "Térms"),
    "missing blank line": VALID.replace("Cc2\n\nI accept", "Cc2\nI accept"),
    "missing blank before URI": VALID.replace("/tos\n\nURI", "/tos\nURI"),
    "bad resource bullet": VALID.replace("- https://example.com/my", "* https://example.com/my"),
    "resource not a URI": VALID.replace("- https://example.com/my-web2-claim.json", "- not a uri"),
    "uri without scheme": VALID.replace("URI: https://example.com/login", "URI: example.com/login"),
    "bad percent": VALID.replace("/login", "/lo%zzin"),
    "bad scheme": "1https://example.com" + HEADER + BODY,
    "bad domain": "exa mple.com" + HEADER + BODY,
    "header typo": VALID.replace("sign in with", "sign-in with"),
    "expiration after request id": VALID.replace(
        "Resources:", "Request ID: 1\nExpiration Time: 2021-09-30T16:25:24Z\nResources:"
    ),
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_messages_are_refused(name: str) -> None:
    with pytest.raises(SiweParseError):
        siwe.parse(MALFORMED[name])


# ---- verification -------------------------------------------------------------------
KEY = Account.create()
NOW = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
RES = ("toktok:post:0x" + "11" * 32, "toktok:server:12D3KooWabc", "toktok:epk:AAAA")
MSG = siwe.SiweMessage(
    domain="toktok", address=KEY.address, uri="toktok:keys", chain_id=31337,
    nonce="n0nce12345", issued_at="2026-01-01T00:00:00Z",
    expiration_time="2026-01-01T00:10:00Z", resources=RES,
)  # fmt: skip
EXPECT = siwe.Expectations(
    domain="toktok", chain_id=31337, nonce="n0nce12345", resources=RES,
    max_lifetime=timedelta(minutes=10), require_expiration=True,
)  # fmt: skip


def _signed(m: siwe.SiweMessage = MSG) -> tuple[str, bytes]:
    text = m.to_text()
    return text, siwe.sign(text, KEY.key)


def test_valid_message_verifies() -> None:
    text, sig = _signed()
    assert siwe.verify(text, sig, EXPECT, NOW) == MSG


@pytest.mark.parametrize(
    ("code", "message", "expect", "now"),
    [
        ("domain", MSG, replace(EXPECT, domain="evil"), NOW),
        ("chain", MSG, replace(EXPECT, chain_id=1), NOW),
        ("nonce", MSG, replace(EXPECT, nonce="other12345"), NOW),
        ("resources", MSG, replace(EXPECT, resources=RES[:2]), NOW),
        ("expired", MSG, EXPECT, NOW + timedelta(minutes=5)),
        ("issued_at", MSG, EXPECT, NOW - timedelta(minutes=10)),
        ("lifetime", replace(MSG, expiration_time="2026-01-01T00:10:01Z"), EXPECT, NOW),
        ("expiration", replace(MSG, expiration_time=None), EXPECT, NOW),
        ("not_before", replace(MSG, not_before="2026-01-01T00:06:00Z"), EXPECT, NOW),
        ("address", MSG, replace(EXPECT, address=Account.create().address), NOW),
        ("uri", MSG, replace(EXPECT, uri="toktok:other"), NOW),
    ],
)
def test_each_field_is_checked(
    code: str, message: siwe.SiweMessage, expect: siwe.Expectations, now: datetime
) -> None:
    text, sig = _signed(message)
    with pytest.raises(SiweVerifyError) as info:
        siwe.verify(text, sig, expect, now)
    assert info.value.code == code


def test_signature_from_another_key_is_refused() -> None:
    text = MSG.to_text()
    with pytest.raises(SiweVerifyError) as info:
        siwe.verify(text, siwe.sign(text, Account.create().key), EXPECT, NOW)
    assert info.value.code == "signature"


def test_tampered_text_is_refused() -> None:
    text, sig = _signed()
    with pytest.raises(SiweVerifyError) as info:
        siwe.verify(
            text.replace("n0nce12345", "n0nce12346"), sig, replace(EXPECT, nonce="n0nce12346"), NOW
        )
    assert info.value.code == "signature"


@pytest.mark.parametrize("sig", [b"", b"\x00" * 64, b"\x00" * 65, b"\xff" * 65])
def test_malformed_signatures_are_refused(sig: bytes) -> None:
    with pytest.raises(SiweVerifyError) as info:
        siwe.verify(MSG.to_text(), sig, EXPECT, NOW)
    assert info.value.code == "signature"


def test_syntax_errors_surface_as_verify_errors() -> None:
    with pytest.raises(SiweVerifyError) as info:
        siwe.verify("garbage", b"\x00" * 65, EXPECT, NOW)
    assert info.value.code == "syntax"


def test_building_an_invalid_message_fails() -> None:
    with pytest.raises(SiweParseError):
        replace(MSG, nonce="short").to_text()
    with pytest.raises(SiweParseError):
        replace(MSG, statement="two\nlines").to_text()


def test_times_parse_with_offsets_and_leap_seconds() -> None:
    assert siwe.parse_time("2026-01-01T01:00:00+01:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert siwe.parse_time("2026-01-01t00:00:00.25z").microsecond == 250_000
    assert siwe.parse_time("2016-12-31T23:59:60Z") == datetime(2017, 1, 1, tzinfo=UTC)
    assert siwe.format_time(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


def test_eip191_digest_is_what_personal_sign_signs() -> None:
    text = MSG.to_text()
    assert bytes(Account.unsafe_sign_hash(siwe.eip191_digest(text), KEY.key).signature) == (
        siwe.sign(text, KEY.key)
    )


def test_fields_verify_without_the_signature_for_contract_wallets() -> None:
    text = MSG.to_text()
    assert siwe.verify_fields(text, EXPECT, NOW) == MSG
    other = Account.create()
    assert siwe.recover_signer(text, siwe.sign(text, other.key)) == other.address
