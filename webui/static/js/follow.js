// Following creators: one cache of creator facts and one follow button, for every view.
import * as api from "./api.js";
import { announce, h } from "./dom.js";
import { creatorFacts, invalidate } from "./token-state.js";

/** The creator's facts and their invalidation live in token-state.js (one source of truth). */
export const creatorInfo = creatorFacts;
export const forgetCreator = invalidate;

/** Show on a follow button whether the user follows its creator. */
export function showFollowing(button, following) {
  button.setAttribute("aria-pressed", String(Boolean(following)));
  button.textContent = following ? "Following" : "Follow";
}

/**
 * A toggle button that follows or unfollows the creator at `address`; `tag` gives its element
 * and classes (see `h`), `following` its first state.
 */
export function followButton(address, { tag = "button", following = false } = {}) {
  const button = h(tag, { type: "button", onclick: () => toggle() });
  showFollowing(button, following);

  async function toggle() {
    const on = button.getAttribute("aria-pressed") !== "true";
    try {
      const answer = await api.post(`/creators/${address}/follow`, { on });
      showFollowing(button, answer.following);
      forgetCreator(address);
      announce(answer.following ? "Following" : "Unfollowed");
    } catch (error) {
      announce(api.explain(error), "error");
    }
  }

  return button;
}
