// Share links (web+toktok:): the share panel of a clip or creator, and the page that opens one.
import * as api from "./api.js";
import { announce, h } from "./dom.js";

let panelCount = 0;

/** Register this page as the handler of web+toktok: links (where the browser allows it). */
export function registerHandler() {
  try {
    navigator.registerProtocolHandler?.("web+toktok", `${location.origin}/#/open?link=%s`);
  } catch (error) {
    console.info("web+toktok: links cannot be registered here", error?.message);
  }
}

/**
 * A "Share" control: opens a panel with the link, the choice to add this peer's own address
 * and a "Copy link" button. `target` is {post} or {creator}; `tag` gives the button's element.
 */
export function shareControl(target, tag = "button") {
  panelCount += 1;
  const id = `share-${panelCount}`;
  const toggle = h(tag, { type: "button", "aria-expanded": "false", "aria-controls": id }, "Share");
  const own = h("input", { type: "checkbox", id: `${id}-own` });
  const field = h("input.share-link", {
    type: "text",
    readonly: true,
    id: `${id}-link`,
    value: "",
  });
  const out = h("p.share-out", { role: "status" });
  const copy = h("button.primary", { type: "button" }, "Copy link");
  const close = h("button", { type: "button" }, "Close");
  const panel = h(
    "div.share-panel",
    { id, hidden: true, role: "group", "aria-label": "Share" },
    h("label", { for: `${id}-link` }, "Link"),
    field,
    h(
      "div.check",
      {},
      own,
      h(
        "label",
        { for: `${id}-own` },
        "Add my peer's address (anyone with the link sees your IP address)",
      ),
    ),
    h("div.row", {}, copy, close),
    out,
  );

  async function refresh() {
    const query = { ...target, own: own.checked ? "true" : "false" };
    try {
      const answer = await api.get("/share", query);
      field.value = answer.link;
      out.textContent = answer.hints.length
        ? `The link names ${answer.hints.length} peer address${answer.hints.length === 1 ? "" : "es"} to find it.`
        : "The link names no peer address: only peers that know the creator can open it.";
    } catch (error) {
      out.textContent = api.explain(error);
    }
  }

  toggle.addEventListener("click", () => {
    const open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) refresh().then(() => field.focus());
  });
  own.addEventListener("change", refresh);
  close.addEventListener("click", () => {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  });
  copy.addEventListener("click", async () => {
    if (!field.value) await refresh();
    try {
      await navigator.clipboard.writeText(field.value);
      announce("Link copied");
    } catch {
      field.select();
      announce("Select and copy the link from the field");
    }
  });
  return { toggle, panel };
}

/** #/open?link=web+toktok:…: find what the link names, saying each step, then show it. */
export function mountOpen(container, query) {
  // A link passed through a URL query may come back with its "+" as a space.
  const link = (query.link ?? "").trim().replace(/^web toktok:/i, "web+toktok:");
  const steps = h("ol.steps", { "aria-live": "polite" });
  const input = h("input#open-link", {
    type: "text",
    value: link,
    autocomplete: "off",
    placeholder: "web+toktok:post/0x…",
  });
  const form = h(
    "form.panel",
    { "aria-labelledby": "open-title" },
    h("label", { for: "open-link" }, "Share link"),
    h("div.row", {}, input, h("button.primary", { type: "submit" }, "Open")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    run(input.value.trim());
  });
  container.replaceChildren(
    h("div.page", {}, h("h1#open-title", {}, "Open a shared link"), form, steps),
  );
  let alive = true;
  if (link) run(link);

  function step(text, kind = "") {
    const item = h(`li${kind ? `.${kind}` : ""}`, {}, text);
    steps.append(item);
    return item;
  }

  async function run(text) {
    steps.replaceChildren();
    if (!text) return;
    const hints = (text.match(/[?&]peer=/g) ?? []).length;
    step("Looking for it on this peer…");
    step(
      hints
        ? `Asking the ${hints === 1 ? "peer" : `${hints} peers`} the link names, and syncing the creator's clips…`
        : "Asking the peers this peer is connected to…",
    );
    let answer;
    try {
      answer = await api.post("/links/open", { link: text });
    } catch (error) {
      if (alive) step(api.explain(error), "error");
      return;
    }
    if (!alive) return;
    for (const tried of answer.tried) {
      const state =
        tried.state === "connected"
          ? "reached"
          : tried.state === "refused"
            ? `not dialled: ${tried.reason}`
            : `unreachable: ${tried.reason}`;
      step(`${tried.addr}: ${state}`, tried.state === "connected" ? "" : "warn");
    }
    if (!answer.found) {
      steps.append(h("li.error", { role: "alert" }, answer.message));
      return;
    }
    step(answer.message, "ok");
    location.hash = answer.post ? `#/post/${answer.post}` : `#/creator/${answer.creator}`;
  }

  return () => {
    alive = false;
  };
}
