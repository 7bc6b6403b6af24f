// Search: words in titles and tags, results as clip tiles.
import * as api from "./api.js";
import { suggestedCreators } from "./discover.js";
import { h } from "./dom.js";
import { creatorLink } from "./people.js";
import { tile } from "./tile.js";

export function mountSearch(container, query) {
  const q = query.q ?? "";
  const input = h("input#search-q", {
    type: "search",
    name: "q",
    value: q,
    autocomplete: "off",
    placeholder: "cats, travel…",
  });
  const results = h("div.results", { "aria-live": "polite" });
  const form = h(
    "form.search-form",
    { role: "search" },
    h("label", { for: "search-q" }, "Search clips"),
    h("div.row", {}, input, h("button.primary", { type: "submit" }, "Search")),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/search?q=${encodeURIComponent(input.value.trim())}`;
  });
  container.replaceChildren(
    h("div.page", {}, h("h1", {}, "Search"), form, results, suggestedCreators()),
  );
  if (q) run(q, results);
  else input.focus();
}

async function run(q, results) {
  results.replaceChildren(h("p.muted", {}, "Searching…"));
  try {
    const page = await api.get("/search", { q, limit: 30 });
    const items = page.items ?? [];
    if (!items.length) {
      results.replaceChildren(h("p", {}, `No clips match “${q}”.`));
      return;
    }
    const creators = new Map(items.map((i) => [i.creator, i.creator_name]));
    results.replaceChildren(
      h("h2", {}, `${items.length} clip${items.length === 1 ? "" : "s"}`),
      h("ul.grid", { "aria-label": "Results" }, items.map(tile)),
      h("h2", {}, "Creators"),
      h(
        "ul.chips",
        {},
        [...creators].map(([address, name]) => h("li", {}, creatorLink(address, name))),
      ),
    );
  } catch (error) {
    results.replaceChildren(h("p.error-text", { role: "alert" }, api.explain(error)));
  }
}
