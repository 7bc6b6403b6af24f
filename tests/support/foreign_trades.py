"""A contract that is not a creator token but emits the creator token's ``Buy`` and ``Sell``
events (the same signatures): anything on a chain can. Hand-assembled EVM (no compiler run in
the test): every call logs ``Buy`` and then ``Sell`` with ``topic1`` = the caller and the call
data as the event data (seven ABI words: amount, cost or refund, curve amount, creator fee,
protocol fee, supply, price).
"""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

BUY_TOPIC = keccak(text="Buy(address,uint256,uint256,uint256,uint256,uint256,uint256,uint256)")
SELL_TOPIC = keccak(text="Sell(address,uint256,uint256,uint256,uint256,uint256,uint256,uint256)")


def _log2(topic: bytes) -> bytes:
    # CALLER (topic1), PUSH32 topic (topic0), CALLDATASIZE (size), PUSH1 0 (offset), LOG2
    return b"\x33" + b"\x7f" + topic + b"\x36" + b"\x60\x00" + b"\xa2"


# CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY: memory[0:size] = call data; two logs; STOP
RUNTIME = b"\x36\x60\x00\x60\x00\x37" + _log2(BUY_TOPIC) + _log2(SELL_TOPIC) + b"\x00"
# PUSH1 len PUSH1 12 PUSH1 0 CODECOPY PUSH1 len PUSH1 0 RETURN: deploy RUNTIME (after these 12)
INIT = bytes([0x60, len(RUNTIME), 0x60, 12, 0x60, 0, 0x39, 0x60, len(RUNTIME), 0x60, 0, 0xF3])
INIT_CODE = "0x" + (INIT + RUNTIME).hex()


def fake_trade_data(amount: int) -> str:
    """Call data: the seven words every fake event carries."""
    words = [amount, amount, amount, amount // 20, 0, amount, 10**16]
    return "0x" + encode(["uint256"] * 7, words).hex()
