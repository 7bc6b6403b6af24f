// Hash routes: #/, #/following, #/search?q=, #/creator/0x…, #/post/0x…, #/upload, #/status.

/** Parse location.hash into {name, param, query}. */
export function parseHash(hash) {
  const raw = (hash || "#/").replace(/^#/, "") || "/";
  const [path, queryString = ""] = raw.split("?");
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
    default:
      return { name: "notfound", query };
  }
}

export function navigate(hash) {
  if (location.hash !== hash) location.hash = hash;
}
