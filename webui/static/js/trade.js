// The trade form of a creator token: side, amount and slippage, then the quote, then a confirm
// click that sends max_cost / min_refund. One form for the creator page and the portfolio.
import * as api from "./api.js";
import { announce, formatUnits, h } from "./dom.js";
import { invalidate } from "./token-state.js";
import { toBase, withSlippage } from "./units.js";
import { walletLine } from "./wallet-line.js";
import { explainWallet, holder, trade as walletTrade } from "./wallet.js";

/** The form for `token` ({address, symbol, creator}); `onTraded()` runs after a trade; `n`
 * suffixes the ids when several forms share a page. */
export function tradeForm(token, onTraded, n = "") {
  const side = h(
    `select#trade-side${n}`,
    {},
    h("option", { value: "buy" }, "Buy"),
    h("option", { value: "sell" }, "Sell"),
  );
  const amount = h(`input#trade-amount${n}`, {
    type: "text",
    inputmode: "decimal",
    value: "1",
    autocomplete: "off",
  });
  const slippage = h(
    `select#trade-slippage${n}`,
    {},
    h("option", { value: "50", selected: true }, "0.5\u00a0%"),
    h("option", { value: "100" }, "1\u00a0%"),
    h("option", { value: "300" }, "3\u00a0%"),
  );
  const quoteOut = h("div.quote", { role: "status", "aria-live": "polite" });
  const form = h(
    "form.trade",
    { "aria-label": "Trade" },
    h("div.field", {}, h("label", { for: `trade-side${n}` }, "Side"), side),
    h("div.field", {}, h("label", { for: `trade-amount${n}` }, `Amount (${token.symbol})`), amount),
    h("div.field", {}, h("label", { for: `trade-slippage${n}` }, "Max slippage"), slippage),
    walletLine(n),
    h("button", { type: "submit" }, "Get quote"),
    quoteOut,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const s = side.value;
    const a = amount.value.trim();
    try {
      toBase(a);
    } catch (error) {
      quoteOut.replaceChildren(h("p.error-text", {}, error.message));
      return;
    }
    quoteOut.replaceChildren(h("p.muted", {}, "Getting a quote…"));
    let quote;
    try {
      quote = await api.get(`/tokens/${token.address}/quote`, { side: s, amount: a });
    } catch (error) {
      quoteOut.replaceChildren(h("p.error-text", {}, api.explain(error)));
      return;
    }
    const total = s === "buy" ? quote.cost : quote.refund;
    const limit = withSlippage(total, slippage.value, s);
    const confirm = h("button.primary", { type: "button" }, `Confirm ${s} of ${a} ${token.symbol}`);
    const cancel = h(
      "button",
      { type: "button", onclick: () => quoteOut.replaceChildren() },
      "Cancel",
    );
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      const body = { amount: a, confirm: true, [s === "buy" ? "max_cost" : "min_refund"]: limit };
      const from = holder(); // a browser wallet signs, else the peer's own wallet
      if (from) quoteOut.append(h("p.muted", {}, "Confirm in your browser wallet…"));
      try {
        const answer = from
          ? await walletTrade(token.address, s, toBase(a), limit)
          : await api.post(`/tokens/${token.address}/${s}`, body);
        const total = formatUnits(answer.cost ?? answer.refund);
        announce(
          s === "buy"
            ? `Bought ${a} ${token.symbol} for ${total} TOK`
            : `Sold ${a} ${token.symbol} for ${total} TOK`,
        );
        invalidate(token.creator); // every price shown in the page moved
        onTraded(); // price, supply, chart, holders and balances all moved
      } catch (error) {
        confirm.disabled = false;
        quoteOut.append(h("p.error-text", {}, explainWallet(error)));
      }
    });
    quoteOut.replaceChildren(
      h(
        "dl.facts",
        {},
        h("dt", {}, s === "buy" ? "Cost" : "Refund"),
        h("dd", {}, `${formatUnits(total)} TOK`),
        h("dt", {}, "Fees"),
        h("dd", {}, `${formatUnits(BigInt(quote.creator_fee) + BigInt(quote.protocol_fee))} TOK`),
        h("dt", {}, "Price after"),
        h("dd", {}, `${formatUnits(quote.price_after)} TOK`),
        h("dt", {}, s === "buy" ? "You pay at most" : "You get at least"),
        h("dd", {}, `${formatUnits(limit)} TOK`),
      ),
      confirm,
      cancel,
    );
    confirm.focus();
  });
  return form;
}
