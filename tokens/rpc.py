"""web3 boundary: connecting, translating errors, and sending signed transactions.

Every web3/aiohttp error leaves this module as a :mod:`tokens.errors` type:
connection problems and timeouts as :class:`ChainUnavailableError`, reverts as
:class:`TransactionError` subclasses chosen by the revert reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

import aiohttp
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.exceptions import ContractLogicError, TimeExhausted, Web3Exception, Web3RPCError
from web3.types import RPCEndpoint, RPCResponse, TxParams, TxReceipt

from tokens.errors import (
    ChainError,
    ChainResponseError,
    ChainUnavailableError,
    DeadlineError,
    InsufficientFundsError,
    SlippageError,
    StateUnavailableError,
    TokenExistsError,
    TransactionError,
)

T = TypeVar("T")
Web3 = AsyncWeb3[AsyncHTTPProvider]

_REASONS: tuple[tuple[str, type[TransactionError]], ...] = (
    ("cost above max_cost", SlippageError),
    ("refund below min_refund", SlippageError),
    ("deadline passed", DeadlineError),
    ("insufficient allowance", InsufficientFundsError),
    ("exceeds balance", InsufficientFundsError),
    ("insufficient funds", InsufficientFundsError),
)


# Messages nodes use when a block's state is gone (anvil after a restart, pruned geth).
_NO_STATE = ("blockoutofrange", "header not found", "missing trie node", "state is not available")


MAX_RPC_RESPONSE = 8 * 1024 * 1024
"""Largest JSON-RPC answer read (the biggest we ask for, a page of event logs, is far less)."""


class BoundedHTTPProvider(AsyncHTTPProvider):
    """web3's HTTP provider with a cap on the answer's size and every decoding failure of
    the answer raised as :class:`ChainResponseError`.

    A lying or hostile RPC endpoint (a user may name any URL) can send deeply nested JSON:
    web3 parses it with ``json.loads``. ``tokens`` may not import ``storage``'s decoder, so
    the defence here is the size cap plus the sane recursion limit (``tokens/recursion.py``)
    that turns deep nesting into ``RecursionError``, translated below.
    """

    async def _make_request(self, method: RPCEndpoint, request_data: bytes) -> bytes:
        manager = self._request_session_manager
        url = self.endpoint_uri
        if url is None:
            raise ChainUnavailableError("no chain RPC URL is configured")
        response = await manager.async_get_response_from_post_request(
            url, data=request_data, **self.get_request_kwargs()
        )
        try:
            response.raise_for_status()
            if (response.content_length or 0) > MAX_RPC_RESPONSE:
                raise ChainResponseError(self._too_large())
            body = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > MAX_RPC_RESPONSE:
                    raise ChainResponseError(self._too_large())
            return bytes(body)
        finally:
            response.release()

    def _too_large(self) -> str:
        return f"the chain RPC answered more than {MAX_RPC_RESPONSE} bytes; check the RPC URL"

    @staticmethod
    def decode_rpc_response(raw_response: bytes) -> RPCResponse:
        try:
            return AsyncHTTPProvider.decode_rpc_response(raw_response)
        except RecursionError as exc:
            raise ChainResponseError(
                "the chain RPC answered JSON nested too deeply; check the RPC URL"
            ) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ChainResponseError(
                f"the chain RPC answered something that is not JSON ({str(exc)[:80]}); "
                "check the RPC URL"
            ) from exc


def connect(url: str, timeout: float = 10.0) -> Web3:
    """An AsyncWeb3 on an HTTP RPC URL, without silent retries (callers fail fast)."""
    provider = BoundedHTTPProvider(
        url,
        request_kwargs={"timeout": aiohttp.ClientTimeout(total=timeout)},
        exception_retry_configuration=None,
    )
    return AsyncWeb3(provider)


async def disconnect(w3: Web3) -> None:
    with suppress(aiohttp.ClientError, OSError, Web3Exception):
        await w3.provider.disconnect()


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return str(message).removeprefix("execution reverted: ").strip()


def translate(exc: BaseException, what: str) -> ChainError:
    """Map a web3/aiohttp error raised while doing `what` onto our error tree."""
    if isinstance(exc, aiohttp.ClientError | OSError | TimeoutError | TimeExhausted):
        return ChainUnavailableError(
            f"{what}: chain RPC unreachable or too slow ({exc}); "
            "check the RPC URL or start the devnet"
        )
    reason = _reason(exc)
    lowered = reason.lower()
    if any(needle in lowered for needle in _NO_STATE):
        return StateUnavailableError(f"{what}: the node has no state for that block ({reason})")
    if "already has a token" in reason:
        return TokenExistsError(f"{what}: this creator already has a token")
    for needle, kind in _REASONS:
        if needle in reason.lower():
            return kind(f"{what}: {reason}", reason)
    if isinstance(exc, ContractLogicError | Web3RPCError):
        return TransactionError(f"{what}: {reason or 'reverted'}", reason)
    return ChainError(f"{what}: {exc}")


@asynccontextmanager
async def rpc_errors(what: str) -> AsyncIterator[None]:
    """Translate third-party errors raised inside the block."""
    try:
        yield
    except ChainError:
        raise
    except (TimeoutError, aiohttp.ClientError, OSError, Web3Exception, ValueError) as exc:
        raise translate(exc, what) from exc


async def call(what: str, awaitable: Awaitable[T]) -> T:
    async with rpc_errors(what):
        return await awaitable
    raise AssertionError("unreachable")  # pragma: no cover


class TxSender:
    """Signs and sends transactions for one account, keeping the nonce locally.

    Transactions from one sender are serialised by a lock for nonce assignment only, so
    several can be in flight; a failed send resynchronises the nonce from the chain.
    """

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        chain_id: int,
        receipt_timeout: float = 60.0,
        poll_interval: float = 0.2,
        gas_margin: float = 1.25,
    ) -> None:
        self._w3 = w3
        self.account = account
        self._chain_id = chain_id
        self._receipt_timeout = receipt_timeout
        self._poll = poll_interval
        self._gas_margin = gas_margin
        self._nonce: int | None = None
        self._lock = asyncio.Lock()

    @property
    def address(self) -> str:
        return str(self.account.address)

    async def _fees(self) -> tuple[int, int]:
        block = await self._w3.eth.get_block("latest")
        base = int(block.get("baseFeePerGas", 0) or 0)
        tip = int(await self._w3.eth.max_priority_fee)
        return 2 * base + tip, tip

    async def send(self, to: str | None, data: str | bytes, what: str, value: int = 0) -> HexBytes:
        """Estimate gas (surfacing revert reasons), sign, broadcast; returns the tx hash."""
        async with rpc_errors(what), self._lock:
            tx: dict[str, Any] = {
                "from": self.address,
                "data": HexBytes(data),
                "value": value,
                "chainId": self._chain_id,
            }
            if to is not None:
                tx["to"] = to
            gas = await self._w3.eth.estimate_gas(TxParams(**tx))  # type: ignore[typeddict-item]
            max_fee, tip = await self._fees()
            gas_limit = int(gas * self._gas_margin) + 10_000
            for attempt in range(2):
                if self._nonce is None:
                    self._nonce = await self._w3.eth.get_transaction_count(
                        self.account.address, "pending"
                    )
                tx.update(
                    gas=gas_limit, maxFeePerGas=max_fee, maxPriorityFeePerGas=tip,
                    nonce=self._nonce, type=2,
                )  # fmt: skip
                signed = self.account.sign_transaction(tx)
                try:
                    tx_hash = await self._w3.eth.send_raw_transaction(signed.raw_transaction)
                except Web3RPCError as exc:
                    self._nonce = None  # resync from the chain
                    stale = ("nonce", "underpriced", "already known")
                    if attempt == 0 and any(word in str(exc).lower() for word in stale):
                        continue  # another sender used this nonce: retry once, resynced
                    raise
                except BaseException:
                    self._nonce = None
                    raise
                self._nonce += 1
                break
            return tx_hash

    async def wait(self, tx_hash: HexBytes, what: str) -> TxReceipt:
        """Wait for the receipt; a reverted transaction raises :class:`TransactionError`."""
        async with rpc_errors(what):
            receipt = await self._w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self._receipt_timeout, poll_latency=self._poll
            )
        if receipt["status"] != 1:
            raise TransactionError(f"{what}: transaction {tx_hash.to_0x_hex()} reverted")
        return receipt

    async def transact(
        self, to: str | None, data: str | bytes, what: str, value: int = 0
    ) -> TxReceipt:
        return await self.wait(await self.send(to, data, what, value), what)
