// The browser wallet (EIP-1193, window.ethereum). Connected, its account is the page's one
// holder address: trades and unlocks use it, the peer builds the transactions and the key
// request and the wallet signs them (the peer never sees its key). Disconnected, the peer's own
// wallet is the holder. docs/ARCHITECTURE.md, "External wallet".
import * as api from "./api.js";
import { toWhole } from "./units.js";

const REMEMBER = "toktok-browser-wallet"; // sessionStorage: reconnect without a prompt on reload

let account = null;
let provider = null;
let connecting = false; // connect() sets the account once the chain is right
const watchers = new Set();

/** Whether the browser has a wallet to connect. */
export function available() {
  return Boolean(window.ethereum?.request);
}

/** The connected account (checksum as the wallet gave it), or null: the peer's own wallet. */
export function holder() {
  return account;
}

/** `fn(account)` now and on every change; returns the unwatch function. */
export function watchWallet(fn) {
  watchers.add(fn);
  fn(account);
  return () => watchers.delete(fn);
}

function set(next) {
  account = next || null;
  if (account) sessionStorage.setItem(REMEMBER, "1");
  else sessionStorage.removeItem(REMEMBER);
  for (const fn of watchers) fn(account);
}

function attach() {
  if (provider) return provider;
  provider = window.ethereum;
  if (!provider?.request) throw new Error("No browser wallet found in this browser.");
  provider.on?.("accountsChanged", (accounts) => {
    if (!connecting) set(accounts?.[0] ?? null);
  });
  provider.on?.("chainChanged", () => {
    chainChecked = false;
  });
  return provider;
}

/** Ask the wallet for an account (its own prompt) and put it on the peer's chain. */
export async function connect() {
  const wallet = attach();
  connecting = true;
  try {
    const accounts = await wallet.request({ method: "eth_requestAccounts" });
    if (!accounts?.length) throw new Error("The wallet shared no account.");
    await ensureChain();
    set(accounts[0]);
  } finally {
    connecting = false;
  }
  return account;
}

/** Back to the peer's own wallet (the browser wallet keeps its permission). */
export function disconnect() {
  set(null);
}

/** After a reload: the account the wallet still shares with this page, without a prompt. */
export async function restore() {
  if (!sessionStorage.getItem(REMEMBER) || !available()) return;
  try {
    const accounts = await attach().request({ method: "eth_accounts" });
    set(accounts?.[0] ?? null);
  } catch {
    set(null);
  }
}

let chainChecked = false;

/** The wallet on the peer's chain: switch (or add, if the wallet does not know it). */
async function ensureChain() {
  if (chainChecked) return;
  const wallet = attach();
  const chain = (await api.get("/status")).chain ?? {};
  if (!chain.chain_id) throw new Error("This peer has no chain: nothing to trade on.");
  const want = `0x${chain.chain_id.toString(16)}`;
  const have = await wallet.request({ method: "eth_chainId" });
  if (Number.parseInt(have, 16) !== chain.chain_id) {
    try {
      await wallet.request({ method: "wallet_switchEthereumChain", params: [{ chainId: want }] });
    } catch (error) {
      if (error?.code !== 4902 || !chain.rpc_url) throw error;
      await wallet.request({
        method: "wallet_addEthereumChain",
        params: [
          {
            chainId: want,
            chainName: `Toktok (chain ${chain.chain_id})`,
            rpcUrls: [chain.rpc_url],
            nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
          },
        ],
      });
    }
  }
  chainChecked = true;
}

/** The wallet's refusal or failure in words (EIP-1193 code 4001: the user said no). */
export function explainWallet(error) {
  if (error?.code === 4001) return "You declined in your wallet; nothing was sent.";
  if (error instanceof api.ApiError) return api.explain(error);
  return error?.message ?? String(error);
}

/** Buy or sell `baseAmount` base units of `token` from the browser wallet within `bound`
 * (max_cost / min_refund): the wallet sends each transaction the peer built, in order, and
 * the peer reads each one back once mined. Returns the trade ({cost|refund, amount, ...}). */
export async function trade(token, side, baseAmount, bound) {
  const from = account;
  if (!from) throw new Error("Connect a browser wallet first.");
  await ensureChain();
  const wallet = attach();
  const built = await api.post(`/tokens/${token}/${side}/transactions`, {
    amount: toWhole(baseAmount),
    holder: from,
    [side === "buy" ? "max_cost" : "min_refund"]: String(bound),
  });
  let mined = null;
  for (const tx of built.transactions) {
    const hash = await wallet.request({
      method: "eth_sendTransaction",
      params: [{ from: tx.from, to: tx.to, data: tx.data, value: tx.value, chainId: tx.chainId }],
    });
    mined = await api.get(`/transactions/${hash}`);
    if (!mined.ok) throw new Error(`The wallet's transaction (${tx.what}) was reverted.`);
  }
  if (!mined?.trade) throw new Error("The transaction made no trade.");
  return mined.trade;
}

function hexUtf8(text) {
  const bytes = new TextEncoder().encode(text);
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Unlock a premium clip with the browser wallet's signature: the peer's key-request message
 * (its domain is this page's host, so the wallet shows no phishing warning), signed with
 * personal_sign; a key server that cannot release passes on to the next one's message.
 * `wait`: the wallet just bought, so the peer waits out the holding window first. */
export async function unlock(postId, { wait = false } = {}) {
  const from = account;
  if (!from) throw new Error("Connect a browser wallet first.");
  const wallet = attach();
  let step = await api.post(`/clips/${postId}/unlock/challenge`, { holder: from, wait });
  while (!step.unlocked) {
    const signature = await wallet.request({
      method: "personal_sign",
      params: [hexUtf8(step.message), from],
    });
    const answer = await api.post(`/clips/${postId}/unlock/signature`, {
      challenge: step.challenge,
      signature,
    });
    if (answer.unlocked) return answer;
    step = answer.next;
  }
  return step;
}
