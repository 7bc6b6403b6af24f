// Portfolio: every creator token the user traded, its balance, what selling it now returns
// (a real quote), the cost basis from the user's own trades and the gain; buy or sell from
// here with the same quote-and-confirm form as the creator page.
import * as api from "./api.js";
import { formatUnits, h } from "./dom.js";
import { tradeForm } from "./trade.js";

export function mountPortfolio(container) {
  const body = h("div", {}, h("p.muted", { role: "status" }, "Loading your portfolio…"));
  const page = h("div.page.portfolio", {}, h("h1", {}, "Portfolio"), body);
  container.replaceChildren(page);
  let alive = true;
  let loading = null;
  const open = new Set(); // tokens whose trade form is shown

  let deferred = false; // an event came while a trade form was open: reload when it closes

  function load({ force = false } = {}) {
    if (open.size && !force) {
      deferred = true; // never pull a quote and its confirm button from under the user
      return Promise.resolve();
    }
    deferred = false;
    if (loading) return loading;
    loading = api
      .get("/portfolio")
      .then(
        (d) => alive && body.replaceChildren(...render(d)),
        (error) => body.replaceChildren(h("p.error-text", { role: "alert" }, api.explain(error))),
      )
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  function render(d) {
    const summary = h(
      "dl.facts",
      {},
      h("dt", {}, "TOK"),
      h("dd", {}, `${formatUnits(d.tok_balance)} TOK`),
      h("dt", {}, "Worth if sold now"),
      h("dd.total-value", {}, `${formatUnits(d.total_value)} TOK`),
      h("dt", {}, "Cost basis"),
      h("dd", {}, `${formatUnits(d.total_cost_basis)} TOK`),
    );
    if (!d.positions.length) {
      return [summary, h("p.muted", {}, "You have not traded any creator token yet.")];
    }
    const list = h(
      "ul.positions",
      { "aria-label": "Positions" },
      d.positions.map((p, i) => position(p, i)),
    );
    return [h("section.panel", {}, summary), list];
  }

  function position(p, i) {
    const gain = BigInt(p.gain);
    // no trade of the user's own: every token came by a transfer, at no known price
    const received = p.trades === 0;
    const slot = h("div.trade-slot");
    const token = { address: p.token, symbol: p.symbol, creator: p.creator };
    const toggle = h("button", { type: "button", "aria-expanded": "false" }, "Buy or sell");
    function show(on) {
      toggle.setAttribute("aria-expanded", String(on));
      slot.replaceChildren(on ? tradeForm(token, traded, `-${i + 1}`) : "");
      if (on) open.add(p.token);
      else open.delete(p.token);
      if (!on && deferred) load();
    }
    function traded() {
      open.delete(p.token);
      load({ force: true });
    }
    toggle.addEventListener("click", () => show(toggle.getAttribute("aria-expanded") !== "true"));
    return h(
      "li.panel.position",
      { dataset: { token: p.token } },
      h("h2", {}, h("a", { href: `#/creator/${p.creator}` }, `${p.name} (${p.symbol})`)),
      h(
        "dl.facts",
        {},
        h("dt", {}, "Balance"),
        h("dd.balance", {}, `${formatUnits(p.balance)} ${p.symbol}`),
        h("dt", {}, "Price now"),
        h("dd", {}, `${formatUnits(p.price)} TOK`),
        h("dt", {}, "Sell now for"),
        h("dd.value", {}, p.value === null ? "—" : `${formatUnits(p.value)} TOK`),
        h("dt", {}, "Cost basis"),
        received
          ? h("dd.cost", {}, "unknown: received by transfer")
          : h("dd.cost", {}, `${formatUnits(p.cost_basis)} TOK`),
        h("dt", {}, "Gain"),
        received
          ? h("dd.gain", {}, "unknown")
          : h(
              `dd.gain.${gain < 0n ? "loss" : "up"}`,
              {},
              `${gain < 0n ? "−" : "+"}${formatUnits(gain < 0n ? -gain : gain)} TOK`,
            ),
        BigInt(p.realized) !== 0n ? h("dt", {}, "Realized") : null,
        BigInt(p.realized) !== 0n ? h("dd", {}, `${formatUnits(p.realized)} TOK`) : null,
      ),
      BigInt(p.unpriced) > 0n
        ? h(
            "p.muted",
            {},
            `${formatUnits(p.unpriced)} ${p.symbol} came by transfer: no cost is known for them.`,
          )
        : null,
      toggle,
      slot,
    );
  }

  const offs = ["wallet.tx", "token.trade"].map((kind) => api.on(kind, () => alive && load()));
  load();
  return () => {
    alive = false;
    for (const off of offs) off();
  };
}
