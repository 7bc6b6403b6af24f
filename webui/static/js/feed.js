// The feed: full-height vertical cards, one clip each, snapping as you scroll.
import * as api from "./api.js";
import { clipCard } from "./clip-card.js";
import { announce, formatDuration, formatUnits, h, shortAddress, timeAgo } from "./dom.js";
import { creatorInfo } from "./follow.js";

const prefs = { muted: true }; // the sound setting, one for every feed and card

/**
 * Mount a feed into `container`. `load(cursor)` returns a page {items, next}; `title` names the
 * feed for assistive tech; `tabs` shows the For you / Following switch.
 */
export function mountFeed(container, { load, title, tabs = null, empty, heading = null }) {
  const state = { items: [], cards: [], next: undefined, loading: false, current: -1, done: false };
  const list = h("div.cards", { role: "feed", "aria-label": title, "aria-busy": "true" });
  const side = h("aside.side", { "aria-label": "Clip details" });
  const fresh = new Set(); // ids of new posts announced by the event stream, not shown yet
  const badge = h("button.new-posts", { type: "button", hidden: true, onclick: () => showNew() });
  const badgeRegion = tabs
    ? h("div.new-posts-region", { role: "status", "aria-live": "polite" }, badge)
    : null;
  const column = h(
    "div.feed-column",
    {},
    heading ? h("h1.feed-heading", {}, heading) : null,
    tabs ? tabBar(tabs) : null,
    badgeRegion,
    list,
  );
  container.replaceChildren(h("div.feed-layout", {}, column, side));
  let emptyEl = null;
  let alive = true; // false once the view is left (async work then stops)

  async function loadMore() {
    if (state.loading || state.done) return;
    state.loading = true;
    list.setAttribute("aria-busy", "true");
    try {
      const page = await load(state.next);
      for (const item of page.items ?? []) addCard(item);
      state.next = page.next ?? null;
      state.done = !state.next;
      if (!state.items.length) {
        emptyEl = emptyCard(empty);
        list.append(emptyEl);
      }
    } catch (error) {
      state.done = true;
      list.append(
        h("article.card-clip.message", {}, h("p", { role: "alert" }, api.explain(error))),
      );
    } finally {
      state.loading = false;
      list.setAttribute("aria-busy", "false");
    }
    if (state.current < 0 && state.cards.length) select(0, false);
  }

  function makeCard(item) {
    const card = clipCard(item, prefs, () => select(state.cards.indexOf(card), true));
    observer.observe(card.el);
    return card;
  }

  function addCard(item) {
    if (state.items.some((known) => known.id === item.id)) return;
    const card = makeCard(item);
    state.items.push(item);
    state.cards.push(card);
    card.el.setAttribute("aria-posinset", String(state.cards.length));
    list.append(card.el);
  }

  function select(index, scroll) {
    if (index < 0 || index >= state.cards.length) return;
    if (scroll) state.cards[index].el.scrollIntoView({ behavior: "smooth", block: "start" });
    if (index === state.current) return;
    state.current = index;
    state.cards.forEach((card, i) => {
      const distance = i - index;
      if (distance === 0) card.activate();
      else if (distance === 1) card.preload("auto");
      else if (distance === -1 || distance === 2) card.preload("metadata");
      else card.release();
    });
    side.replaceChildren(...sidePanel(state.items[index], state.items.slice(index + 1, index + 4)));
    if (index >= state.cards.length - 3) loadMore();
  }

  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting && entry.intersectionRatio >= 0.6) {
          select(
            state.cards.findIndex((c) => c.el === entry.target),
            false,
          );
        }
      }
    },
    { root: list, threshold: [0.6] },
  );

  function updateBadge() {
    const n = fresh.size;
    badge.hidden = n === 0;
    badge.disabled = false;
    badge.textContent = n === 1 ? "1 new clip" : `${n} new clips`;
  }

  /** A post.new event: count it in the badge (the list itself does not move under the user). */
  async function onNewPost(data) {
    const id = data?.post_id;
    const creator = data?.creator;
    if (!id || fresh.has(id) || state.items.some((item) => item.id === id)) return;
    if (tabs === "following") {
      const info = creator ? await creatorInfo(creator) : null;
      if (!info?.following || !alive) return;
    }
    fresh.add(id);
    // With nothing on screen there is no place to keep: show the clip at once.
    if (emptyEl) showNew();
    else updateBadge();
  }

  let adding = Promise.resolve(); // one addNew at a time, so no clip is added twice

  function showNew() {
    adding = adding.then(addNew).catch((error) => console.warn("new clips", error));
    return adding;
  }

  /** Put the new clips on top of the list (the rest stays as it was) and go to the newest. */
  async function addNew() {
    if (!fresh.size || !alive) return;
    badge.disabled = true;
    const wanted = new Set(fresh);
    let items;
    try {
      // The feed's own first page applies its filters (mutes, blocks, follows) and order.
      const page = await load(undefined);
      items = page.items ?? [];
      const found = new Set(items.map((item) => item.id));
      for (const id of wanted) {
        if (found.has(id)) continue;
        const item = await api.get(`/posts/${id}`).catch(() => null);
        if (item) items.push(item);
      }
    } catch (error) {
      updateBadge();
      announce(api.explain(error), "error");
      return;
    }
    if (!alive) return;
    for (const id of wanted) fresh.delete(id);
    updateBadge();
    const known = new Set(state.items.map((item) => item.id)); // as of now (pages may have loaded)
    items = items.filter((item) => !known.has(item.id) && known.add(item.id));
    if (!items.length) return;
    if (emptyEl) {
      emptyEl.remove();
      emptyEl = null;
    }
    const cards = items.map(makeCard);
    list.prepend(...cards.map((card) => card.el));
    state.items.unshift(...items);
    state.cards.unshift(...cards);
    for (const [i, card] of state.cards.entries()) {
      card.el.setAttribute("aria-posinset", String(i + 1));
    }
    if (state.current >= 0) state.current += cards.length; // the clip the user was on stays put
    // Jump, not a smooth scroll: passing over the cards in between would start each of them.
    list.scrollTop = 0;
    select(0, false);
    cards[0].el.focus({ preventScroll: true });
    announce(
      cards.length === 1
        ? "1 new clip added at the top"
        : `${cards.length} new clips added at the top`,
    );
  }

  function onKey(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
    const card = state.cards[state.current];
    switch (event.key) {
      case "ArrowDown":
      case "j":
        select(Math.min(state.current + 1, state.cards.length - 1), true);
        break;
      case "ArrowUp":
      case "k":
        select(Math.max(state.current - 1, 0), true);
        break;
      case "m":
        setMuted(!prefs.muted);
        break;
      case " ":
        if (event.target.closest?.("button, a")) return;
        card?.togglePause();
        break;
      case "ArrowRight":
        card?.seekBy(5);
        break;
      case "ArrowLeft":
        card?.seekBy(-5);
        break;
      case "l":
        card?.like();
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  function setMuted(muted) {
    prefs.muted = muted;
    for (const card of state.cards) card.setMuted(muted);
    announce(muted ? "Sound off" : "Sound on");
  }

  const offNew = tabs ? api.on("post.new", onNewPost) : () => {};

  document.addEventListener("keydown", onKey);
  list.addEventListener("toktok:mute", () => setMuted(!prefs.muted));
  loadMore();
  return () => {
    alive = false;
    document.removeEventListener("keydown", onKey);
    observer.disconnect();
    offNew();
    for (const card of state.cards) card.release();
  };
}

function tabBar(active) {
  const tab = (id, label, hash) =>
    h("a.tab", { href: hash, "aria-current": active === id ? "page" : null }, label);
  return h(
    "nav.tabs",
    { "aria-label": "Feeds" },
    tab("for_you", "For you", "#/"),
    tab("following", "Following", "#/following"),
  );
}

function emptyCard(text) {
  return h(
    "article.card-clip.message",
    {},
    h("p", {}, text ?? "No clips yet."),
    h(
      "p",
      {},
      h("a", { href: "#/upload" }, "Upload a clip"),
      " or ",
      h("a", { href: "#/search" }, "search"),
    ),
  );
}

function sidePanel(item, upNext) {
  if (!item) return [];
  const parts = [
    h("h2", {}, item.title || "Untitled clip"),
    h(
      "p.muted",
      {},
      h(
        "a",
        { href: `#/creator/${item.creator}` },
        item.creator_name || shortAddress(item.creator),
      ),
      ` · ${timeAgo(item.created_at)} · ${formatDuration(item.duration_ms)}`,
    ),
    item.tags?.length
      ? h(
          "p.tags",
          {},
          item.tags.map((t) => h("a.tag", { href: `#/tag/${encodeURIComponent(t)}` }, `#${t}`)),
        )
      : null,
    item.premium
      ? h("p.premium", {}, `Premium: hold ${formatUnits(item.min_balance)} tokens`)
      : null,
    item.creator_forked ? h("p.warn-text", {}, "Warning: this creator's log is forked.") : null,
    upNext.length ? h("h3", {}, "Up next") : null,
    upNext.length
      ? h(
          "ol.up-next",
          {},
          upNext.map((n) => h("li", {}, n.title || "Untitled clip")),
        )
      : null,
    h("p.hint", {}, "Keys: ↑/↓ or j/k next clip, m sound, space pause, ←/→ seek, l like"),
  ];
  return parts.filter(Boolean);
}
