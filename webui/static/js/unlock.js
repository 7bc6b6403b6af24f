// The lock overlay of a premium clip: unlock with the tokens you hold, or buy N and unlock.
import * as api from "./api.js";
import { h, announce, formatUnits } from "./dom.js";
import { toBase, wholeTokensNeeded, withSlippage } from "./units.js";
import { icon } from "./icons.js";

const SLIPPAGE_BPS = 100; // 1 %

/** Read the holding requirement from a 402 answer (several spellings tolerated). */
function requirement(error, item) {
  const body = error?.body ?? {};
  const req = body.requirements ?? body.error?.requirements ?? body.error?.details ?? {};
  return {
    minBalance: req.min_balance ?? item.min_balance ?? "0",
    balance: req.balance ?? "0",
    token: req.token ?? item.token,
  };
}

export function unlockPanel(item, onUnlocked) {
  const message = h("p.lock-message", { role: "status", "aria-live": "polite" }, `Premium clip: hold ${formatUnits(item.min_balance)} tokens of this creator to watch.`);
  const buttons = h("div.lock-buttons");
  const unlockButton = h("button.primary", { type: "button", onclick: () => tryUnlock() }, "Unlock");
  buttons.append(unlockButton);
  const panel = h("div.lock-panel", {}, icon("lock", 40), message, buttons);

  async function tryUnlock() {
    unlockButton.disabled = true;
    message.textContent = "Asking the creator's key server…";
    try {
      await api.post(`/clips/${item.id}/unlock`, { buy: false });
      message.textContent = "Unlocked.";
      announce("Clip unlocked");
      onUnlocked();
    } catch (error) {
      unlockButton.disabled = false;
      if (error instanceof api.ApiError && error.status === 402) offerBuy(requirement(error, item));
      else message.textContent = api.explain(error);
    }
  }

  async function offerBuy(req) {
    const amount = wholeTokensNeeded(req.minBalance, req.balance);
    message.textContent = `You hold ${formatUnits(req.balance)} of ${formatUnits(req.minBalance)} tokens needed.`;
    let quote;
    try {
      quote = await api.get(`/tokens/${req.token}/quote`, { side: "buy", amount });
    } catch (error) {
      message.textContent = api.explain(error);
      return;
    }
    const confirm = h(
      "button.primary",
      { type: "button", onclick: () => buy(req, amount, quote, confirm) },
      `Buy ${amount} to unlock (${formatUnits(quote.cost)} TOK)`,
    );
    buttons.replaceChildren(
      h("p.quote", {}, `Cost ${formatUnits(quote.cost)} TOK incl. fees ${formatUnits(BigInt(quote.creator_fee) + BigInt(quote.protocol_fee))} TOK; max 1 % slippage.`),
      confirm,
      h("button", { type: "button", onclick: () => buttons.replaceChildren(unlockButton) }, "Cancel"),
    );
    confirm.focus();
  }

  async function buy(req, amount, quote, button) {
    button.disabled = true;
    message.textContent = "Buying…";
    try {
      toBase(amount);
      await api.post(`/tokens/${req.token}/buy`, {
        amount,
        max_cost: withSlippage(quote.cost, SLIPPAGE_BPS, "buy"),
        confirm: true,
      });
      buttons.replaceChildren(unlockButton);
      await tryUnlock();
    } catch (error) {
      button.disabled = false;
      message.textContent = api.explain(error);
    }
  }

  return panel;
}
