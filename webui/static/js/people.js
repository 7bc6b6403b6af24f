// How a creator appears everywhere: avatar (or initial) and name, with the short address when
// another creator known to this peer shows the same name (display names are not unique).
import { h, shortAddress } from "./dom.js";
import { creatorInfo } from "./follow.js";

/** An avatar: the creator's image once known, else the initial of `name`. */
export function avatar(name, { big = false, url = null } = {}) {
  const el = h(`span.avatar${big ? ".big" : ""}`, { "aria-hidden": "true" });
  showAvatar(el, name, url);
  return el;
}

/** Put `url`'s image (or the initial of `name`) into an avatar element. */
export function showAvatar(el, name, url) {
  if (url) {
    el.replaceChildren(h("img", { src: url, alt: "", width: 64, height: 64, loading: "lazy" }));
    el.classList.add("has-image");
  } else {
    el.replaceChildren((name || "?").slice(0, 1).toUpperCase());
    el.classList.remove("has-image");
  }
}

/** The short address shown beside a name that another creator shares. */
export function shortTag(address) {
  return h("span.short-address.mono", { title: address }, shortAddress(address));
}

/** Fill an avatar element and a name element from the creator's facts, when they arrive. */
export function decorateCreator(address, { avatarEl, nameEl }) {
  return creatorInfo(address).then((info) => {
    if (!info) return null;
    if (avatarEl) showAvatar(avatarEl, info.name, info.avatar_url);
    if (nameEl && info.name_shared && !nameEl.querySelector(".short-address")) {
      nameEl.append(" ", shortTag(address));
    }
    return info;
  });
}

/** A link to a creator's page with avatar and name (search results, notifications). */
export function creatorLink(address, name, tag = "a.creator-chip") {
  const avatarEl = avatar(name);
  const nameEl = h("span.creator-name", {}, name || shortAddress(address));
  decorateCreator(address, { avatarEl, nameEl }).then((info) => {
    if (info?.name && !name) nameEl.firstChild.textContent = info.name;
  });
  return h(tag, { href: `#/creator/${address}` }, avatarEl, nameEl);
}
