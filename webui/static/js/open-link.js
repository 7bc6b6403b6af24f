// #/open: the page a web+toktok: link opens (the registered handler), or where one is pasted.
import * as api from "./api.js";
import { h } from "./dom.js";

/** #/open?link=web+toktok:…: find what the link names, saying each step, then show it. */
export function mountOpen(container, query) {
  // A link passed through a URL query may come back with its "+" as a space.
  const link = (query.link ?? "").trim().replace(/^web toktok:/i, "web+toktok:");
  const steps = h("ol.steps", { "aria-live": "polite" });
  const failure = h("p.error-text.open-failure", { role: "alert" });
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
    h("div.page", {}, h("h1#open-title", {}, "Open a shared link"), form, steps, failure),
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
    failure.textContent = "";
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
      if (alive) failure.textContent = api.explain(error);
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
      failure.textContent = answer.message;
      return;
    }
    step(answer.message, "ok");
    location.hash = answer.post ? `#/post/${answer.post}` : `#/creator/${answer.creator}`;
  }

  return () => {
    alive = false;
  };
}
