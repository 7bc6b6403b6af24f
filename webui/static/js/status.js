// Status: the user's profile, this peer's identity, services, peers, storage, wallet and chain.
import * as api from "./api.js";
import { h, announce, formatUnits, shortAddress } from "./dom.js";
import { walletLine } from "./wallet-line.js";

const NAME_MAX = 64; // characters, as the peer checks them (docs/API.md POST /profile)

export function mountStatus(container) {
  const facts = h("dl#peer.facts");
  const services = h("ul#services.services");
  const peers = h("ul#peers.peer-list");
  const wallet = h("dl#wallet.facts");
  const storage = h("dl#storage.facts", {}, h("dt", {}, "Storage"), h("dd", {}, "…"));
  const multiaddr = h("input#connect-addr", {
    type: "text",
    autocomplete: "off",
    placeholder: "/ip4/127.0.0.1/tcp/4001/p2p/12D3…",
  });
  const connectOut = h("p", { role: "status" });
  const connect = h(
    "form.row",
    { "aria-label": "Connect to a peer" },
    h("label.visually-hidden", { for: "connect-addr" }, "Peer multiaddr"),
    multiaddr,
    h("button", { type: "submit" }, "Connect"),
  );
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
      profilePanel(),
      h(
        "section.panel",
        { "aria-labelledby": "peer-title" },
        h("h2#peer-title", {}, "Your peer"),
        facts,
      ),
      h(
        "section.panel",
        { "aria-labelledby": "services-title" },
        h("h2#services-title", {}, "Services"),
        services,
      ),
      h(
        "section.panel",
        { "aria-labelledby": "peers-title" },
        h("h2#peers-title", {}, "Peers"),
        peers,
        connect,
        connectOut,
      ),
      h(
        "section.panel",
        { "aria-labelledby": "storage-title" },
        h("h2#storage-title", {}, "Storage and replication"),
        storage,
      ),
      h(
        "section.panel",
        { "aria-labelledby": "wallet-title" },
        h("h2#wallet-title", {}, "Wallet"),
        wallet,
        walletLine("-status"),
      ),
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
      row(facts, "Reachability", reachabilityText(status.reachability));
      row(facts, "Addresses", (status.p2p_addrs ?? []).join("\n") || "—");
      row(facts, "Storage", status.storage?.backend ?? "—");
      const chain = status.chain ?? {};
      row(
        facts,
        "Chain",
        chain.chain_id ? `${chain.mode}, chain id ${chain.chain_id}` : (chain.mode ?? "—"),
      );
      row(facts, "Version", status.version ?? "—");
      row(
        facts,
        "Uptime",
        status.uptime_s !== undefined ? `${Math.round(status.uptime_s)} s` : "—",
      );
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
        ...(list.length
          ? list.map((p) => h("li.mono", {}, p.peer_id))
          : [h("li.muted", {}, "No peers connected.")]),
      );
    } catch (error) {
      peers.replaceChildren(h("li.muted", {}, api.explain(error)));
    }
    try {
      storage.replaceChildren(...storageFacts(await api.get("/storage")));
    } catch (error) {
      storage.replaceChildren(h("dt", {}, "Storage"), h("dd", {}, api.explain(error)));
    }
    if (!lastChainOn) {
      wallet.replaceChildren();
      row(
        wallet,
        "Address",
        lastStatus?.wallet?.address ?? lastStatus?.wallet_address ?? "none yet",
      );
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

/** "reachable", "behind NAT, via relay R", "behind NAT, unreachable" (and why), from the
 * AutoNAT verdict in GET /status. */
export function reachabilityText(r) {
  if (!r) return "—";
  return r.reason ? `${r.summary}: ${r.reason}` : r.summary;
}

/** "1.5 MiB" */
export function formatBytes(n) {
  const value = Number(n) || 0;
  if (value < 1024) return `${value} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let x = value / 1024;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i += 1;
  }
  return `${x.toFixed(x < 10 ? 1 : 0)} ${units[i]}`;
}

/** dt/dd pairs for GET /storage: the block store, bitswap traffic and replication. */
function storageFacts(info) {
  const out = [];
  const fact = (label, value) => out.push(h("dt", {}, label), h("dd", {}, value));
  fact(
    "Backend",
    info.health
      ? `${info.backend} at ${info.health.api} (${info.health.agent || "unknown agent"})`
      : (info.backend ?? "—"),
  );
  if (info.usage)
    fact(
      "Stored",
      `${formatBytes(info.usage.bytes)} in ${info.usage.blocks} blocks, ${info.usage.pins} pins`,
    );
  const bitswap = info.bitswap;
  if (bitswap) {
    fact(
      "Fetched",
      `${formatBytes(bitswap.client?.bytes_received)} (${bitswap.client?.blocks_received ?? 0} blocks)`,
    );
    fact(
      "Served",
      `${formatBytes(bitswap.server?.bytes_sent)} (${bitswap.server?.blocks_sent ?? 0} blocks); ${bitswap.peers === 1 ? "1 peer" : `${bitswap.peers ?? 0} peers`} connected`,
    );
  }
  const r = info.replication;
  if (r === null || r === undefined) fact("Replication", "off");
  else if (!r.enabled) fact("Replication", `not running${r.last_error ? `: ${r.last_error}` : ""}`);
  else {
    fact(
      "Replication",
      `${r.pinned_posts} clips kept for creators you follow, ${formatBytes(r.used_bytes)} of ${formatBytes(r.budget_bytes)}`,
    );
    if (r.queued || r.failed || r.evicted)
      fact("Queue", `${r.queued} waiting, ${r.failed} failed, ${r.evicted} evicted`);
    if (r.last_error) fact("Last error", r.last_error);
  }
  return out;
}

/** Edit the display name: checked here, confirmed by the user, then signed and published. */
function profilePanel() {
  const name = h("input#profile-name", {
    type: "text",
    autocomplete: "nickname",
    "aria-describedby": "profile-name-help profile-name-error",
    disabled: true,
  });
  const help = h(
    "p#profile-name-help.help",
    {},
    `Shown on your clips and creator page; 1 to ${NAME_MAX} characters. Publishing signs a new version of your profile.`,
  );
  const error = h("p#profile-name-error.error-text", { role: "alert" });
  const who = h("p.mono.muted", {}, "Loading your profile…");
  const save = h("button.primary", { type: "submit", disabled: true }, "Save");
  const confirmRow = h("div.row.confirm", { hidden: true });
  const out = h("p#profile-out", { role: "status", "aria-live": "polite" });
  let current = "";
  const form = h(
    "form#profile.panel",
    { "aria-labelledby": "profile-title", novalidate: true },
    h("h2#profile-title", {}, "Your profile"),
    who,
    h("div.field", {}, h("label", { for: "profile-name" }, "Display name"), name, help, error),
    h("div.row", {}, save),
    confirmRow,
    out,
  );

  function problem(value) {
    const length = [...value].length;
    if (length === 0) return "Enter a display name.";
    if (length > NAME_MAX)
      return `The display name is ${length} characters long; at most ${NAME_MAX} are allowed.`;
    if (value === current) return "That is already your display name.";
    return "";
  }

  function showError(message) {
    error.textContent = message;
    if (message) name.setAttribute("aria-invalid", "true");
    else name.removeAttribute("aria-invalid");
  }

  function closeConfirm() {
    confirmRow.hidden = true;
    confirmRow.replaceChildren();
    save.disabled = false;
  }

  name.addEventListener("input", () => {
    if (error.textContent) showError(problem(name.value.trim()));
    closeConfirm();
    out.textContent = "";
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const value = name.value.trim();
    const message = problem(value);
    showError(message);
    out.textContent = "";
    if (message) {
      name.focus();
      return;
    }
    save.disabled = true;
    const publish = h("button.primary", { type: "button", onclick: () => send(value) }, "Publish");
    const cancel = h(
      "button",
      {
        type: "button",
        onclick: () => {
          closeConfirm();
          name.focus();
        },
      },
      "Cancel",
    );
    confirmRow.replaceChildren(
      h("p", {}, `Publish “${value}” as your display name? Peers that follow you will see it.`),
      publish,
      cancel,
    );
    confirmRow.hidden = false;
    publish.focus();
  });

  async function send(value) {
    for (const b of confirmRow.querySelectorAll("button")) b.disabled = true;
    out.textContent = "Signing and publishing…";
    try {
      const profile = await api.post("/profile", { name: value });
      current = profile.name;
      name.value = profile.name;
      closeConfirm();
      out.textContent = `Saved: your display name is now “${profile.name}”.`;
      announce("Profile published");
      name.focus();
    } catch (err) {
      closeConfirm();
      out.textContent = "";
      showError(api.explain(err));
      name.focus();
    }
  }

  api.get("/profile").then(
    (profile) => {
      current = profile.name ?? "";
      name.value = current;
      name.disabled = false;
      save.disabled = false;
      who.replaceChildren(
        "Address ",
        h(
          "a",
          { href: `#/creator/${profile.address}`, title: profile.address },
          shortAddress(profile.address),
        ),
      );
    },
    (err) => {
      who.textContent = `Your profile cannot be edited: ${api.explain(err)}`;
    },
  );
  return form;
}
