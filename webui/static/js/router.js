// Hash routes: #/, #/following, #/search?q=, #/creator/0x…, #/post/0x…, #/upload, #/status,
// #/tag/<tag>, #/notifications, #/welcome, #/open?link=web+toktok:…, #/portfolio.

/** Parse location.hash into {name, param, query}. */
export function parseHash(hash) {
  const raw = (hash || "#/").replace(/^#/, "") || "/";
  const cut = raw.indexOf("?");
  const path = cut < 0 ? raw : raw.slice(0, cut);
  const queryString = cut < 0 ? "" : raw.slice(cut + 1);
  const query = Object.fromEntries(new URLSearchParams(queryString));
  const parts = path.split("/").filter(Boolean);
  const name = parts[0] ?? "";
  switch (name) {
    case "":
      return { name: "feed", tab: "for_you", query };
    case "following":
      return { name: "feed", tab: "following", query };
    case "search":
      return { name: "search", query };
    case "creator":
      return /^0x[0-9a-fA-F]{40}$/.test(parts[1] ?? "")
        ? { name: "creator", param: parts[1], query }
        : { name: "notfound", query };
    case "post":
      return /^0x[0-9a-fA-F]{64}$/.test(parts[1] ?? "")
        ? { name: "post", param: parts[1], query }
        : { name: "notfound", query };
    case "upload":
      return { name: "upload", query };
    case "status":
      return { name: "status", query };
    case "tag": {
      let tag = "";
      try {
        tag = decodeURIComponent(parts[1] ?? "");
      } catch {
        tag = "";
      }
      return tag ? { name: "tag", param: tag, query } : { name: "notfound", query };
    }
    case "notifications":
    case "welcome":
    case "open":
      return { name, query };
    case "portfolio":
      return { name: "portfolio", query };
    default:
      return { name: "notfound", query };
  }
}

export function navigate(hash) {
  if (location.hash !== hash) location.hash = hash;
}
