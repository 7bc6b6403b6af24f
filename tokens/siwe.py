"""Strict EIP-4361 (Sign-In with Ethereum) messages: build, parse, verify.

Pure (no I/O). The parser follows the EIP's ABNF exactly: line order, case-sensitive
field labels, no trailing newline, EIP-55 checksummed address, statement limited to
RFC 3986 reserved/unreserved characters and spaces, ``nonce`` of 8+ alphanumerics,
RFC 3339 date-times, RFC 3986 URIs (scheme ":" then URI characters with valid
percent-encoding), ``request-id`` of pchars. Anything else raises
:class:`~tokens.errors.SiweParseError`. ``verify`` checks every field against what the
relying party expects and the EIP-191 signature, raising
:class:`~tokens.errors.SiweVerifyError` with a ``code`` per failed check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from tokens.errors import SiweParseError, SiweVerifyError

HEADER_SUFFIX = " wants you to sign in with your Ethereum account:"

_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_GEN_DELIMS = r":/?#\[\]@"
_PCT = r"%[0-9A-Fa-f]{2}"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*\Z")
_USERINFO = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_REG_NAME = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})+"
_IP_LITERAL = r"\[[0-9A-Fa-f:.]+\]"
_AUTHORITY = re.compile(rf"(?:{_USERINFO}@)?(?:{_IP_LITERAL}|{_REG_NAME})(?::[0-9]*)?\Z")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")
_STATEMENT = re.compile(rf"[{_UNRESERVED}{_GEN_DELIMS}{_SUB_DELIMS} ]*\Z")
_URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+\-.]*:(?:[{_UNRESERVED}{_GEN_DELIMS}{_SUB_DELIMS}]|{_PCT})*\Z"
)
_CHAIN_ID = re.compile(r"[0-9]+\Z")
_NONCE = re.compile(r"[A-Za-z0-9]{8,}\Z")
_REQUEST_ID = re.compile(rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})*\Z")
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+\-]\d{2}:\d{2})\Z"
)


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    scheme: str | None = None
    statement: str | None = None
    version: str = "1"
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default_factory=tuple)

    def to_text(self) -> str:
        """The canonical message text (validated: raises SiweParseError on bad fields)."""
        text = _render(self)
        parse(text)
        return text


def _render(m: SiweMessage) -> str:
    prefix = f"{m.scheme}://" if m.scheme is not None else ""
    lines = [f"{prefix}{m.domain}{HEADER_SUFFIX}", m.address, ""]
    if m.statement is not None:
        lines.append(m.statement)
    lines += [
        "", f"URI: {m.uri}", f"Version: {m.version}", f"Chain ID: {m.chain_id}",
        f"Nonce: {m.nonce}", f"Issued At: {m.issued_at}",
    ]  # fmt: skip
    if m.expiration_time is not None:
        lines.append(f"Expiration Time: {m.expiration_time}")
    if m.not_before is not None:
        lines.append(f"Not Before: {m.not_before}")
    if m.request_id is not None:
        lines.append(f"Request ID: {m.request_id}")
    if m.resources:
        lines.append("Resources:")
        lines += [f"- {r}" for r in m.resources]
    return "\n".join(lines)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with seconds precision, e.g. ``2021-09-30T16:25:24Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 date-time (``T``/``Z`` in either case, leap second 60 allowed)."""
    m = _DATE_TIME.match(value)
    if not m:
        raise SiweParseError(f"not an RFC 3339 date-time: {value!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac, offset = m.group(7) or "", m.group(8)
    leap = second == 60
    try:
        base = datetime(year, month, day, hour, minute, 59 if leap else second, tzinfo=UTC)
        if offset not in ("Z", "z"):
            sign = 1 if offset[0] == "+" else -1
            oh, om = int(offset[1:3]), int(offset[4:6])
            if oh > 23 or om > 59:
                raise ValueError("offset out of range")
            base -= sign * timedelta(hours=oh, minutes=om)
    except ValueError as exc:
        raise SiweParseError(f"invalid date-time {value!r}: {exc}") from exc
    micro = int((frac[1:] + "000000")[:6]) if frac else 0
    return base + timedelta(microseconds=micro, seconds=1 if leap else 0)


def _expect(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.match(value):
        raise SiweParseError(f"invalid {what}: {value!r}")
    return value


def _field(lines: list[str], index: int, label: str) -> str:
    if index >= len(lines) or not lines[index].startswith(label):
        found = lines[index] if index < len(lines) else "end of message"
        raise SiweParseError(f"expected {label.strip()!r} at line {index + 1}, found {found!r}")
    return lines[index][len(label) :]


def parse(text: str) -> SiweMessage:
    """Parse a message exactly as the EIP-4361 ABNF allows."""
    if "\r" in text:
        raise SiweParseError("line breaks must be LF only")
    lines = text.split("\n")
    if not lines[0].endswith(HEADER_SUFFIX):
        raise SiweParseError("first line must end with the sign-in preamble")
    origin = lines[0][: -len(HEADER_SUFFIX)]
    scheme: str | None = None
    if "://" in origin:
        scheme, origin = origin.split("://", 1)
        _expect(_SCHEME, scheme, "scheme")
    domain = _expect(_AUTHORITY, origin, "domain")
    if len(lines) < 3:
        raise SiweParseError("message is truncated after the address")
    address = _expect(_ADDRESS, lines[1], "address")
    if to_checksum_address(address) != address:
        raise SiweParseError(f"address is not EIP-55 checksummed: {address}")
    if lines[2] != "":
        raise SiweParseError("expected an empty line after the address")
    i = 3
    statement: str | None = None
    if i < len(lines) and lines[i] != "":
        statement = _expect(_STATEMENT, lines[i], "statement")
        i += 1
    elif i + 1 < len(lines) and lines[i] == "" and lines[i + 1] == "":
        statement = ""  # present but empty: the grammar allows it
        i += 1
    if i >= len(lines) or lines[i] != "":
        raise SiweParseError("expected an empty line before 'URI:'")
    i += 1
    uri = _expect(_URI, _field(lines, i, "URI: "), "uri")
    version = _field(lines, i + 1, "Version: ")
    if version != "1":
        raise SiweParseError(f"unsupported version {version!r}")
    chain = _expect(_CHAIN_ID, _field(lines, i + 2, "Chain ID: "), "chain id")
    nonce = _expect(_NONCE, _field(lines, i + 3, "Nonce: "), "nonce")
    issued_at = _field(lines, i + 4, "Issued At: ")
    parse_time(issued_at)
    i += 5
    optional: dict[str, str | None] = {}
    for key, label in (
        ("expiration_time", "Expiration Time: "),
        ("not_before", "Not Before: "),
        ("request_id", "Request ID: "),
    ):
        optional[key] = None
        if i < len(lines) and lines[i].startswith(label):
            optional[key] = lines[i][len(label) :]
            i += 1
    for key in ("expiration_time", "not_before"):
        value = optional[key]
        if value is not None:
            parse_time(value)
    if optional["request_id"] is not None:
        _expect(_REQUEST_ID, optional["request_id"], "request id")
    resources: list[str] = []
    if i < len(lines) and lines[i] == "Resources:":
        i += 1
        while i < len(lines):
            if not lines[i].startswith("- "):
                raise SiweParseError(f"resource lines must start with '- ': {lines[i]!r}")
            resources.append(_expect(_URI, lines[i][2:], "resource"))
            i += 1
    if i != len(lines):
        raise SiweParseError(f"unexpected content at line {i + 1}: {lines[i]!r}")
    return SiweMessage(
        domain=domain, address=address, uri=uri, chain_id=int(chain), nonce=nonce,
        issued_at=issued_at, scheme=scheme, statement=statement, version=version,
        expiration_time=optional["expiration_time"], not_before=optional["not_before"],
        request_id=optional["request_id"], resources=tuple(resources),
    )  # fmt: skip


def sign(text: str, private_key: bytes | str) -> bytes:
    """EIP-191 personal-sign signature (65 bytes) over the message text."""
    signed = Account.sign_message(encode_defunct(text=text), private_key)
    return bytes(signed.signature)


@dataclass(frozen=True)
class Expectations:
    """What the relying party requires; ``None`` skips a check."""

    domain: str
    chain_id: int
    nonce: str
    scheme: str | None = None
    uri: str | None = None
    address: str | None = None
    resources: tuple[str, ...] | None = None
    max_lifetime: timedelta | None = None  # expiration - issued-at upper bound
    require_expiration: bool = False
    clock_skew: timedelta = timedelta(seconds=0)


def verify(text: str, signature: bytes, expect: Expectations, now: datetime) -> SiweMessage:
    """Parse `text` and check every field and the EOA signature; returns the message.

    For contract wallets use :func:`verify_fields`, then :func:`recover_signer`, and when
    the signer is not the message's address check EIP-1271 on chain with
    :func:`eip191_digest` (``ChainClient.is_valid_signature``).
    """
    m = verify_fields(text, expect, now)
    signer = recover_signer(text, signature)
    if signer.lower() != m.address.lower():
        raise SiweVerifyError("signature", f"signed by {signer}, not by {m.address}")
    return m


def eip191_digest(text: str) -> bytes:
    """The EIP-191 (personal_sign) hash of the message: what EIP-1271 wallets check."""
    s = encode_defunct(text=text)
    return keccak(b"\x19" + s.version + s.header + s.body)


def recover_signer(text: str, signature: bytes) -> str:
    """The EOA that produced `signature` over `text` (SiweVerifyError if malformed)."""
    if len(signature) != 65:
        raise SiweVerifyError("signature", "signature must be 65 bytes")
    try:
        return str(Account.recover_message(encode_defunct(text=text), signature=signature))
    except Exception as exc:  # eth-keys raises several types for malformed signatures
        raise SiweVerifyError("signature", f"malformed signature: {exc}") from exc


def verify_fields(text: str, expect: Expectations, now: datetime) -> SiweMessage:
    """Parse `text` and check every field except the signature; returns the message."""
    try:
        m = parse(text)
    except SiweParseError as exc:
        raise SiweVerifyError("syntax", str(exc)) from exc

    def fail(code: str, message: str) -> SiweVerifyError:
        return SiweVerifyError(code, message)

    if m.domain != expect.domain:
        raise fail("domain", f"message is for {m.domain!r}, expected {expect.domain!r}")
    if expect.scheme is not None and m.scheme not in (None, expect.scheme):
        raise fail("scheme", f"scheme {m.scheme!r} is not {expect.scheme!r}")
    if expect.uri is not None and m.uri != expect.uri:
        raise fail("uri", f"uri {m.uri!r} is not {expect.uri!r}")
    if m.chain_id != expect.chain_id:
        raise fail("chain", f"chain id {m.chain_id} is not {expect.chain_id}")
    if m.nonce != expect.nonce:
        raise fail("nonce", "nonce does not match the issued one")
    if expect.address is not None and m.address.lower() != expect.address.lower():
        raise fail("address", f"signed for {m.address}, expected {expect.address}")
    issued = parse_time(m.issued_at)
    if issued > now + expect.clock_skew:
        raise fail("issued_at", "issued-at is in the future")
    if m.expiration_time is None:
        if expect.require_expiration:
            raise fail("expiration", "an expiration time is required")
    else:
        expires = parse_time(m.expiration_time)
        if now >= expires + expect.clock_skew:
            raise fail("expired", "the message has expired")
        if expect.max_lifetime is not None and expires - issued > expect.max_lifetime:
            raise fail("lifetime", f"expiration is more than {expect.max_lifetime} after issue")
    if m.not_before is not None and now + expect.clock_skew < parse_time(m.not_before):
        raise fail("not_before", "the message is not valid yet")
    if expect.resources is not None and m.resources != expect.resources:
        raise fail("resources", "resources differ from the expected ones")
    return m
