// Status: this peer's identity, services, peers, storage, wallet and chain.
import * as api from "./api.js";
import { h, formatUnits } from "./dom.js";

export function mountStatus(container) {
  const facts = h("dl#peer.facts");
  const services = h("ul#services.services");
  const peers = h("ul#peers.peer-list");
  const wallet = h("dl#wallet.facts");
  const multiaddr = h("input#connect-addr", { type: "text", autocomplete: "off", placeholder: "/ip4/127.0.0.1/tcp/4001/p2p/12D3…" });
  const connectOut = h("p", { role: "status" });
  const connect = h("form.row", { "aria-label": "Connect to a peer" }, h("label.visually-hidden", { for: "connect-addr" }, "Peer multiaddr"), multiaddr, h("button", { type: "submit" }, "Connect"));
  connect.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const answer = await api.post("/peers/connect", { multiaddr: multiaddr.value.trim() });
      connectOut.textContent = `Connected to ${answer.peer_id}`;
      refresh();
    } catch (error) {
      connectOut.textContent = api.explain(error);
    }
  });
  container.replaceChildren(
    h(
      "div.page",
      {},
      h("h1", {}, "Status"),
      h("section.panel", { "aria-labelledby": "peer-title" }, h("h2#peer-title", {}, "Your peer"), facts),
      h("section.panel", { "aria-labelledby": "services-title" }, h("h2#services-title", {}, "Services"), services),
      h("section.panel", { "aria-labelledby": "peers-title" }, h("h2#peers-title", {}, "Peers"), peers, connect, connectOut),
      h("section.panel", { "aria-labelledby": "wallet-title" }, h("h2#wallet-title", {}, "Wallet"), wallet),
    ),
  );

  function row(list, label, value) {
    list.append(h("dt", {}, label), h("dd", {}, value));
  }

  let lastStatus = null;
  let lastChainOn = false;

  async function refresh() {
    try {
      const status = await api.get("/status");
      lastStatus = status;
      lastChainOn = (status.chain?.mode ?? "off") !== "off";
      facts.replaceChildren();
      row(facts, "Peer ID", status.peer_id ?? "—");
      row(facts, "Addresses", (status.p2p_addrs ?? []).join("\n") || "—");
      row(facts, "Storage", status.storage?.backend ?? "—");
      const chain = status.chain ?? {};
      row(facts, "Chain", chain.chain_id ? `${chain.mode}, chain id ${chain.chain_id}` : (chain.mode ?? "—"));
      row(facts, "Version", status.version ?? "—");
      row(facts, "Uptime", status.uptime_s !== undefined ? `${Math.round(status.uptime_s)} s` : "—");
      services.replaceChildren(
        ...Object.entries(status.services ?? {}).map(([name, s]) =>
          h("li", {}, h("span", {}, name), h(`span.pill.${s === "ready" ? "ok" : "warn"}`, {}, s)),
        ),
      );
    } catch (error) {
      facts.replaceChildren(h("dt", {}, "Error"), h("dd", {}, api.explain(error)));
    }
    try {
      const list = (await api.get("/peers")).peers ?? [];
      peers.replaceChildren(
        ...(list.length ? list.map((p) => h("li.mono", {}, p.peer_id)) : [h("li.muted", {}, "No peers connected.")]),
      );
    } catch (error) {
      peers.replaceChildren(h("li.muted", {}, api.explain(error)));
    }
    if (!lastChainOn) {
      wallet.replaceChildren();
      row(wallet, "Address", lastStatus?.wallet?.address ?? lastStatus?.wallet_address ?? "none yet");
      row(wallet, "State", lastStatus?.wallet?.state ?? "—");
      row(wallet, "TOK balance", "no chain configured");
      return;
    }
    try {
      const w = await api.get("/wallet");
      wallet.replaceChildren();
      row(wallet, "Address", w.address ?? "—");
      row(wallet, "State", w.state ?? "—");
      row(wallet, "TOK balance", formatUnits(w.tok_balance));
    } catch (error) {
      wallet.replaceChildren(h("dt", {}, "Wallet"), h("dd", {}, api.explain(error)));
    }
  }

  refresh();
  const timer = setInterval(refresh, 5000);
  return () => clearInterval(timer);
}
