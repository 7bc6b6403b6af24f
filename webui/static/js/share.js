// Share links (web+toktok:): the share panel of a clip or creator, and the protocol handler.
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
