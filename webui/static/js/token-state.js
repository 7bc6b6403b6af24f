// The page's one source of truth for creator facts (profile, follow state, token price, supply,
// reserve). Views read and watch them here; a trade, a wallet.tx event or a token.trade event
// invalidates them, and every watcher gets the fresh facts without a reload.
import * as api from "./api.js";

const facts = new Map(); // lower-case address -> Promise<facts | null>
const watchers = new Map(); // lower-case address -> Set<fn>
const spelled = new Map(); // lower-case address -> the address as first asked for
let listening = false;

function key(address) {
  return String(address).toLowerCase();
}

/** The creator's facts (GET /creators/{address}), fetched once until invalidated; null when
 * they cannot be had. */
export function creatorFacts(address) {
  listen();
  const k = key(address);
  if (!spelled.has(k)) spelled.set(k, address);
  if (!facts.has(k))
    facts.set(
      k,
      api.get(`/creators/${address}`).catch(() => null),
    );
  return facts.get(k);
}

/** Call `fn(facts)` now and after every refresh of this creator's facts; returns the unwatch
 * function. A watcher that returns false is dropped (its element left the page). */
export function watchCreator(address, fn) {
  const k = key(address);
  if (!watchers.has(k)) watchers.set(k, new Set());
  watchers.get(k).add(fn);
  deliver(k, address, fn);
  return () => watchers.get(k)?.delete(fn);
}

function deliver(k, address, fn) {
  const pending = creatorFacts(address);
  pending.then((info) => {
    if (facts.get(k) !== pending) return; // invalidated meanwhile: the newer fetch delivers
    if (info && fn(info) === false) watchers.get(k)?.delete(fn);
  });
}

/** Forget the facts of one creator (or of every creator) and refresh what is watched. */
export function invalidate(address) {
  const keys = address ? [key(address)] : [...facts.keys()];
  for (const k of keys) facts.delete(k);
  for (const k of keys) {
    for (const fn of watchers.get(k) ?? []) deliver(k, spelled.get(k) ?? k, fn);
  }
}

function listen() {
  if (listening) return;
  listening = true;
  // The user's own trades (wallet.tx) and trades of anyone the peer saw on the chain
  // (token.trade) move prices: drop every cached price, watchers refetch.
  api.on("wallet.tx", () => invalidate());
  api.on("token.trade", () => invalidate());
}
