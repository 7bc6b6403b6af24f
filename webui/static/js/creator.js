// Creator page: profile, clip grid, token price chart, holders, buy/sell with quote + confirm.
import * as api from "./api.js";
import { h, announce, formatUnits, shortAddress } from "./dom.js";
import { priceChart } from "./chart.js";
import { followButton } from "./follow.js";
import { avatar } from "./people.js";
import { shareControl } from "./share.js";
import { toBase, withSlippage } from "./units.js";

export function mountCreator(container, address) {
  const page = h("div.page.creator", {}, h("p.muted", { role: "status" }, "Loading creator…"));
  container.replaceChildren(page);
  let alive = true;
  load();

  async function load() {
    let info;
    try {
      info = await api.get(`/creators/${address}`);
    } catch (error) {
      page.replaceChildren(
        h("h1", {}, shortAddress(address)),
        h("p.error-text", { role: "alert" }, api.explain(error)),
      );
      return;
    }
    if (!alive) return;
    const wallet = await api.get("/wallet").catch(() => null);
    const follow = followButton(address, { tag: "button.primary", following: info.following });
    const grid = h("ul.grid", { "aria-label": "Clips" });
    const share = shareControl({ creator: address }, "button.small");
    page.replaceChildren(
      h(
        "header.profile.panel",
        {},
        avatar(info.name, { big: true, url: info.avatar_url }),
        h(
          "div",
          {},
          h("h1", {}, info.name || shortAddress(address)),
          h("p.mono.muted", {}, address),
          h("p", {}, `${info.posts ?? 0} clips`),
          share.toggle,
          share.panel,
          info.forked
            ? h(
                "p.warn-text",
                {},
                "Warning: this creator's log is forked (two posts with the same number).",
              )
            : null,
        ),
        wallet?.address?.toLowerCase() === address.toLowerCase()
          ? h(
              "div.row",
              {},
              h("span.pill", {}, "You"),
              h("a.button-link", { href: "#/status" }, "Edit profile"),
            )
          : follow,
      ),
      info.token ? tokenSection(info.token, wallet, load) : noToken(wallet, address, load),
      h(
        "section.panel",
        { "aria-labelledby": "clips-title" },
        h("h2#clips-title", {}, "Clips"),
        grid,
      ),
    );
    fillGrid(grid);
  }

  async function fillGrid(grid) {
    try {
      const pageData = await api.get(`/creators/${address}/posts`, { limit: 24 });
      if (!pageData.items?.length) grid.replaceWith(h("p.muted", {}, "No clips yet."));
      for (const item of pageData.items ?? []) grid.append(tile(item));
    } catch (error) {
      grid.replaceWith(h("p.error-text", {}, api.explain(error)));
    }
  }

  return () => {
    alive = false;
  };
}

function noToken(wallet, address, onCreated) {
  if (wallet?.address?.toLowerCase() !== address.toLowerCase()) {
    return h(
      "section.panel",
      {},
      h("h2", {}, "Token"),
      h("p.muted", {}, "This creator has no token yet."),
    );
  }
  const name = h("input#token-name", { type: "text", required: true, maxlength: 40 });
  const symbol = h("input#token-symbol", { type: "text", required: true, maxlength: 8 });
  const out = h("p", { role: "status" });
  const form = h(
    "form.panel",
    { "aria-labelledby": "token-create-title" },
    h("h2#token-create-title", {}, "Create your token"),
    h("div.field", {}, h("label", { for: "token-name" }, "Name"), name),
    h("div.field", {}, h("label", { for: "token-symbol" }, "Symbol"), symbol),
    h("button.primary", { type: "submit" }, "Create token"),
    out,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api.post("/token", { name: name.value.trim(), symbol: symbol.value.trim() });
      out.textContent = "Token created.";
      announce("Token created");
      onCreated();
    } catch (error) {
      out.textContent = api.explain(error);
    }
  });
  return form;
}

function tokenSection(token, wallet, onTraded) {
  const chart = h("div.chart-slot", {}, h("p.muted", {}, "Loading price history…"));
  const holders = h("div.holders", {}, h("p.muted", {}, "Loading holders…"));
  const mine = h("p", {}, "Your balance: …");
  api.get(`/tokens/${token.address}/history`).then(
    (history) => chart.replaceChildren(priceChart(history.points)),
    (error) => chart.replaceChildren(h("p.muted", {}, api.explain(error))),
  );
  api.get(`/tokens/${token.address}/holders`).then(
    (data) => {
      const list = data.holders ?? [];
      const me = list.find((x) => x.address.toLowerCase() === wallet?.address?.toLowerCase());
      const tok = wallet ? ` · ${formatUnits(wallet.tok_balance)} TOK` : "";
      mine.textContent = `Your balance: ${formatUnits(me?.balance ?? "0")} ${token.symbol}${tok}`;
      holders.replaceChildren(
        list.length
          ? h(
              "table",
              {},
              h("caption.visually-hidden", {}, "Holders"),
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  h("th", { scope: "col" }, "Holder"),
                  h("th", { scope: "col" }, "Balance"),
                ),
              ),
              h(
                "tbody",
                {},
                list
                  .slice(0, 20)
                  .map((x) =>
                    h(
                      "tr",
                      {},
                      h("td.mono", {}, shortAddress(x.address)),
                      h("td", {}, formatUnits(x.balance)),
                    ),
                  ),
              ),
            )
          : h("p.muted", {}, "No holders yet."),
      );
    },
    (error) => holders.replaceChildren(h("p.muted", {}, api.explain(error))),
  );
  return h(
    "section.panel.token",
    { "aria-labelledby": "token-title" },
    h("h2#token-title", {}, `${token.name} (${token.symbol})`),
    h(
      "dl.facts",
      {},
      h("dt", {}, "Price"),
      h("dd", {}, `${formatUnits(token.spot_price)} TOK`),
      h("dt", {}, "Supply"),
      h("dd", {}, formatUnits(token.total_supply)),
      h("dt", {}, "Reserve"),
      h("dd", {}, `${formatUnits(token.reserve)} TOK`),
    ),
    chart,
    mine,
    tradeForm(token, onTraded),
    h("h3", {}, "Holders"),
    holders,
  );
}

function tradeForm(token, onTraded) {
  const side = h(
    "select#trade-side",
    {},
    h("option", { value: "buy" }, "Buy"),
    h("option", { value: "sell" }, "Sell"),
  );
  const amount = h("input#trade-amount", {
    type: "text",
    inputmode: "decimal",
    value: "1",
    autocomplete: "off",
  });
  const slippage = h(
    "select#trade-slippage",
    {},
    h("option", { value: "50", selected: true }, "0.5\u00a0%"),
    h("option", { value: "100" }, "1\u00a0%"),
    h("option", { value: "300" }, "3\u00a0%"),
  );
  const quoteOut = h("div.quote", { role: "status", "aria-live": "polite" });
  const form = h(
    "form.trade",
    { "aria-label": "Trade" },
    h("div.field", {}, h("label", { for: "trade-side" }, "Side"), side),
    h("div.field", {}, h("label", { for: "trade-amount" }, `Amount (${token.symbol})`), amount),
    h("div.field", {}, h("label", { for: "trade-slippage" }, "Max slippage"), slippage),
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
      try {
        const answer = await api.post(`/tokens/${token.address}/${s}`, body);
        const total = formatUnits(answer.cost ?? answer.refund);
        announce(
          s === "buy"
            ? `Bought ${a} ${token.symbol} for ${total} TOK`
            : `Sold ${a} ${token.symbol} for ${total} TOK`,
        );
        onTraded(); // price, supply, chart, holders and balances all moved
      } catch (error) {
        confirm.disabled = false;
        quoteOut.append(h("p.error-text", {}, api.explain(error)));
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
