// One clip card of the feed: poster, video, overlay with actions; loads its Clip lazily.
import * as api from "./api.js";
import { announce, formatDuration, formatUnits, h, shortAddress } from "./dom.js";
import { followButton, showFollowing } from "./follow.js";
import { isMe } from "./session.js";
import { watchCreator } from "./token-state.js";
import { icon } from "./icons.js";
import { commentControl } from "./comments.js";
import { watchCounts } from "./live.js";
import { avatar, showAvatar, shortTag } from "./people.js";
import { shareControl } from "./share.js";
import { BandwidthMeter, browserCanPlay, chooseRendition } from "./player.js";
import { unlockPanel } from "./unlock.js";

const meter = new BandwidthMeter(); // one estimate for the whole page, fed by every card
const MAX_RETRIES = 5;
const RETRY_MS = 3000;

/**
 * The card of `item`. `prefs.muted` is the feed's sound setting; `focusSelf()` makes this card
 * the feed's current one. Returns the element and the controls the feed drives.
 */
export function clipCard(item, prefs, focusSelf) {
  const parts = cardParts(item, prefs.muted);
  const { el, video, status, lock } = parts;
  const state = {
    clip: null,
    clipPromise: null,
    retries: 0,
    active: false,
    wanted: null,
    rendition: null,
    loadStart: 0,
    userPaused: false,
  };
  if (item.available === false) showUnavailable(parts);
  showCreatorFacts(item.creator, parts);
  wireVideo(parts, state, focusSelf, explainFailure);
  const like = likeAction(item, parts);
  watchCounts(item.id, el, ({ likes }) => showLikes(parts, likes));

  function loadClip() {
    if (!state.clipPromise) {
      state.clipPromise = api.get(`/posts/${item.id}/clip`).then(
        (clip) => {
          state.clip = clip;
          clearUnavailable(parts);
          if (clip.poster?.url) video.poster = clip.poster.url;
          showLock();
          return clip;
        },
        (error) => {
          showLoadError(parts, error);
          state.clipPromise = null;
          // Content may still be on its way from other peers: retry a few times while shown.
          if (state.active && error.status !== 400 && state.retries < MAX_RETRIES) {
            state.retries += 1;
            setTimeout(() => state.active && attach("auto").then((ok) => ok && play()), RETRY_MS);
          }
          return null;
        },
      );
    }
    return state.clipPromise;
  }

  /** The video failed: the content port can only abort, so ask the peer why (a relay that
   * cut the transfer is named; anything else is the generic message). */
  async function explainFailure() {
    try {
      const clip = await api.get(`/posts/${item.id}/clip`);
      if (clip.unplayable) {
        showUnplayable(parts, clip.unplayable);
        return;
      }
    } catch (error) {
      showLoadError(parts, error);
      return;
    }
    status.textContent = "The clip could not be loaded.";
  }

  function showLock() {
    const locked = Boolean(state.clip?.locked);
    el.classList.toggle("locked", locked);
    lock.hidden = !locked;
    if (!locked) return;
    lock.replaceChildren(
      unlockPanel(item, async () => {
        state.clipPromise = null;
        state.clip = null;
        await loadClip();
        if (state.active) attach("auto").then(play);
      }),
    );
  }

  /** Point the video at the clip's rendition with `preload`; false when it cannot play (yet). */
  async function attach(preload) {
    state.wanted = preload;
    const clip = await loadClip();
    if (!clip || clip.locked || state.wanted !== preload) return false;
    if (!state.rendition) {
      state.rendition = pickRendition(clip, el, video);
      if (!state.rendition) {
        status.textContent = "This browser cannot play this clip.";
        return false;
      }
      el.dataset.rendition = state.rendition.name;
    }
    video.preload = preload;
    if (video.getAttribute("src") !== state.rendition.url) {
      state.loadStart = performance.now();
      video.src = state.rendition.url;
    }
    return true;
  }

  async function play() {
    if (!state.active || state.userPaused) return;
    try {
      await video.play();
    } catch (error) {
      if (error.name === "NotAllowedError" && !video.muted) {
        video.muted = true;
        await video.play().catch(() => {});
      }
    }
  }

  function deactivate() {
    state.active = false;
    el.classList.remove("active");
    video.pause();
  }

  return {
    el,
    like,
    activate() {
      state.active = true;
      state.userPaused = false;
      parts.comments.refreshCount();
      el.classList.add("active");
      video.muted = prefs.muted;
      attach("auto").then((ok) => ok && play());
    },
    preload(level) {
      deactivate();
      attach(level);
    },
    release() {
      state.wanted = null;
      deactivate();
      if (video.getAttribute("src")) {
        video.removeAttribute("src");
        video.load();
      }
    },
    setMuted(muted) {
      video.muted = muted;
      showSound(parts.muteButton, muted);
      parts.soundHint.hidden = !muted;
      if (state.active && video.paused) play();
    },
    togglePause() {
      if (video.paused) {
        state.userPaused = false;
        play();
      } else {
        state.userPaused = true;
        video.pause();
      }
    },
    seekBy(seconds) {
      if (!video.duration) return;
      const last = video.duration - 0.05;
      video.currentTime = Math.max(0, Math.min(last, video.currentTime + seconds));
    },
  };
}

/** The card's elements: video, seek bar, creator chip, actions, lock and status line. */
function cardParts(item, muted) {
  const title = item.title || "Untitled clip";
  const video = h("video.clip-video", {
    muted: true,
    loop: true,
    playsinline: true,
    preload: "none",
    "aria-label": `Video: ${item.title || "untitled clip"}`,
  });
  video.muted = muted;
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
    { type: "button", "aria-pressed": "false", "aria-label": `Like (${item.likes ?? 0})` },
    icon("heart"),
    likeCount,
  );
  const muteButton = h("button.action", {
    type: "button",
    "aria-label": "Sound",
    onclick: () => askToggleSound(el),
  });
  showSound(muteButton, muted);
  const follow = followButton(item.creator, { tag: "button.action.follow" });
  const price = h("span.price", {}, "");
  const tags = item.tags?.length
    ? h(
        "p.tags",
        {},
        item.tags.map((t) => h("a.tag", { href: `#/tag/${encodeURIComponent(t)}` }, `#${t}`)),
      )
    : null;
  const share = shareControl({ post: item.id }, "button.action.share");
  share.toggle.prepend(icon("share"));
  share.toggle.setAttribute("aria-label", "Share");
  const avatarEl = avatar(item.creator_name);
  const nameEl = h("span.creator-name", {}, item.creator_name || shortAddress(item.creator));
  const chip = h("a.creator-chip", { href: `#/creator/${item.creator}` }, avatarEl, nameEl, price);
  const commentCount = h("span.count", {}, "");
  const comments = commentControl(
    item,
    h("button.action.comments", { type: "button" }, icon("comment"), commentCount),
    commentCount,
  );
  const overlay = h(
    "div.overlay",
    {},
    h("div.meta", {}, chip, h("h2.clip-title", {}, title), tags, seek),
    h("div.actions", {}, likeButton, comments.toggle, follow, share.toggle, muteButton),
  );
  const status = h("p.clip-status", { role: "status" });
  const lock = h("div.lock", { hidden: true });
  // Tap the video to pause; while the sound is off, a visible hint says how to turn it on.
  const soundHint = h(
    "button.sound-hint",
    { type: "button", hidden: !muted, onclick: () => askToggleSound(el) },
    icon("soundOff", 18),
    "Tap for sound",
  );
  const pausedMark = h(
    "span.paused-mark",
    { "aria-hidden": "true", hidden: true },
    icon("play", 56),
  );
  const el = h(
    "article.card-clip",
    { "aria-label": title, tabindex: "-1", dataset: { id: item.id } },
    video,
    pausedMark,
    soundHint,
    lock,
    overlay,
    share.panel,
    comments.sheet,
    status,
  );
  if (item.creator_forked) el.append(h("p.fork-badge", {}, "forked log"));
  return {
    el,
    video,
    seek,
    likeButton,
    likeCount,
    muteButton,
    follow,
    price,
    status,
    lock,
    soundHint,
    pausedMark,
    avatarEl,
    nameEl,
    comments,
  };
}

/** The sound button shows and tells whether sound is on. */
function showSound(muteButton, muted) {
  muteButton.setAttribute("aria-pressed", String(!muted));
  muteButton.replaceChildren(icon(muted ? "soundOff" : "soundOn"));
}

/** Ask the feed to switch the sound (it is one setting for every card). */
function askToggleSound(el) {
  el.dispatchEvent(new CustomEvent("toktok:mute", { bubbles: true }));
}

/** Fill in whether the user follows the creator, the avatar, the short address beside a name
 * another creator shares, and the creator token's price, and keep them current (token-state.js
 * refreshes them after trades). The user's own clips offer no follow button. */
function showCreatorFacts(address, { el, follow, price, avatarEl, nameEl }) {
  isMe(address).then((mine) => {
    if (mine) follow.remove();
  });
  watchCreator(address, (info) => {
    if (!el.isConnected && el.dataset.shown) return false; // the card left the page
    el.dataset.shown = "true";
    showFollowing(follow, info.following);
    showAvatar(avatarEl, info.name, info.avatar_url);
    if (info.name_shared && !nameEl.querySelector(".short-address")) {
      nameEl.append(" ", shortTag(address));
    }
    price.textContent = info.token?.spot_price
      ? ` · ${formatUnits(info.token.spot_price)} TOK`
      : "";
    return true;
  });
}

/** No peer serves this clip right now: say so instead of a card that never plays. */
function showUnavailable({ el, status }) {
  el.classList.add("unavailable");
  el.dataset.unavailable = "true";
  status.textContent = "Unavailable: no peer is serving this clip right now.";
}

function clearUnavailable({ el, status }) {
  status.textContent = "";
  el.classList.remove("unavailable");
  delete el.dataset.unavailable;
}

/** The peer says why this clip cannot play yet (e.g. `relay_limited`): say it, and stop. */
function showUnplayable({ el, status }, { code, message }) {
  el.classList.add("unplayable");
  el.dataset.unplayable = code;
  status.textContent = `Cannot play yet: ${message}.`;
}

function showLoadError(parts, error) {
  if (error.code === "relay_limited") {
    showUnplayable(parts, { code: error.code, message: error.message });
    return;
  }
  const detail = api.explain(error);
  parts.status.textContent =
    error.status === 404 ? `This clip has not reached your peer yet (${detail}).` : detail;
  if (error.status === 504) showUnavailable(parts);
}

/** The rendition that suits this screen, this browser and the measured bandwidth (or null). */
function pickRendition(clip, el, video) {
  return chooseRendition(clip.renditions, {
    viewportHeight: el.clientHeight || window.innerHeight,
    dpr: window.devicePixelRatio || 1,
    bandwidth: meter.estimate(),
    canPlay: browserCanPlay(video),
  });
}

/** Seek bar, bandwidth measurement, click to focus and sound, load errors. */
function wireVideo({ video, seek, pausedMark }, state, focusSelf, explainFailure) {
  video.addEventListener("canplaythrough", () => {
    if (!state.rendition || !video.duration || !video.buffered.length) return;
    const seconds = (performance.now() - state.loadStart) / 1000;
    const fraction = video.buffered.end(video.buffered.length - 1) / video.duration;
    meter.record(fraction * (state.rendition.size || 0), seconds);
  });
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
    if (video.paused) {
      state.userPaused = false;
      video.play().catch(() => {});
    } else {
      state.userPaused = true;
      video.pause();
    }
  });
  video.addEventListener("pause", () => {
    pausedMark.hidden = !(state.active && state.userPaused);
  });
  video.addEventListener("play", () => {
    pausedMark.hidden = true;
  });
  video.addEventListener("error", () => {
    if (video.getAttribute("src")) explainFailure();
  });
}

/** The like action: the `l` key likes the post; the button likes it, or takes the like back
 * when it is pressed (an unlike). Shows the count the peer answers. */
function showLikes({ likeButton, likeCount }, likes) {
  likeCount.textContent = String(likes);
  likeButton.setAttribute("aria-label", `Like (${likes})`);
}

function likeAction(item, parts) {
  const { likeButton } = parts;
  async function send(on) {
    try {
      const answer = await api.post(`/posts/${item.id}/${on ? "like" : "unlike"}`, {});
      showLikes(parts, answer.likes);
      likeButton.setAttribute("aria-pressed", on ? "true" : "false");
    } catch (error) {
      announce(api.explain(error), "error");
    }
  }
  const like = () => send(true);
  likeButton.addEventListener("click", () =>
    send(likeButton.getAttribute("aria-pressed") !== "true"),
  );
  return like;
}
