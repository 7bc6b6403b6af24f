// The creator's dashboard on their own page: fee earnings to date and per day, holders,
// followers, likes, comments and the clips that drove buys (GET /dashboard), kept current by
// token.trade and wallet.tx events.
import * as api from "./api.js";
import { formatUnits, h } from "./dom.js";

export function dashboardPanel() {
  const body = h("div.dashboard-body", {}, h("p.muted", {}, "Loading your dashboard…"));
  const panel = h(
    "section.panel.dashboard",
    { "aria-labelledby": "dashboard-title" },
    h("h2#dashboard-title", {}, "Your dashboard"),
    body,
  );
  let token = null;
  let loading = null;
  function load() {
    if (loading) return loading;
    loading = api
      .get("/dashboard")
      .then(
        (d) => {
          token = d.token?.address?.toLowerCase() ?? null;
          body.replaceChildren(...render(d));
        },
        (error) => body.replaceChildren(h("p.error-text", {}, api.explain(error))),
      )
      .finally(() => {
        loading = null;
      });
    return loading;
  }
  const offs = [
    api.on("token.trade", (t) => {
      if (!panel.isConnected && panel.dataset.shown) {
        for (const off of offs) off();
      } else if (token && String(t.token).toLowerCase() === token) load();
    }),
    api.on("wallet.tx", () => panel.isConnected && load()),
  ];
  load().then(() => {
    panel.dataset.shown = "true";
  });
  return panel;
}

function render(d) {
  const e = d.earnings;
  const symbol = d.token?.symbol ?? "";
  const facts = h(
    "dl.facts.dashboard-facts",
    {},
    h("dt", {}, "Fees earned"),
    h("dd.earned", {}, `${formatUnits(e.total)} TOK`),
    h("dt", {}, "Trades by others"),
    h("dd", {}, String(e.trades)),
    h("dt", {}, "Holders"),
    h("dd.holder-count", {}, String(d.holder_count)),
    h("dt", {}, "Followers"),
    h("dd", {}, String(d.followers)),
    h("dt", {}, "Likes"),
    h("dd", {}, String(d.likes)),
    h("dt", {}, "Comments"),
    h("dd", {}, String(d.comments)),
  );
  const out = [facts];
  if (!d.token) {
    out.push(h("p.muted", {}, "Create your token below: fees from its trades are your earnings."));
    return out;
  }
  if (e.own_trades) {
    out.push(
      h("p.muted", {}, `Not counted: ${e.own_trades} of your own trades (fees to yourself).`),
    );
  }
  out.push(
    h("h3", {}, "Fees per day"),
    e.per_day.length
      ? table(
          "Fees per day",
          ["Day", "Fees"],
          e.per_day.map((x) => [x.day, `${formatUnits(x.fees)} TOK`]),
        )
      : h("p.muted", {}, "No trades by others yet."),
    h("h3", {}, "Top holders"),
    d.holders.length
      ? table(
          "Top holders",
          ["Holder", `Balance (${symbol})`],
          d.holders.map((x) => [x.address, formatUnits(x.balance)]),
          "mono",
        )
      : h("p.muted", {}, "No holders yet."),
    h("h3", {}, "Clips that drove buys"),
    d.clips.length
      ? h(
          "ul.driver-list",
          {},
          d.clips.map((c) =>
            h(
              "li",
              {},
              h("a", { href: `#/post/${c.post_id}` }, c.title || "Untitled clip"),
              ` · ${c.buys} buy${c.buys === 1 ? "" : "s"}, ${formatUnits(c.paid)} TOK`,
            ),
          ),
        )
      : h("p.muted", {}, "No buy led to an unlock on your key server yet."),
  );
  return out;
}

function table(caption, heads, rows, firstClass = "") {
  return h(
    "table",
    {},
    h("caption.visually-hidden", {}, caption),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        heads.map((x) => h("th", { scope: "col" }, x)),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          {},
          r.map((cell, i) => h(i === 0 && firstClass ? `td.${firstClass}` : "td", {}, cell)),
        ),
      ),
    ),
  );
}
