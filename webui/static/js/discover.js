// Discovery: creators to follow (search page), from what this peer has seen.
import * as api from "./api.js";
import { h } from "./dom.js";
import { followButton } from "./follow.js";
import { creatorLink } from "./people.js";

/** A panel of creators to follow; empty (hidden) when the peer knows none. */
export function suggestedCreators() {
  const list = h("ul.suggested", { "aria-label": "Creators to follow" });
  const panel = h(
    "section.panel",
    { "aria-labelledby": "suggested-title", hidden: true },
    h("h2#suggested-title", {}, "Creators to follow"),
    list,
  );
  api.get("/suggested-creators", { limit: 6 }).then(
    (answer) => {
      const creators = answer.creators ?? [];
      if (!creators.length) return;
      list.replaceChildren(
        ...creators.map((c) =>
          h(
            "li",
            {},
            creatorLink(c.address, c.name),
            h("span.muted.small", {}, facts(c)),
            followButton(c.address, { tag: "button.small" }),
          ),
        ),
      );
      panel.hidden = false;
    },
    () => {},
  );
  return panel;
}

function facts(c) {
  const parts = [`${c.posts} clip${c.posts === 1 ? "" : "s"}`];
  if (c.followers) parts.push(`${c.followers} follower${c.followers === 1 ? "" : "s"}`);
  if (c.holders) parts.push(`${c.holders} holder${c.holders === 1 ? "" : "s"}`);
  return parts.join(" · ");
}
