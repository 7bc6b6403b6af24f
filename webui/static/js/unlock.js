// The lock overlay of a premium clip: unlock with the tokens you hold, or buy what is missing
// (the peer's buy plan, confirmed by the user) and unlock.
import * as api from "./api.js";
import { h, announce, formatUnits } from "./dom.js";
import { icon } from "./icons.js";
import { creatorFacts, invalidate } from "./token-state.js";
import { walletLine } from "./wallet-line.js";
import { explainWallet, holder, trade as walletTrade, unlock as walletUnlock } from "./wallet.js";

const SLIPPAGE_BPS = 50; // 0.5 %, as wallet.slippage_bps

export function unlockPanel(item, onUnlocked) {
  const message = h(
    "p.lock-message",
    { role: "status", "aria-live": "polite" },
    `Premium clip: hold ${formatUnits(item.min_balance)} tokens of this creator to watch.`,
  );
  const buttons = h("div.lock-buttons");
  const unlockButton = h("button.primary", { type: "button", onclick: () => start() }, "Unlock");
  buttons.append(unlockButton);
  const cost = h("p.lock-cost", {});
  const panel = h(
    "div.lock-panel",
    {},
    icon("lock", 40),
    message,
    cost,
    buttons,
    walletLine(`-${item.id.slice(2, 10)}`),
  );
  message.dataset.initial = message.textContent;
  describe(item, message, cost);

  async function start() {
    unlockButton.disabled = true;
    message.textContent = "Checking your balance…";
    let plan;
    try {
      plan = await api.get(`/clips/${item.id}/buy-plan`, {
        slippage: SLIPPAGE_BPS,
        holder: holder() ?? undefined,
      });
    } catch (error) {
      unlockButton.disabled = false;
      message.textContent = api.explain(error);
      return;
    }
    if (plan) offerBuy(plan);
    else unlock({ buy: false });
  }

  function offerBuy(plan) {
    const amount = formatUnits(plan.amount);
    message.textContent = `You need ${amount} more tokens of this creator.`;
    const confirm = h(
      "button.primary",
      { type: "button", onclick: () => unlock({ buy: true, max_cost: plan.max_cost }, plan) },
      `Buy ${amount} to unlock (up to ${formatUnits(plan.max_cost)} TOK)`,
    );
    const cancel = h("button", { type: "button", onclick: () => reset() }, "Cancel");
    buttons.replaceChildren(
      h(
        "p.quote",
        {},
        `Quote ${formatUnits(plan.quote)} TOK with fees; at most 1\u00a0% more if the price moves.`,
      ),
      confirm,
      cancel,
    );
    confirm.focus();
  }

  function reset() {
    unlockButton.disabled = false;
    buttons.replaceChildren(unlockButton);
  }

  async function unlock(body, plan) {
    for (const b of buttons.querySelectorAll("button")) b.disabled = true;
    message.textContent = body.buy
      ? "Buying and asking the creator's key server…"
      : "Asking the creator's key server…";
    const from = holder(); // a browser wallet buys and signs, else the peer's own wallet
    try {
      if (from) {
        if (body.buy) {
          message.textContent = "Confirm the buy in your browser wallet…";
          await walletTrade(plan.token, "buy", plan.amount, plan.max_cost);
          invalidate(item.creator);
        }
        message.textContent = "Sign the unlock request in your browser wallet…";
        // wait: a balance bought moments ago counts once the holding window has passed
        await walletUnlock(item.id, { wait: true });
      } else await api.post(`/clips/${item.id}/unlock`, body);
      message.textContent = "Unlocked.";
      announce("Clip unlocked");
      onUnlocked();
    } catch (error) {
      reset();
      message.textContent = explainWallet(error);
    }
  }

  return panel;
}

/** Name the token and what unlocking costs before anything is pressed: the creator's token
 * (symbol and name) and the peer's buy plan (null: the user holds enough). */
async function describe(item, message, cost) {
  const [info, plan] = await Promise.all([
    creatorFacts(item.creator),
    api
      .get(`/clips/${item.id}/buy-plan`, { slippage: SLIPPAGE_BPS, holder: holder() ?? undefined })
      .catch(() => undefined),
  ]);
  const token = info?.token;
  if (token && message.dataset.initial === message.textContent) {
    message.textContent = `Premium clip: hold ${formatUnits(item.min_balance)} ${token.symbol} (${token.name}) to watch.`;
  }
  const symbol = token?.symbol ?? "tokens";
  if (plan === null) cost.textContent = `You hold enough ${symbol}: unlocking costs nothing.`;
  else if (plan) {
    cost.textContent = `You need ${formatUnits(plan.amount)} more ${symbol}: about ${formatUnits(plan.quote)} TOK with fees.`;
  }
}
