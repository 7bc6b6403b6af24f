"""Third-party chain errors become the package's typed errors."""

from __future__ import annotations

import aiohttp
import pytest
from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError

from tokens import errors
from tokens.rpc import rpc_errors, translate


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (aiohttp.ClientConnectionError("refused"), errors.ChainUnavailableError),
        (TimeoutError(), errors.ChainUnavailableError),
        (ConnectionRefusedError(), errors.ChainUnavailableError),
        (TimeExhausted("slow"), errors.ChainUnavailableError),
        (
            ContractLogicError("execution reverted: creator token: cost above max_cost"),
            errors.SlippageError,
        ),
        (
            ContractLogicError("execution reverted: creator token: refund below min_refund"),
            errors.SlippageError,
        ),
        (
            ContractLogicError("execution reverted: creator token: deadline passed"),
            errors.DeadlineError,
        ),
        (
            ContractLogicError("execution reverted: erc20: insufficient allowance"),
            errors.InsufficientFundsError,
        ),
        (
            ContractLogicError("execution reverted: erc20: burn amount exceeds balance"),
            errors.InsufficientFundsError,
        ),
        (
            ContractLogicError("execution reverted: factory: creator already has a token"),
            errors.TokenExistsError,
        ),
        (ContractLogicError("execution reverted: something else"), errors.TransactionError),
        (Web3RPCError("insufficient funds for gas * price + value"), errors.InsufficientFundsError),
        (ValueError("odd"), errors.ChainError),
        (
            Web3RPCError("BlockOutOfRangeError: block height is 10 but requested was 8"),
            errors.StateUnavailableError,
        ),
        (Web3RPCError("header not found"), errors.StateUnavailableError),
    ],
)
def test_errors_are_translated(exc: Exception, kind: type[errors.ChainError]) -> None:
    translated = translate(exc, "doing it")
    assert type(translated) is kind
    assert str(translated).startswith("doing it")


def test_revert_reason_is_kept() -> None:
    err = translate(ContractLogicError("execution reverted: creator token: deadline passed"), "buy")
    assert isinstance(err, errors.TransactionError)
    assert err.reason == "creator token: deadline passed"


async def test_context_manager_chains_the_original_error() -> None:
    original = aiohttp.ClientConnectionError("down")
    with pytest.raises(errors.ChainUnavailableError) as info:
        async with rpc_errors("read"):
            raise original
    assert info.value.__cause__ is original


async def test_own_errors_pass_through_untouched() -> None:
    own = errors.NoCreatorTokenError("none")
    with pytest.raises(errors.NoCreatorTokenError) as info:
        async with rpc_errors("read"):
            raise own
    assert info.value is own
