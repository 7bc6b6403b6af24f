// Live counts: one listener on the event stream, each card registers the posts it shows.
import * as api from "./api.js";

const watchers = new Map(); // post id -> Set of {el, fn}
let listening = false;

/** Call `fn(counts)` when the post's counts change, while `el` is in the document. */
export function watchCounts(postId, el, fn) {
  if (!listening) {
    listening = true;
    api.on("post.counts", (data) => {
      const set = watchers.get(data?.post_id);
      if (!set) return;
      for (const watcher of [...set]) {
        if (!watcher.el.isConnected) set.delete(watcher);
        else watcher.fn(data);
      }
      if (!set.size) watchers.delete(data.post_id);
    });
  }
  if (!watchers.has(postId)) watchers.set(postId, new Set());
  watchers.get(postId).add({ el, fn });
}
