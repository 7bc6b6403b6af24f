"""Is the code at a deployment's addresses Toktok's own code?

A network profile names addresses; a peer must not trust them. Before a peer uses a chain it
computes, from its *own* artifacts (``contracts/build``) and the deployment's parameters, the
exact runtime code each address must hold, and compares byte for byte:

- TOK and the factory: the runtime bytecode followed by the immutables data section. Vyper
  appends immutables after the runtime code at the offsets of the artifact's ``codeLayout``;
  their values follow from the constructor arguments, the chain id and the contract's own
  address, all of which the client knows.
- The CreatorToken blueprint: the ERC-5202 preamble (``0xFE7100``) followed by the initcode.

Nothing here trusts a hash or a value the profile supplies: a profile pointing at other code
fails with :class:`ForeignCodeError`, a profile on another chain with
:class:`ChainMismatchError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from tokens.artifacts import Artifact, ImmutableSlot, load_artifact
from tokens.deployment import Deployment
from tokens.errors import ArtifactError, ChainMismatchError, ForeignCodeError
from tokens.rpc import Web3, call

BLUEPRINT_PREAMBLE = bytes.fromhex("fe7100")  # ERC-5202, version 0, no data section

# The constructor arguments of contracts/TOK.vy (erc20.__init__): a change there must change
# these, or every deployment of the new code is refused (tests/contracts check it).
TOK_NAME = "Toktok"
TOK_SYMBOL = "TOK"
TOK_DECIMALS = 18
TOK_EIP712_NAME = "Toktok TOK"
TOK_EIP712_VERSION = "1"

_EIP712_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)

ImmutableValue = int | str | bytes


@dataclass(frozen=True)
class ExpectedCode:
    """What one address of a deployment must hold."""

    label: str
    address: str
    code: bytes
    runtime_length: int  # bytes before the immutables section (the whole code for a blueprint)
    layout: Mapping[str, ImmutableSlot]


def encode_immutable(name: str, slot: ImmutableSlot, value: ImmutableValue) -> bytes:
    """One immutable as Vyper lays it out in the code's data section."""
    kind = slot.type
    if kind.startswith(("String[", "Bytes[")):
        data = value.encode() if isinstance(value, str) else value
        if not isinstance(data, bytes | bytearray) or 32 + len(data) > slot.length:
            raise ArtifactError(f"immutable {name} ({kind}) cannot hold {value!r}")
        return len(data).to_bytes(32, "big") + bytes(data).ljust(slot.length - 32, b"\0")
    if slot.length != 32:
        raise ArtifactError(f"immutable {name}: unsupported layout {kind} of {slot.length} bytes")
    if kind == "address" and isinstance(value, str):
        return bytes.fromhex(to_checksum_address(value)[2:]).rjust(32, b"\0")
    if kind == "bytes32" and isinstance(value, bytes) and len(value) == 32:
        return value
    if kind.startswith("uint") and isinstance(value, int) and 0 <= value < 2**256:
        return value.to_bytes(32, "big")
    raise ArtifactError(f"immutable {name}: cannot encode {value!r} as {kind}")


def runtime_code(artifact: Artifact, values: Mapping[str, ImmutableValue]) -> bytes:
    """Runtime bytecode plus the immutables section, from every immutable's value."""
    if not artifact.runtime_bytecode:
        raise ArtifactError(f"artifact {artifact.name} has no runtime bytecode; rebuild it")
    layout = artifact.code_layout
    if missing := sorted(set(layout) - set(values)):
        raise ArtifactError(f"{artifact.name}: no expected value for immutables {missing}")
    if extra := sorted(set(values) - set(layout)):
        raise ArtifactError(f"{artifact.name}: immutables {extra} are not in the artifact")
    size = max((s.offset + s.length for s in layout.values()), default=0)
    section = bytearray(size)
    for name, slot in layout.items():
        section[slot.offset : slot.offset + slot.length] = encode_immutable(
            name, slot, values[name]
        )
    return bytes.fromhex(artifact.runtime_bytecode.removeprefix("0x")) + bytes(section)


def _tok_values(chain_id: int, address: str, cap: int) -> dict[str, ImmutableValue]:
    hashed_name = keccak(text=TOK_EIP712_NAME)
    hashed_version = keccak(text=TOK_EIP712_VERSION)
    separator = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [_EIP712_DOMAIN_TYPEHASH, hashed_name, hashed_version, chain_id, address],
        )
    )
    domain = "erc20.eip712_domain_separator."
    return {
        f"{domain}_CACHED_DOMAIN_SEPARATOR": separator,
        f"{domain}_CACHED_CHAIN_ID": chain_id,
        f"{domain}_CACHED_SELF": address,
        f"{domain}_NAME": TOK_EIP712_NAME,
        f"{domain}_HASHED_NAME": hashed_name,
        f"{domain}_VERSION": TOK_EIP712_VERSION,
        f"{domain}_HASHED_VERSION": hashed_version,
        "erc20.name": TOK_NAME,
        "erc20.symbol": TOK_SYMBOL,
        "erc20.decimals": TOK_DECIMALS,
        "cap": cap,
    }


def _factory_values(d: Deployment) -> dict[str, ImmutableValue]:
    return {
        "blueprint": d.blueprint,
        "payment_token": d.tok,
        "treasury": d.treasury,
        "base_price": d.base_price,
        "slope": d.slope,
        "creator_fee_bps": d.creator_fee_bps,
        "protocol_fee_bps": d.protocol_fee_bps,
    }


def expected_codes(deployment: Deployment, build_dir: Path | None = None) -> list[ExpectedCode]:
    """The exact code of TOK, the blueprint and the factory of this deployment."""
    if not deployment.blueprint or not deployment.treasury or not deployment.tok_cap:
        raise ForeignCodeError(
            "the deployment lacks the blueprint or treasury address or TOK's cap, so its code "
            "cannot be checked; write the profile again with 'toktok network create' or "
            "'network export'"
        )
    tok = load_artifact("TOK", build_dir)
    token = load_artifact("CreatorToken", build_dir)
    factory = load_artifact("CreatorTokenFactory", build_dir)
    tok_code = runtime_code(
        tok, _tok_values(deployment.chain_id, deployment.tok, deployment.tok_cap)
    )
    blueprint_code = BLUEPRINT_PREAMBLE + bytes.fromhex(token.bytecode.removeprefix("0x"))
    factory_code = runtime_code(factory, _factory_values(deployment))
    return [
        ExpectedCode("TOK", deployment.tok, tok_code, _runtime_len(tok), tok.code_layout),
        ExpectedCode(
            "CreatorToken blueprint", deployment.blueprint, blueprint_code, len(blueprint_code), {}
        ),
        ExpectedCode(
            "CreatorTokenFactory",
            deployment.factory,
            factory_code,
            _runtime_len(factory),
            factory.code_layout,
        ),
    ]


def _runtime_len(artifact: Artifact) -> int:
    return len(artifact.runtime_bytecode.removeprefix("0x")) // 2


def describe_difference(expected: ExpectedCode, actual: bytes) -> str:
    """Where the code on chain departs from ours, in words."""
    if not actual:
        return "there is no code at that address"
    first = next(
        (i for i, (a, b) in enumerate(zip(expected.code, actual, strict=False)) if a != b),
        min(len(expected.code), len(actual)),
    )
    where = "in the contract's code"
    if first >= expected.runtime_length:
        offset = first - expected.runtime_length
        names = [n for n, s in expected.layout.items() if s.offset <= offset < s.offset + s.length]
        where = f"in immutable {names[0]}" if names else "after the immutables"
    return (
        f"{len(actual)} bytes on chain, {len(expected.code)} expected; "
        f"first difference at byte {first} ({where})"
    )


async def verify_deployment(
    w3: Web3, deployment: Deployment, build_dir: Path | None = None, rpc_url: str = ""
) -> None:
    """Refuse a chain whose id or code is not this deployment's, built from our artifacts."""
    chain_id = await call("read chain id", w3.eth.chain_id)
    if chain_id != deployment.chain_id:
        where = f" at {rpc_url}" if rpc_url else ""
        raise ChainMismatchError(
            f"the chain{where} has chain id {chain_id}, the network profile says "
            f"{deployment.chain_id}: wrong RPC URL or wrong profile"
        )
    for expected in expected_codes(deployment, build_dir):
        actual = bytes(
            await call(
                f"read code of {expected.label}",
                w3.eth.get_code(to_checksum_address(expected.address)),
            )
        )
        if actual != expected.code:
            raise ForeignCodeError(
                f"the code at {expected.label} {expected.address} is not Toktok's "
                f"{expected.label} with this profile's parameters "
                f"({describe_difference(expected, actual)}); refusing to use this network: "
                "a profile pointing at other code could take payments or keys"
            )
