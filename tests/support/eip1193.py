"""A browser wallet for Chromium tests: ``window.ethereum`` (EIP-1193) whose requests go through
a Playwright binding to a Python signer. The signer holds a private key (eth-account), signs
``personal_sign`` messages and transactions, and sends the transactions to the devnet, as a real
wallet would; the page sees only the provider interface.

Implemented: ``eth_requestAccounts``, ``eth_accounts``, ``eth_chainId``, ``personal_sign``,
``eth_sendTransaction``, ``wallet_switchEthereumChain`` (to the devnet's chain only; any other
answers 4902, unknown chain), and the ``accountsChanged`` / ``chainChanged`` events. The wallet
starts on another chain (1), so a page must switch it before it sends anything. Errors carry
EIP-1193 codes (4100 unauthorized, 4200 unsupported, 4901 wrong chain, 4902 unknown chain).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from playwright.sync_api import BrowserContext, Page
from web3 import Web3

PROVIDER_JS = """
(() => {
  const listeners = {};
  const emit = (name, data) => {
    for (const fn of (listeners[name] || []).slice()) fn(data);
  };
  window.ethereum = {
    isToktokTestWallet: true,
    async request({ method, params }) {
      const answer = await window.__toktokTestWallet(method, params ?? []);
      for (const [name, data] of answer.events || []) emit(name, data);
      if (answer.error) {
        const error = new Error(answer.error.message);
        error.code = answer.error.code;
        throw error;
      }
      return answer.result;
    },
    on(name, fn) { (listeners[name] ||= []).push(fn); return this; },
    removeListener(name, fn) {
      listeners[name] = (listeners[name] || []).filter((f) => f !== fn);
      return this;
    },
    __emit: emit,
  };
})();
"""


_TRANSFER_ABI = [
    {
        "name": "transfer",
        "type": "function",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "to", "type": "address"}, {"name": "value", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    }
]


class WalletRpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class BrowserWallet:
    """The Python side of the provider: one account on the devnet at ``rpc_url``."""

    key: str
    rpc_url: str
    chain_id: int
    current_chain: int = 1
    connected: bool = False
    calls: list[str] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)  # personal_sign messages, as text
    sent: list[str] = field(default_factory=list)  # transaction hashes

    def __post_init__(self) -> None:
        self.account = Account.from_key(self.key)
        self.w3 = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 30}))

    @property
    def address(self) -> str:
        return str(self.account.address)

    def install(self, context: BrowserContext) -> None:
        """Give every page of ``context`` this wallet as ``window.ethereum``."""
        context.expose_binding("__toktokTestWallet", self._binding)
        context.add_init_script(PROVIDER_JS)

    def lock(self, page: Page) -> None:
        """The user locks the wallet: it shares no account any more (``accountsChanged []``)."""
        self.connected = False
        page.evaluate("() => window.ethereum.__emit('accountsChanged', [])")

    def transfer(self, token: str, to: str, amount: int) -> None:
        """The user sends ``amount`` base units of an ERC-20 to ``to`` from the wallet's own
        screen (no page involved); returns once mined."""
        contract = self.w3.eth.contract(address=Web3.to_checksum_address(token), abi=_TRANSFER_ABI)
        data = contract.encode_abi("transfer", args=[Web3.to_checksum_address(to), amount])
        tx_hash = self._sign_and_send({"to": token, "data": data})
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)  # type: ignore[arg-type]
        assert receipt["status"] == 1, f"transfer {tx_hash} reverted"

    def _binding(self, _source: Any, method: str, params: list[Any]) -> dict[str, Any]:
        self.calls.append(method)
        events: list[tuple[str, Any]] = []
        try:
            result = self._answer(method, params, events)
        except WalletRpcError as exc:
            return {"error": {"code": exc.code, "message": str(exc)}, "events": events}
        return {"result": result, "events": events}

    def _answer(self, method: str, params: list[Any], events: list[tuple[str, Any]]) -> Any:
        if method == "eth_requestAccounts":
            if not self.connected:
                self.connected = True
                events.append(("accountsChanged", [self.address]))
            return [self.address]
        if method == "eth_accounts":
            return [self.address] if self.connected else []
        if method == "eth_chainId":
            return hex(self.current_chain)
        if method == "wallet_switchEthereumChain":
            wanted = int(params[0]["chainId"], 16)
            if wanted != self.chain_id:
                raise WalletRpcError(4902, f"unknown chain {wanted}")
            if wanted != self.current_chain:
                self.current_chain = wanted
                events.append(("chainChanged", hex(wanted)))
            return None
        if method == "personal_sign":
            return self._personal_sign(params)
        if method == "eth_sendTransaction":
            return self._send(params[0])
        raise WalletRpcError(4200, f"{method} is not supported by the test wallet")

    def _authorized(self, address: str) -> None:
        if not self.connected or address.lower() != self.address.lower():
            raise WalletRpcError(4100, f"{address} is not an account shared with this page")

    def _personal_sign(self, params: list[Any]) -> str:
        message, address = params
        self._authorized(address)
        text = bytes.fromhex(message[2:]).decode()
        self.signed.append(text)
        signed = Account.sign_message(encode_defunct(text=text), self.key)
        return "0x" + bytes(signed.signature).hex()

    def _send(self, tx: dict[str, Any]) -> str:
        self._authorized(tx["from"])
        if self.current_chain != self.chain_id:
            raise WalletRpcError(4901, "the wallet is on another chain")
        return self._sign_and_send(tx)

    def _sign_and_send(self, tx: dict[str, Any]) -> str:
        request: dict[str, Any] = {
            "from": self.address,
            "to": Web3.to_checksum_address(tx["to"]),
            "data": tx["data"],
            "value": int(tx.get("value", "0x0"), 16),
            "chainId": self.chain_id,
        }
        gas = self.w3.eth.estimate_gas(request)  # type: ignore[arg-type]
        base = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0) or 0)
        tip = int(self.w3.eth.max_priority_fee)
        request.update(
            gas=gas + gas // 4,
            maxFeePerGas=2 * base + tip,
            maxPriorityFeePerGas=tip,
            nonce=self.w3.eth.get_transaction_count(self.account.address, "pending"),
            type=2,
        )
        signed = self.account.sign_transaction(request)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction).to_0x_hex()
        self.sent.append(tx_hash)
        return tx_hash
