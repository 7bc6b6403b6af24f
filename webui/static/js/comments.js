// The comment sheet of a clip: comments and one level of replies, live; the creator can hide
// comments, an author can delete their own (with its replies, for every peer); a holders-only
// post says what commenting takes and offers the buy.
import * as api from "./api.js";
import { announce, formatUnits, h, shortAddress, timeAgo } from "./dom.js";
import { watchPost } from "./live.js";
import { creatorLink } from "./people.js";
import { toBase, withSlippage } from "./units.js";

const MAX_TEXT = 500;
let sheets = 0;

/**
 * The "Comments" action of a card and its sheet. `item` is the FeedItem; `countEl` shows the
 * count. Returns {toggle, sheet}.
 */
export function commentControl(item, toggle, countEl) {
  sheets += 1;
  const id = `comments-${sheets}`;
  const list = h("ol.comment-list", { "aria-label": "Comments" });
  const gate = h("div.comment-gate", { hidden: true });
  const text = h("textarea.comment-text", {
    id: `${id}-text`,
    maxlength: MAX_TEXT,
    rows: 2,
    required: true,
  });
  const replyingTo = h("p.replying", { hidden: true });
  const send = h("button.primary", { type: "submit" }, "Send");
  const out = h("p.comment-out", { role: "status" });
  const close = h("button.sheet-close", { type: "button", "aria-label": "Close comments" }, "×");
  const form = h(
    "form.comment-form",
    {},
    replyingTo,
    h("label", { for: `${id}-text` }, "Add a comment"),
    h("div.row", {}, text, send),
    out,
  );
  const sheet = h(
    "section.comment-sheet",
    { id, hidden: true, "aria-labelledby": `${id}-title` },
    h("div.row.spread", {}, h("h2", { id: `${id}-title` }, "Comments"), close),
    gate,
    list,
    form,
  );
  toggle.setAttribute("aria-controls", id);
  toggle.setAttribute("aria-expanded", "false");
  const state = { parent: null, me: null, loaded: false, minBalance: "0" };

  function setCount(n) {
    countEl.textContent = String(n);
    toggle.setAttribute("aria-label", n === "" ? "Comments" : `Comments (${n})`);
  }

  function open() {
    sheet.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    load().then(() => text.focus());
  }

  function hide() {
    sheet.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  }

  toggle.addEventListener("click", () => (sheet.hidden ? open() : hide()));
  close.addEventListener("click", hide);
  sheet.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      hide();
    }
  });

  async function load() {
    if (!state.me) {
      const wallet = await api.get("/wallet").catch(() => null);
      state.me = wallet?.address?.toLowerCase() ?? "";
    }
    const mine = state.me === item.creator.toLowerCase();
    let page;
    try {
      page = await api.get(`/posts/${item.id}/comments`, { limit: 50, hidden: mine ? 1 : null });
    } catch (error) {
      list.replaceChildren(h("li.muted", {}, api.explain(error)));
      return;
    }
    state.loaded = true;
    state.minBalance = page.min_balance ?? "0";
    render(page.items ?? [], mine);
    showGate(mine);
  }

  function render(items, mine) {
    const top = items.filter((c) => !c.parent || /^0x0+$/.test(c.parent));
    const replies = new Map();
    for (const c of items) {
      if (c.parent && !/^0x0+$/.test(c.parent)) {
        if (!replies.has(c.parent)) replies.set(c.parent, []);
        replies.get(c.parent).push(c);
      }
    }
    const visible = items.filter((c) => !c.hidden).length;
    setCount(visible);
    if (!top.length) {
      list.replaceChildren(h("li.muted.empty", {}, "No comments yet. Be the first."));
      return;
    }
    list.replaceChildren(
      ...top.map((c) =>
        commentItem(
          c,
          mine,
          (replies.get(c.id) ?? []).map((r) => commentItem(r, mine, null)),
        ),
      ),
    );
  }

  function commentItem(c, mine, replyItems) {
    const actions = [];
    if (replyItems) {
      actions.push(
        h(
          "button.link-button",
          {
            type: "button",
            onclick: () => {
              state.parent = c.id;
              replyingTo.hidden = false;
              replyingTo.replaceChildren(
                `Replying to ${c.author_name || shortAddress(c.author)} `,
                h(
                  "button.link-button",
                  {
                    type: "button",
                    onclick: () => {
                      state.parent = null;
                      replyingTo.hidden = true;
                    },
                  },
                  "Cancel reply",
                ),
              );
              text.focus();
            },
          },
          "Reply",
        ),
      );
    }
    if (mine) {
      actions.push(
        h(
          "button.link-button",
          { type: "button", onclick: () => setHidden(c, !c.hidden) },
          c.hidden ? "Show" : "Hide",
        ),
      );
    }
    if (state.me && c.author.toLowerCase() === state.me) {
      const remove = h("button.link-button.danger-link", { type: "button" }, "Delete");
      remove.addEventListener("click", () => deleteComment(c, remove));
      actions.push(remove);
    }
    return h(
      `li.comment${c.hidden ? ".hidden-comment" : ""}`,
      { dataset: { id: c.id } },
      h(
        "div.comment-head",
        {},
        creatorLink(c.author, c.author_name, "a.who"),
        h("span.muted.small", {}, ` ${timeAgo(c.created_at)}`),
        c.hidden ? h("span.pill", {}, "hidden") : null,
      ),
      h("p.comment-body", {}, c.text),
      actions.length ? h("div.row", {}, actions) : null,
      replyItems?.length ? h("ol.replies", { "aria-label": "Replies" }, replyItems) : null,
    );
  }

  /** First press asks, the second deletes the comment (and its replies) for everyone. */
  async function deleteComment(c, button) {
    if (button.dataset.armed !== "1") {
      button.dataset.armed = "1";
      button.textContent = "Delete for everyone?";
      button.setAttribute("aria-label", "Confirm: delete this comment for everyone");
      button.focus();
      return;
    }
    button.disabled = true;
    try {
      await api.post(`/comments/${c.id}/delete`, {});
      announce("Comment deleted");
      await load();
      text.focus();
    } catch (error) {
      button.disabled = false;
      announce(api.explain(error), "error");
    }
  }

  async function setHidden(c, hidden) {
    try {
      await api.post(`/comments/${c.id}/hide`, { hidden });
      announce(hidden ? "Comment hidden for everyone" : "Comment shown again");
      await load();
    } catch (error) {
      announce(api.explain(error), "error");
    }
  }

  /** A holders-only post: what it takes, the user's balance, and the buy (quote, confirm). */
  async function showGate(mine) {
    if (mine || BigInt(state.minBalance || "0") === 0n) {
      gate.hidden = true;
      return;
    }
    gate.hidden = false;
    const need = BigInt(state.minBalance);
    const holders = await api.get(`/tokens/${item.token}/holders`).catch(() => null);
    const held = BigInt(
      holders?.holders?.find((x) => x.address.toLowerCase() === state.me)?.balance ?? "0",
    );
    const info = await api.get(`/tokens/${item.token}`).catch(() => null);
    const symbol = info?.symbol ?? "tokens";
    if (held >= need) {
      gate.replaceChildren(
        h(
          "p.muted.gate-text",
          {},
          `Only holders of ${formatUnits(need)} ${symbol} comment here; you hold ${formatUnits(held)}.`,
        ),
      );
      return;
    }
    const missing = need - held;
    const amount = formatUnits(missing.toString(), 18, 18).replace(/,/g, "");
    const buy = h("button.primary", { type: "button" }, "Get a quote");
    gate.replaceChildren(
      h(
        "p.warn-text.gate-text",
        {},
        `Only holders of ${formatUnits(need)} ${symbol} can comment on this clip. You hold ${formatUnits(held)}: ${formatUnits(missing)} more are needed.`,
      ),
      buy,
    );
    buy.addEventListener("click", async () => {
      let quote;
      try {
        toBase(amount);
        quote = await api.get(`/tokens/${item.token}/quote`, { side: "buy", amount });
      } catch (error) {
        gate.append(h("p.error-text", {}, api.explain(error)));
        return;
      }
      const limit = withSlippage(quote.cost, "100", "buy");
      const confirm = h(
        "button.primary",
        { type: "button" },
        `Buy ${formatUnits(missing)} ${symbol} for up to ${formatUnits(limit)} TOK`,
      );
      buy.replaceWith(confirm);
      confirm.focus();
      confirm.addEventListener("click", async () => {
        confirm.disabled = true;
        try {
          await api.post(`/tokens/${item.token}/buy`, {
            amount,
            max_cost: limit,
            confirm: true,
          });
          announce(`Bought ${formatUnits(missing)} ${symbol}`);
          await showGate(false);
          out.textContent =
            "Bought. Tokens count once held for the holding window (seconds on a devnet).";
        } catch (error) {
          confirm.disabled = false;
          gate.append(h("p.error-text", {}, api.explain(error)));
        }
      });
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = text.value.trim();
    if (!value) {
      out.textContent = "Write something first.";
      return;
    }
    send.disabled = true;
    out.textContent = "Sending…";
    try {
      const body = { text: value };
      if (state.parent) body.parent = state.parent;
      await api.post(`/posts/${item.id}/comments`, body);
      text.value = "";
      state.parent = null;
      replyingTo.hidden = true;
      out.textContent = "";
      await load();
    } catch (error) {
      out.textContent = api.explain(error);
    } finally {
      send.disabled = false;
    }
  });

  // live: new and hidden comments of this post
  const onEvent = (data) => {
    if (data?.post_id !== item.id) return;
    if (state.loaded && !sheet.hidden) load();
    else if (data.comment_id && !("hidden" in data)) {
      setCount(Number(countEl.textContent || 0) + 1);
    }
  };
  watchPost("comment.new", item.id, sheet, onEvent);
  watchPost("comment.hidden", item.id, sheet, onEvent);
  // a deleted comment (and its replies) leaves the sheet and the count
  watchPost("comment.deleted", item.id, sheet, () => {
    if (state.loaded) load();
    else {
      counted = false;
      refreshCount();
    }
  });
  let counted = false;
  /** Show the post's comment count (asked once, when the card is first shown). */
  async function refreshCount() {
    if (counted) return;
    counted = true;
    const page = await api.get(`/posts/${item.id}/comments`, { limit: 50 }).catch(() => null);
    if (page && !state.loaded) setCount(`${page.items.length}${page.next ? "+" : ""}`);
  }
  setCount("");
  return { toggle, sheet, refreshCount };
}
