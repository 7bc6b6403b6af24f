"""Expected runtime code from our artifacts (tokens.codecheck), without a chain."""

from __future__ import annotations

import pytest

from tokens.artifacts import Artifact, ImmutableSlot, load_artifact
from tokens.codecheck import ExpectedCode, describe_difference, encode_immutable, runtime_code
from tokens.errors import ArtifactError

ADDR = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_strings_are_a_length_word_then_padded_bytes() -> None:
    encoded = encode_immutable("n", ImmutableSlot(0, 64, "String[5]"), "TOK")
    assert encoded[:32] == (3).to_bytes(32, "big")
    assert encoded[32:] == b"TOK".ljust(32, b"\0")


def test_addresses_and_integers_are_one_word() -> None:
    assert encode_immutable("a", ImmutableSlot(0, 32, "address"), ADDR.lower()) == bytes.fromhex(
        ADDR[2:]
    ).rjust(32, b"\0")
    assert encode_immutable("u", ImmutableSlot(0, 32, "uint256"), 5) == (5).to_bytes(32, "big")


@pytest.mark.parametrize(
    ("slot", "value"),
    [
        (ImmutableSlot(0, 64, "String[5]"), "x" * 33),
        (ImmutableSlot(0, 32, "uint256"), -1),
        (ImmutableSlot(0, 32, "uint256"), 2**256),
        (ImmutableSlot(0, 32, "bytes32"), b"short"),
        (ImmutableSlot(0, 32, "address"), 7),
    ],
)
def test_values_that_do_not_fit_are_refused(slot: ImmutableSlot, value: object) -> None:
    with pytest.raises(ArtifactError):
        encode_immutable("x", slot, value)  # type: ignore[arg-type]


def test_every_immutable_of_the_factory_needs_a_value() -> None:
    factory = load_artifact("CreatorTokenFactory")
    assert set(factory.code_layout) >= {"blueprint", "payment_token", "slope"}
    with pytest.raises(ArtifactError, match="no expected value"):
        runtime_code(factory, {})


def test_runtime_code_is_the_artifact_runtime_then_the_immutables() -> None:
    art = Artifact(
        name="X", abi=[], bytecode="0x", blueprint_bytecode="0x", compiler="",
        runtime_bytecode="0x6001", code_layout={"b": ImmutableSlot(32, 32, "uint256"),
                                                "a": ImmutableSlot(0, 32, "address")},
    )  # fmt: skip
    code = runtime_code(art, {"a": ADDR, "b": 9})
    assert code == bytes.fromhex("6001") + bytes.fromhex(ADDR[2:]).rjust(32, b"\0") + (9).to_bytes(
        32, "big"
    )


def test_a_difference_is_located_in_the_immutable_it_falls_in() -> None:
    layout = {"slope": ImmutableSlot(0, 32, "uint256")}
    expected = ExpectedCode("F", ADDR, b"\x60\x01" + (1).to_bytes(32, "big"), 2, layout)
    other = b"\x60\x01" + (2).to_bytes(32, "big")
    assert "immutable slope" in describe_difference(expected, other)
    assert "in the contract's code" in describe_difference(expected, b"\x60\x02" + other[2:])
    assert describe_difference(expected, b"") == "there is no code at that address"
