// The feed: full-height vertical cards, one clip each, snapping as you scroll.
import * as api from "./api.js";
import { h, announce, formatUnits, formatDuration, shortAddress, timeAgo } from "./dom.js";
import { BandwidthMeter, browserCanPlay, chooseRendition } from "./player.js";
import { unlockPanel } from "./unlock.js";
import { icon } from "./icons.js";

const meter = new BandwidthMeter();
const MAX_RETRIES = 5;
const RETRY_MS = 3000;
const prefs = { muted: true };
const creatorCache = new Map();

export function creatorInfo(address) {
  if (!creatorCache.has(address)) {
    creatorCache.set(
      address,
      api.get(`/creators/${address}`).catch(() => null),
    );
  }
  return creatorCache.get(address);
}

/** Forget cached creator facts (after a follow or a trade). */
export function forgetCreator(address) {
  creatorCache.delete(address);
}

/**
 * Mount a feed into `container`. `load(cursor)` returns a page {items, next}; `title` names the
 * feed for assistive tech; `tabs` shows the For you / Following switch.
 */
export function mountFeed(container, { load, title, tabs = null, empty }) {
  const state = { items: [], cards: [], next: undefined, loading: false, current: -1, done: false };
  const list = h("div.cards", { role: "feed", "aria-label": title, "aria-busy": "true" });
  const side = h("aside.side", { "aria-label": "Clip details" });
  const fresh = new Set(); // ids of new posts announced by the event stream, not shown yet
  const badge = h("button.new-posts", { type: "button", hidden: true, onclick: () => showNew() });
  const badgeRegion = tabs
    ? h("div.new-posts-region", { role: "status", "aria-live": "polite" }, badge)
    : null;
  const column = h("div.feed-column", {}, tabs ? tabBar(tabs) : null, badgeRegion, list);
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
    const card = clipCard(item, () => select(state.cards.indexOf(card), true));
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
    if (emptyEl)
      showNew(); // nothing on screen to keep in place
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
          item.tags.map((t) =>
            h("a.tag", { href: `#/search?q=${encodeURIComponent(t)}` }, `#${t}`),
          ),
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

/** One clip card: poster, video, overlay with actions; loads its Clip lazily. */
function clipCard(item, focusSelf) {
  const video = h("video.clip-video", {
    muted: true,
    loop: true,
    playsinline: true,
    preload: "none",
    "aria-label": `Video: ${item.title || "untitled clip"}`,
  });
  video.muted = prefs.muted;
  const seek = h("input.seek", {
    type: "range",
    min: 0,
    max: 1000,
    value: 0,
    step: 1,
    "aria-label": "Seek",
  });
  const likeCount = h("span.count", {}, String(item.likes ?? 0));
  const likeButton = h(
    "button.action",
    {
      type: "button",
      "aria-pressed": "false",
      "aria-label": `Like (${item.likes ?? 0})`,
      onclick: () => like(),
    },
    icon("heart"),
    likeCount,
  );
  const muteButton = h(
    "button.action",
    {
      type: "button",
      "aria-label": "Sound",
      "aria-pressed": String(!prefs.muted),
      onclick: () => el.dispatchEvent(new CustomEvent("toktok:mute", { bubbles: true })),
    },
    icon(prefs.muted ? "soundOff" : "soundOn"),
  );
  const followButton = h(
    "button.action.follow",
    { type: "button", "aria-pressed": "false", onclick: () => follow() },
    "Follow",
  );
  const price = h("span.price", {}, "");
  const chip = h(
    "a.creator-chip",
    { href: `#/creator/${item.creator}` },
    h(
      "span.avatar",
      { "aria-hidden": "true" },
      (item.creator_name || "?").slice(0, 1).toUpperCase(),
    ),
    h("span", {}, item.creator_name || shortAddress(item.creator)),
    price,
  );
  const status = h("p.clip-status", { role: "status" });
  const overlay = h(
    "div.overlay",
    {},
    h(
      "div.meta",
      {},
      chip,
      h("h2.clip-title", {}, item.title || "Untitled clip"),
      item.tags?.length ? h("p.tags", {}, item.tags.map((t) => `#${t}`).join(" ")) : null,
      seek,
    ),
    h("div.actions", {}, likeButton, followButton, muteButton),
  );
  const lock = h("div.lock", { hidden: true });
  const el = h(
    "article.card-clip",
    { "aria-label": item.title || "Untitled clip", tabindex: "-1", dataset: { id: item.id } },
    video,
    lock,
    overlay,
    status,
  );
  if (item.creator_forked) el.append(h("p.fork-badge", {}, "forked log"));
  if (item.available === false) showUnavailable();

  /** No peer serves this clip right now: say so instead of a card that never plays. */
  function showUnavailable() {
    el.classList.add("unavailable");
    el.dataset.unavailable = "true";
    status.textContent = "Unavailable: no peer is serving this clip right now.";
  }

  let clip = null;
  let clipPromise = null;
  let retries = 0;
  let active = false;
  let loadStart = 0;
  let rendition = null;

  creatorInfo(item.creator).then((info) => {
    if (!info) return;
    followButton.setAttribute("aria-pressed", String(Boolean(info.following)));
    followButton.textContent = info.following ? "Following" : "Follow";
    if (info.token?.spot_price) price.textContent = ` · ${formatUnits(info.token.spot_price)} TOK`;
  });

  function loadClip() {
    if (!clipPromise) {
      clipPromise = api.get(`/posts/${item.id}/clip`).then(
        (c) => {
          clip = c;
          status.textContent = "";
          el.classList.remove("unavailable");
          delete el.dataset.unavailable;
          if (c.poster?.url) video.poster = c.poster.url;
          showLock();
          return c;
        },
        (error) => {
          const detail = api.explain(error);
          status.textContent =
            error.status === 404 ? `This clip has not reached your peer yet (${detail}).` : detail;
          if (error.status === 504) showUnavailable();
          clipPromise = null;
          // Content may still be on its way from other peers: retry a few times while shown.
          if (active && error.status !== 400 && retries < MAX_RETRIES) {
            retries += 1;
            setTimeout(() => active && attach("auto").then((ok) => ok && play()), RETRY_MS);
          }
          return null;
        },
      );
    }
    return clipPromise;
  }

  function showLock() {
    el.classList.toggle("locked", Boolean(clip?.locked));
    if (!clip?.locked) {
      lock.hidden = true;
      return;
    }
    lock.hidden = false;
    lock.replaceChildren(
      unlockPanel(item, async () => {
        clipPromise = null;
        clip = null;
        await loadClip();
        if (active) attach("auto").then(play);
      }),
    );
  }

  let wanted = null; // what the feed last asked of this card: "auto", "metadata" or null

  async function attach(preload) {
    wanted = preload;
    const c = await loadClip();
    if (!c || c.locked || wanted !== preload) return false;
    if (!rendition) {
      rendition = chooseRendition(c.renditions, {
        viewportHeight: el.clientHeight || window.innerHeight,
        dpr: window.devicePixelRatio || 1,
        bandwidth: meter.estimate(),
        canPlay: browserCanPlay(video),
      });
      if (!rendition) {
        status.textContent = "This browser cannot play this clip.";
        return false;
      }
      el.dataset.rendition = rendition.name;
    }
    video.preload = preload;
    if (video.getAttribute("src") !== rendition.url) {
      loadStart = performance.now();
      video.src = rendition.url;
    }
    return true;
  }

  function measure() {
    if (!rendition || !video.duration || !video.buffered.length) return;
    const seconds = (performance.now() - loadStart) / 1000;
    const fraction = video.buffered.end(video.buffered.length - 1) / video.duration;
    meter.record(fraction * (rendition.size || 0), seconds);
  }
  video.addEventListener("canplaythrough", measure);
  video.addEventListener("timeupdate", () => {
    if (video.duration && document.activeElement !== seek) {
      seek.value = String(Math.round((video.currentTime / video.duration) * 1000));
    }
    seek.setAttribute(
      "aria-valuetext",
      `${formatDuration(video.currentTime * 1000)} of ${formatDuration(video.duration * 1000)}`,
    );
  });
  seek.addEventListener("input", () => {
    if (video.duration) video.currentTime = (Number(seek.value) / 1000) * video.duration;
  });
  video.addEventListener("click", () => {
    focusSelf();
    el.dispatchEvent(new CustomEvent("toktok:mute", { bubbles: true }));
  });
  video.addEventListener("error", () => {
    if (video.getAttribute("src")) status.textContent = "The clip could not be loaded.";
  });

  async function play() {
    if (!active) return;
    try {
      await video.play();
    } catch (error) {
      if (error.name === "NotAllowedError" && !video.muted) {
        video.muted = true;
        await video.play().catch(() => {});
      }
    }
  }

  async function like() {
    try {
      const answer = await api.post(`/posts/${item.id}/like`, {});
      likeCount.textContent = String(answer.likes);
      likeButton.setAttribute("aria-label", `Like (${answer.likes})`);
      likeButton.setAttribute("aria-pressed", "true");
    } catch (error) {
      announce(api.explain(error), "error");
    }
  }

  async function follow() {
    const on = followButton.getAttribute("aria-pressed") !== "true";
    try {
      const answer = await api.post(`/creators/${item.creator}/follow`, { on });
      followButton.setAttribute("aria-pressed", String(answer.following));
      followButton.textContent = answer.following ? "Following" : "Follow";
      forgetCreator(item.creator);
      announce(answer.following ? "Following" : "Unfollowed");
    } catch (error) {
      announce(api.explain(error), "error");
    }
  }

  return {
    el,
    like,
    activate() {
      active = true;
      el.classList.add("active");
      video.muted = prefs.muted;
      attach("auto").then((ok) => ok && play());
    },
    preload(level) {
      active = false;
      el.classList.remove("active");
      video.pause();
      attach(level);
    },
    release() {
      wanted = null;
      active = false;
      el.classList.remove("active");
      video.pause();
      if (video.getAttribute("src")) {
        video.removeAttribute("src");
        video.load();
      }
    },
    setMuted(muted) {
      video.muted = muted;
      muteButton.setAttribute("aria-pressed", String(!muted));
      muteButton.replaceChildren(icon(muted ? "soundOff" : "soundOn"));
      if (active && video.paused) play();
    },
    togglePause() {
      if (video.paused) play();
      else video.pause();
    },
    seekBy(seconds) {
      if (video.duration)
        video.currentTime = Math.max(
          0,
          Math.min(video.duration - 0.05, video.currentTime + seconds),
        );
    },
  };
}
