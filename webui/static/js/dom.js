// Small DOM helpers: build elements without innerHTML (no HTML injection from API data).

/**
 * h("button#like.primary", {type: "button", onclick}, "Like") -> <button id="like" class="primary">.
 * Attributes: "on*" functions become listeners, `dataset` an object, booleans toggle.
 */
export function h(tag, attrs = {}, ...children) {
  const [head, ...classes] = tag.split(".");
  const [name, id] = head.split("#");
  const el = document.createElement(name || "div");
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "class") {
      el.className = [el.className, value].filter(Boolean).join(" ");
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An SVG element (the price chart). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  append(el, children);
  return el;
}

/** Announce a message to screen readers (and show it in the toast area). */
export function announce(message, kind = "info") {
  const region = document.getElementById("toast");
  if (!region) return;
  const item = h(`p.toast.${kind}`, {}, message);
  region.append(item);
  setTimeout(() => item.remove(), 5000);
}

/** "0x1234…abcd" */
export function shortAddress(address) {
  if (!address) return "—";
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** Format a base-unit (18 decimals) decimal string as a short human number. */
export function formatUnits(value, decimals = 18, digits = 4) {
  if (value === null || value === undefined || value === "") return "—";
  let n;
  try {
    n = BigInt(value);
  } catch {
    return String(value);
  }
  const negative = n < 0n;
  if (negative) n = -n;
  const base = 10n ** BigInt(decimals);
  const whole = n / base;
  let frac = (n % base).toString().padStart(decimals, "0").slice(0, digits).replace(/0+$/, "");
  if (whole === 0n && frac === "" && n > 0n) frac = `${"0".repeat(digits - 1)}1`;
  return `${negative ? "-" : ""}${whole.toLocaleString("en-US")}${frac ? `.${frac}` : ""}`;
}

/** A base-unit string as a float (for charts only, never for money). */
export function unitsToNumber(value, decimals = 18) {
  try {
    return Number(BigInt(value)) / 10 ** decimals;
  } catch {
    return Number(value) || 0;
  }
}

export function formatDuration(ms) {
  const s = Math.round((ms ?? 0) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function timeAgo(unixSeconds) {
  const diff = Math.max(0, Date.now() / 1000 - unixSeconds);
  if (diff < 60) return "just now";
  if (diff < 3600) return `${Math.floor(diff / 60)} min ago`;
  if (diff < 86400) return `${Math.floor(diff / 3600)} h ago`;
  return `${Math.floor(diff / 86400)} d ago`;
}
