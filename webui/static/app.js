// Status view of the local peer. Reads only /api/v1.
const facts = document.getElementById("peer");
const services = document.getElementById("services");
const state = document.getElementById("state");

function row(list, label, value) {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = value;
  list.append(dt, dd);
}

async function refresh() {
  try {
    const response = await fetch("/api/v1/status", { credentials: "same-origin" });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const status = await response.json();
    facts.replaceChildren();
    row(facts, "Peer ID", status.peer_id ?? "—");
    row(facts, "Addresses", (status.p2p_addrs ?? []).join("\n") || "—");
    row(facts, "Wallet", status.wallet_address ?? "none yet");
    const chain = status.chain ?? {};
    row(facts, "Chain", chain.chain_id ? `${chain.mode}, chain id ${chain.chain_id}` : chain.mode ?? "—");
    row(facts, "Version", status.version ?? "—");
    services.replaceChildren(
      ...Object.entries(status.services).map(([name, s]) => {
        const li = document.createElement("li");
        const n = document.createElement("span");
        n.textContent = name;
        const v = document.createElement("span");
        v.textContent = s;
        v.className = s === "ready" ? "pill ok" : "pill warn";
        li.append(n, v);
        return li;
      }),
    );
    state.textContent = status.ready ? "online" : "starting";
    state.className = status.ready ? "pill ok" : "pill warn";
  } catch (error) {
    state.textContent = "peer unreachable";
    state.className = "pill warn";
  }
}

refresh();
setInterval(refresh, 3000);
