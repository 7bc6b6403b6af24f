// Live updates of posts: one listener per event kind on the stream; cards register the posts
// they show and are dropped once they leave the document.
import * as api from "./api.js";

const watchers = new Map(); // kind -> post id -> Set of {el, fn}

/** Call `fn(data)` for each `kind` event about `postId`, while `el` is in the document. */
export function watchPost(kind, postId, el, fn) {
  if (!watchers.has(kind)) {
    const byPost = new Map();
    watchers.set(kind, byPost);
    api.on(kind, (data) => {
      const set = byPost.get(data?.post_id);
      if (!set) return;
      for (const watcher of [...set]) {
        if (!watcher.el.isConnected) set.delete(watcher);
        else watcher.fn(data);
      }
      if (!set.size) byPost.delete(data.post_id);
    });
  }
  const byPost = watchers.get(kind);
  if (!byPost.has(postId)) byPost.set(postId, new Set());
  byPost.get(postId).add({ el, fn });
}

/** Call `fn({post_id, likes})` when the post's like count changes (while `el` is shown). */
export function watchCounts(postId, el, fn) {
  watchPost("post.counts", postId, el, fn);
}
