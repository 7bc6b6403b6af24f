// A clip tile (creator page, search): the clip's title and poster, linking to the clip.
import * as api from "./api.js";
import { h } from "./dom.js";

/** A clip tile linking to the clip; its poster is loaded from the clip. */
export function tile(item) {
  const img = h("img", { alt: "", loading: "lazy", width: 180, height: 320 });
  const link = h(
    "a.tile",
    { href: `#/post/${item.id}` },
    img,
    h("span.tile-title", {}, item.title || "Untitled clip"),
    item.premium ? h("span.badge", {}, "Premium") : null,
  );
  api.get(`/posts/${item.id}/clip`).then(
    (clip) => {
      if (clip.poster?.url) img.src = clip.poster.url;
      else img.remove();
    },
    () => img.remove(),
  );
  return h("li", {}, link);
}
