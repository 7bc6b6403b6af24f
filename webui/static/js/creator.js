// Creator page: profile, clip grid, token price chart, holders, buy/sell with quote + confirm.
import * as api from "./api.js";
import { formatUnits, h, shortAddress } from "./dom.js";
import { dashboardPanel } from "./dashboard.js";
import { followButton } from "./follow.js";
import { avatar } from "./people.js";
import { shareControl } from "./share.js";
import { liveChart } from "./price-chart.js";
import { tradeForm } from "./trade.js";
import { tile } from "./tile.js";
import { createTokenForm } from "./token-create.js";
import { watchWallet } from "./wallet.js";

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
      ...(wallet?.address?.toLowerCase() === address.toLowerCase() ? [dashboardPanel()] : []),
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
  return createTokenForm(() => onCreated());
}

function tokenSection(token, wallet, onTraded) {
  const chart = liveChart(token);
  const holders = h("div.holders", {}, h("p.muted", {}, "Loading holders…"));
  const mine = h("p", {}, "Your balance: …");
  api.get(`/tokens/${token.address}/holders`).then(
    (data) => {
      const list = data.holders ?? [];
      const balanceOf = (address) =>
        list.find((x) => x.address.toLowerCase() === address?.toLowerCase())?.balance ?? "0";
      // the page's holder: the browser wallet when one is connected, else the peer's wallet
      const unwatch = watchWallet((external) => {
        if (!document.contains(mine) && mine.dataset.shown) return unwatch?.();
        mine.dataset.shown = "1";
        if (external) {
          mine.textContent = `Your browser wallet holds ${formatUnits(balanceOf(external))} ${token.symbol}`;
          return;
        }
        const tok = wallet ? ` · ${formatUnits(wallet.tok_balance)} TOK` : "";
        mine.textContent = `Your balance: ${formatUnits(balanceOf(wallet?.address))} ${token.symbol}${tok}`;
      });
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
