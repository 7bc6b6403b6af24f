"""Async chain client on ``web3.AsyncWeb3``: TOK, the factory and creator tokens.

Works against any EVM RPC given a :class:`~tokens.deployment.Deployment` (from the devnet
or from config). Reads need no account; writes need a ``LocalAccount``. Buys respect a
per-session spend limit and default slippage and deadline; nonces and gas are handled by
one :class:`~tokens.rpc.TxSender` per client, so repeated transactions do not collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress, HexStr
from web3 import AsyncWeb3
from web3.contract import AsyncContract
from web3.logs import DISCARD
from web3.types import BlockIdentifier, TxParams, TxReceipt

from tokens import codecheck, curve
from tokens.artifacts import load_artifact
from tokens.deployment import Deployment
from tokens.errors import ChainError, NoCreatorTokenError, SpendLimitError, TransactionError
from tokens.rpc import TxSender, call, connect, disconnect, rpc_errors

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
# Default slippage bound of buys and sells: 0.5 %. A sandwich (an attacker's buy just before
# the victim's and sell just after) can take up to the bound of the victim's spend; at 1 %
# and the default fees it took 0.87 % (tests/contracts/test_sandwich.py). The quote is exact
# at its block, so only trades mined in between move the price: 0.5 % leaves room for a few.
DEFAULT_SLIPPAGE_BPS = 50
# Trades of at least this many whole TOK get a warning (CLI and API): the most a sandwich
# can take grows with the trade.
DEFAULT_LARGE_TRADE_TOK = 100
MAX_UINT = 2**256 - 1
_BALANCE_OF = bytes.fromhex("70a08231")  # balanceOf(address)
# keccak256("Transfer(address,address,uint256)"), the ERC-20 Transfer topic
_TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
_IS_VALID_SIGNATURE = bytes.fromhex("1626ba7e")  # EIP-1271 isValidSignature(bytes32,bytes)


@dataclass(frozen=True)
class ClientOptions:
    rpc_url: str
    deployment: Deployment
    timeout: float = 10.0  # seconds per RPC request
    receipt_timeout: float = 60.0
    poll_interval: float = 0.25
    slippage_bps: int = DEFAULT_SLIPPAGE_BPS  # default tolerance for buy/sell bounds
    deadline_seconds: int = 600  # default deadline after the latest block's timestamp
    spend_limit: int | None = None  # TOK base units one client may spend on buys; None = none
    log_chunk: int = 5_000  # blocks per eth_getLogs request
    build_dir: Path | None = None


@dataclass(frozen=True)
class TokenInfo:
    address: str
    creator: str
    name: str
    symbol: str
    total_supply: int
    reserve: int
    spot_price: int


@dataclass(frozen=True)
class Trade:
    """A mined buy or sell, from its event."""

    kind: str  # "buy" | "sell"
    trader: str
    amount: int
    total: int  # TOK paid (buy) or received (sell)
    curve_amount: int
    creator_fee: int
    protocol_fee: int
    supply: int
    price: int
    block: int
    tx_hash: str


@dataclass(frozen=True)
class PricePoint:
    """One point of a token's price history (for the UI chart)."""

    block: int
    timestamp: int
    price: int
    supply: int
    trade: Trade


def slippage_bound(total: int, slippage_bps: int, side: str) -> int:
    """``max_cost`` of a buy quoted at `total` (rounded down), or ``min_refund`` of a sale."""
    sign = 1 if side == "buy" else -1
    return total * (10_000 + sign * slippage_bps) // 10_000


def large_trade_warning(
    total: int, bound: int, large_trade_tok: int = DEFAULT_LARGE_TRADE_TOK
) -> str | None:
    """A warning for a trade quoted at `total` TOK base units of at least `large_trade_tok`
    whole TOK, whose ``max_cost`` / ``min_refund`` is `bound`; None for smaller trades.

    A sandwich can make the trade worse by up to the distance between quote and bound.
    """
    if large_trade_tok <= 0 or total < large_trade_tok * 10**18:
        return None
    return (
        f"large trade ({curve.to_whole(total)} TOK): someone trading just before and after "
        f"it (a sandwich) can make it up to {curve.to_whole(abs(bound - total))} TOK worse "
        "within its slippage bound; lower the bound or split the trade"
    )


def checksum(address: str) -> ChecksumAddress:
    try:
        return AsyncWeb3.to_checksum_address(address)
    except (ValueError, TypeError) as exc:
        raise ChainError(f"not an Ethereum address: {address!r}") from exc


class ChainClient:
    """TOK, factory and creator-token operations for one (optional) account."""

    def __init__(self, options: ClientOptions, account: LocalAccount | None = None) -> None:
        self._options = options
        self._w3 = connect(options.rpc_url, options.timeout)
        self._account = account
        self._sender: TxSender | None = None
        d = options.deployment
        self._tok = self._w3.eth.contract(
            address=checksum(d.tok), abi=load_artifact("TOK", options.build_dir).abi
        )
        self._factory = self._w3.eth.contract(
            address=checksum(d.factory),
            abi=load_artifact("CreatorTokenFactory", options.build_dir).abi,
        )
        self._token_abi = load_artifact("CreatorToken", options.build_dir).abi
        self.spent = 0  # TOK base units spent on buys by this client (the session)
        self._counted: set[str] = set()  # browser-wallet buys already in ``spent``
        self._params: dict[str, curve.CurveParams] = {}  # immutable per token: safe to cache

    async def __aenter__(self) -> ChainClient:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await disconnect(self._w3)

    @property
    def deployment(self) -> Deployment:
        return self._options.deployment

    @property
    def slippage_bps(self) -> int:
        """The default slippage bound of this client's buys and sells."""
        return self._options.slippage_bps

    @property
    def address(self) -> str:
        if self._account is None:
            raise ChainError("no wallet loaded: this operation needs an account")
        return str(self._account.address)

    def _tx(self) -> TxSender:
        if self._sender is None:
            if self._account is None:
                raise ChainError("no wallet loaded: this operation needs an account")
            self._sender = TxSender(
                self._w3, self._account, self.deployment.chain_id,
                self._options.receipt_timeout, self._options.poll_interval,
            )  # fmt: skip
        return self._sender

    @property
    def tok_contract(self) -> AsyncContract:
        return self._tok

    def token(self, address: str) -> AsyncContract:
        return self._w3.eth.contract(address=checksum(address), abi=self._token_abi)

    # -- chain -------------------------------------------------------------------------
    async def verify_deployment(self) -> None:
        """Refuse a chain whose id or contract code is not this deployment's (codecheck)."""
        await codecheck.verify_deployment(
            self._w3, self.deployment, self._options.build_dir, self._options.rpc_url
        )

    async def chain_id(self) -> int:
        return await call("read chain id", self._w3.eth.chain_id)

    async def block_number(self) -> int:
        return await call("read block number", self._w3.eth.block_number)

    async def _deadline(self, deadline: int | None) -> int:
        if deadline is not None:
            return deadline
        block = await call("read latest block", self._w3.eth.get_block("latest"))
        return int(block["timestamp"]) + self._options.deadline_seconds

    # -- TOK ---------------------------------------------------------------------------
    async def tok_balance(
        self, holder: str | None = None, block: BlockIdentifier = "latest"
    ) -> int:
        who = checksum(holder) if holder else self.address
        fn = self._tok.functions.balanceOf(who)
        return int(await call("read TOK balance", fn.call(block_identifier=block)))

    async def tok_allowance(self, owner: str, spender: str) -> int:
        fn = self._tok.functions.allowance(checksum(owner), checksum(spender))
        return int(await call("read TOK allowance", fn.call()))

    async def approve_tok(self, spender: str, amount: int) -> TxReceipt:
        data = self._tok.encode_abi("approve", args=[checksum(spender), amount])
        return await self._tx().transact(self._tok.address, data, "approve TOK")

    async def mint_tok(self, to: str, amount: int) -> TxReceipt:
        """Devnet faucet: only TOK's owner may mint."""
        data = self._tok.encode_abi("mint", args=[checksum(to), amount])
        return await self._tx().transact(self._tok.address, data, "mint TOK")

    # -- factory -----------------------------------------------------------------------
    async def token_of(self, creator: str) -> str | None:
        fn = self._factory.functions.token_of(checksum(creator))
        address = str(await call("read token of creator", fn.call()))
        return None if int(address, 16) == 0 else checksum(address)

    async def creator_of(self, token: str) -> str | None:
        fn = self._factory.functions.creator_of(checksum(token))
        address = str(await call("read creator of token", fn.call()))
        return None if int(address, 16) == 0 else checksum(address)

    async def require_token_of(self, creator: str) -> str:
        token = await self.token_of(creator)
        if token is None:
            raise NoCreatorTokenError(f"{creator} has no creator token; create one first")
        return token

    async def create_token(self, name: str, symbol: str) -> str:
        """Create the account's creator token; returns its address."""
        if not 0 < len(name) <= 25 or not 0 < len(symbol) <= 5:
            raise ChainError("token name must be 1-25 characters and symbol 1-5")
        data = self._factory.encode_abi("create_token", args=[name, symbol])
        await self._tx().transact(self._factory.address, data, "create creator token")
        return await self.require_token_of(self.address)

    async def fee_recipient(self, token: str) -> str:
        """Where the token's creator fees go now (the creator unless rotated)."""
        fn = self.token(token).functions.fee_recipient()
        return checksum(str(await call("read fee recipient", fn.call())))

    async def set_fee_recipient(self, recipient: str) -> str:
        """Send the future creator fees of the account's token to `recipient` (through the
        factory; only the token's creator may); returns the account's token."""
        token = await self.require_token_of(self.address)
        data = self._factory.encode_abi("set_fee_recipient", args=[checksum(recipient)])
        await self._tx().transact(self._factory.address, data, "rotate the fee recipient")
        return token

    # -- creator tokens ----------------------------------------------------------------
    async def token_info(self, token: str) -> TokenInfo:
        c = self.token(token)
        async with rpc_errors("read token info"):
            return TokenInfo(
                address=str(c.address),
                creator=checksum(await c.functions.creator().call()),
                name=str(await c.functions.name().call()),
                symbol=str(await c.functions.symbol().call()),
                total_supply=int(await c.functions.totalSupply().call()),
                reserve=int(await c.functions.reserve().call()),
                spot_price=int(await c.functions.spot_price().call()),
            )

    async def balance_of(self, token: str, holder: str, block: BlockIdentifier = "latest") -> int:
        """Balance at `block`; 0 at blocks before the token existed.

        The hot path of every holding check: one raw ``eth_call`` with hand-encoded
        ``balanceOf(address)`` calldata (web3's contract-call machinery costs about twice
        the RPC round trip).
        """
        address = checksum(token)
        data = _BALANCE_OF + bytes(12) + bytes.fromhex(checksum(holder)[2:])
        tx: TxParams = {"to": address, "data": data}
        raw = await call("read token balance", self._w3.eth.call(tx, block))
        if len(raw) == 32:
            return int.from_bytes(raw, "big")
        code = await call("read code", self._w3.eth.get_code(address, block))
        if len(code) == 0:
            return 0  # the token did not exist yet at that block
        raise ChainError(f"{token} did not answer balanceOf with a uint256")

    async def head_block(self) -> tuple[int, str]:
        """The head's number and hash, from one block read (the holding rule pins to it)."""
        block = await call("read block", self._w3.eth.get_block("latest"))
        return int(block["number"]), "0x" + bytes(block["hash"]).hex()

    async def block_hash(self, block: int) -> str:
        """The hash of canonical block `block`."""
        header = await call("read block", self._w3.eth.get_block(block))
        return "0x" + bytes(header["hash"]).hex()

    async def balance_at(self, token: str, holder: str, block_hash: str) -> int:
        """Balance after the block with hash `block_hash` (EIP-1898: no reorg mix-up)."""
        return await self.balance_of(token, holder, HexStr(block_hash))

    async def transferred_out(self, token: str, holder: str, first: int, last: int) -> int:
        """Sum of the holder's outgoing ``Transfer`` values in blocks ``first..last``
        (one filtered ``eth_getLogs`` per ``log_chunk`` blocks)."""
        topic_from = "0x" + "00" * 12 + checksum(holder)[2:].lower()
        total = 0
        step = self._options.log_chunk
        for start in range(first, last + 1, step):
            end = min(start + step - 1, last)
            logs = await call(
                "read transfer events",
                self._w3.eth.get_logs(
                    {
                        "address": checksum(token),
                        "fromBlock": start,
                        "toBlock": end,
                        "topics": [_TRANSFER_TOPIC, topic_from],
                    }
                ),
            )
            for log in logs:
                data = bytes(log["data"])
                if len(data) != 32:
                    raise ChainError(f"{token} emitted a Transfer without a uint256 value")
                total += int.from_bytes(data, "big")
        return total

    async def transfers_to(
        self, holder: str, first: int, last: int
    ) -> list[tuple[str, str, int, int, int]]:
        """``(emitter, sender, value, block, log index)`` of every ERC-20 ``Transfer`` to
        `holder` in blocks ``first..last``, from any contract (callers keep creator tokens)."""
        topic_to = "0x" + "00" * 12 + checksum(holder)[2:].lower()
        found: list[tuple[str, str, int, int, int]] = []
        step = self._options.log_chunk
        for start in range(first, last + 1, step):
            end = min(start + step - 1, last)
            params: Any = {
                "fromBlock": start,
                "toBlock": end,
                "topics": [_TRANSFER_TOPIC, None, topic_to],
            }
            for log in await call("read transfer events", self._w3.eth.get_logs(params)):
                data, topics = bytes(log["data"]), log["topics"]
                if len(data) != 32 or len(topics) != 3:
                    continue  # not an ERC-20 Transfer (ERC-721 has the value as a topic)
                sender = checksum("0x" + bytes(topics[1])[-20:].hex())
                found.append(
                    (
                        checksum(log["address"]), sender, int.from_bytes(data, "big"),
                        int(log["blockNumber"]), int(log["logIndex"]),
                    )
                )  # fmt: skip
        return found

    async def is_valid_signature(
        self, account: str, digest: bytes, signature: bytes, block: BlockIdentifier = "latest"
    ) -> bool:
        """EIP-1271: does contract `account` accept `signature` over `digest` at `block`?

        False for accounts without code, reverts and wrong answers; RPC failures raise
        (callers fail closed).
        """
        address = checksum(account)
        code = await call("read code", self._w3.eth.get_code(address, block))
        if len(code) == 0:
            return False
        data = _IS_VALID_SIGNATURE + abi_encode(["bytes32", "bytes"], [digest, signature])
        tx: TxParams = {"to": address, "data": data}
        try:
            raw = await call("EIP-1271 check", self._w3.eth.call(tx, block))
        except TransactionError:
            return False
        return raw[:4] == _IS_VALID_SIGNATURE and len(raw) == 32

    async def curve_params(self, token: str) -> curve.CurveParams:
        """The token's curve and fee parameters (immutables, read once per token)."""
        address = checksum(token)
        if address not in self._params:
            f = self.token(address).functions
            async with rpc_errors("read curve parameters"):
                self._params[address] = curve.CurveParams(
                    base_price=int(await f.base_price().call()),
                    slope=int(await f.slope().call()),
                    creator_fee_bps=int(await f.creator_fee_bps().call()),
                    protocol_fee_bps=int(await f.protocol_fee_bps().call()),
                )
        return self._params[address]

    async def _supply(self, token: str, block: int) -> int:
        fn = self.token(token).functions.totalSupply()
        return int(await call("read supply", fn.call(block_identifier=block)))

    async def quote_buy(self, token: str, amount: int) -> curve.Quote:
        """The on-chain quote with its fee breakdown (both read at one block)."""
        block = await self.block_number()
        fn = self.token(token).functions.quote_buy(amount)
        total = int(await call("quote buy", fn.call(block_identifier=block)))
        params = await self.curve_params(token)
        quote = curve.quote_buy(params, await self._supply(token, block), amount)
        if quote.total != total:
            raise ChainError("the local curve math disagrees with the chain's quote")
        return quote

    async def quote_sell(self, token: str, amount: int) -> curve.Quote:
        block = await self.block_number()
        fn = self.token(token).functions.quote_sell(amount)
        total = int(await call("quote sell", fn.call(block_identifier=block)))
        params = await self.curve_params(token)
        quote = curve.quote_sell(params, await self._supply(token, block), amount)
        if quote.total != total:
            raise ChainError("the local curve math disagrees with the chain's quote")
        return quote

    async def buy(
        self, token: str, amount: int, max_cost: int | None = None, deadline: int | None = None
    ) -> Trade:
        """Buy `amount` base units; max_cost defaults to quote + slippage_bps."""
        c = self.token(token)
        if max_cost is None:
            quoted = int(await call("quote buy", c.functions.quote_buy(amount).call()))
            max_cost = slippage_bound(quoted, self._options.slippage_bps, "buy")
        self.check_spend(max_cost)
        if await self.tok_allowance(self.address, str(c.address)) < max_cost:
            await self.approve_tok(str(c.address), max_cost)
        data = c.encode_abi("buy", args=[amount, max_cost, await self._deadline(deadline)])
        receipt = await self._tx().transact(str(c.address), data, "buy creator token")
        trade = self._trade_from_receipt(c, receipt, "Buy")
        self.spent += trade.total
        return trade

    def check_spend(self, max_cost: int) -> None:
        """Refuse a buy that could take the session's spending over the limit (buys signed
        here and, counted by :meth:`count_spent`, those a browser wallet signed)."""
        limit = self._options.spend_limit
        if limit is not None and self.spent + max_cost > limit:
            raise SpendLimitError(
                f"buy could spend {max_cost} TOK base units; session limit {limit}, "
                f"already spent {self.spent}"
            )

    def count_spent(self, tx_hash: str, total: int) -> None:
        """Add a buy mined from another wallet of this session (once per transaction)."""
        if tx_hash not in self._counted:
            self._counted.add(tx_hash)
            self.spent += total

    async def deadline(self, deadline: int | None = None) -> int:
        """``deadline``, or the default: the latest block's time plus ``deadline_seconds``."""
        return await self._deadline(deadline)

    async def receipt(self, tx_hash: str, timeout: float) -> TxReceipt:  # noqa: ASYNC109
        """The receipt of a transaction sent by anyone, waiting up to ``timeout`` s."""
        async with rpc_errors("wait for a transaction"):
            return await self._w3.eth.wait_for_transaction_receipt(
                HexStr(tx_hash), timeout=timeout, poll_latency=self._options.poll_interval
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def trades_in_receipt(self, receipt: TxReceipt) -> list[tuple[str, Trade]]:
        """``(token, trade)`` of every Buy/Sell in a receipt emitted by a creator token of
        the factory (anything else can emit the same events)."""
        events = self._w3.eth.contract(abi=self._token_abi).events
        topics = {str(events[name].topic): name for name in ("Buy", "Sell")}
        found: list[tuple[str, Trade]] = []
        for entry in receipt["logs"]:
            raw = entry["topics"]
            name = topics.get("0x" + bytes(raw[0]).hex()) if raw else None
            if name is None or await self.creator_of(str(entry["address"])) is None:
                continue
            trade = _trade(name, events[name].process_log(entry))
            found.append((checksum(entry["address"]), trade))
        return found

    async def transfer(self, token: str, to: str, amount: int) -> TxReceipt:
        """ERC-20 ``transfer`` of a creator token to another address."""
        c = self.token(token)
        data = c.encode_abi("transfer", args=[checksum(to), amount])
        return await self._tx().transact(str(c.address), data, "transfer creator token")

    async def sell(
        self, token: str, amount: int, min_refund: int | None = None, deadline: int | None = None
    ) -> Trade:
        """Sell `amount` base units; min_refund defaults to quote - slippage_bps."""
        c = self.token(token)
        if min_refund is None:
            quoted = int(await call("quote sell", c.functions.quote_sell(amount).call()))
            min_refund = slippage_bound(quoted, self._options.slippage_bps, "sell")
        data = c.encode_abi("sell", args=[amount, min_refund, await self._deadline(deadline)])
        receipt = await self._tx().transact(str(c.address), data, "sell creator token")
        return self._trade_from_receipt(c, receipt, "Sell")

    def _trade_from_receipt(self, c: AsyncContract, receipt: TxReceipt, event: str) -> Trade:
        logs = c.events[event]().process_receipt(receipt, errors=DISCARD)
        if len(logs) != 1:
            raise TransactionError(f"{event.lower()}: no {event} event in the receipt")
        return _trade(event, logs[0])

    async def _logs(self, event: Any, from_block: int, to_block: int) -> list[Any]:
        out: list[Any] = []
        step = self._options.log_chunk
        for start in range(from_block, to_block + 1, step):
            end = min(start + step - 1, to_block)
            out.extend(await call("read events", event.get_logs(from_block=start, to_block=end)))
        return out

    async def trades_between(self, first: int, last: int) -> list[tuple[str, Trade]]:
        """``(token address, trade)`` of every Buy and Sell event in blocks ``first..last``,
        oldest first, from ANY contract that emits the creator token's events: callers keep
        only tokens the factory registered (``creator_of``). One ``eth_getLogs`` per event and
        ``log_chunk`` blocks, filtered by the event topic alone."""
        if last < first:
            return []
        events = self._w3.eth.contract(abi=self._token_abi).events
        found: list[tuple[int, int, str, Trade]] = []
        step = self._options.log_chunk
        for name in ("Buy", "Sell"):
            event = events[name]
            for start in range(first, last + 1, step):
                end = min(start + step - 1, last)
                params: Any = {"fromBlock": start, "toBlock": end, "topics": [event.topic]}
                for entry in await call("read trade events", self._w3.eth.get_logs(params)):
                    log = event.process_log(entry)
                    trade = _trade(name, log)
                    found.append(
                        (trade.block, int(log["logIndex"]), checksum(log["address"]), trade)
                    )
        found.sort(key=lambda row: (row[0], row[1]))
        return [(str(token), trade) for _block, _index, token, trade in found]

    async def holders(self, token: str) -> dict[str, int]:
        """Every address with a positive balance, replayed from Transfer events."""
        head = await self.block_number()
        c = self.token(token)
        balances: dict[str, int] = {}
        for log in await self._logs(c.events.Transfer, self.deployment.start_block, head):
            a = log["args"]
            value = int(a["value"])
            if int(a["sender"], 16):
                balances[a["sender"]] = balances.get(a["sender"], 0) - value
            if int(a["receiver"], 16):
                balances[a["receiver"]] = balances.get(a["receiver"], 0) + value
        return {k: v for k, v in sorted(balances.items()) if v > 0}

    async def block_timestamp(self, block: int) -> int:
        header = await call("read block", self._w3.eth.get_block(block))
        return int(header["timestamp"])

    async def price_history(self, token: str) -> list[PricePoint]:
        """Price after every buy and sell, oldest first, with block timestamps."""
        head = await self.block_number()
        c = self.token(token)
        start = self.deployment.start_block
        logs = await self._logs(c.events.Buy, start, head) + await self._logs(
            c.events.Sell, start, head
        )
        logs.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
        stamps: dict[int, int] = {}
        points: list[PricePoint] = []
        for log in logs:
            block = int(log["blockNumber"])
            if block not in stamps:
                header = await call("read block", self._w3.eth.get_block(block))
                stamps[block] = int(header["timestamp"])
            trade = _trade(log["event"], log)
            points.append(PricePoint(block, stamps[block], trade.price, trade.supply, trade))
        return points


def _trade(event: str, log: Any) -> Trade:
    a = log["args"]
    buy = event == "Buy"
    return Trade(
        kind="buy" if buy else "sell",
        trader=checksum(a["buyer"] if buy else a["seller"]),
        amount=int(a["amount"]),
        total=int(a["cost"] if buy else a["refund"]),
        curve_amount=int(a["curve_cost"] if buy else a["curve_refund"]),
        creator_fee=int(a["creator_fee"]),
        protocol_fee=int(a["protocol_fee"]),
        supply=int(a["supply"]),
        price=int(a["price"]),
        block=int(log["blockNumber"]),
        tx_hash=log["transactionHash"].to_0x_hex(),
    )
