// Notifications: the bell with its unread count (live over the event stream) and the list page.
import * as api from "./api.js";
import { formatUnits, h, shortAddress, timeAgo } from "./dom.js";
import { creatorInfo } from "./follow.js";
import { icon } from "./icons.js";
import { creatorLink } from "./people.js";

const BROWSER_KEY = "toktok.browserNotifications";
let unread = 0;
const bells = new Set();

function showUnread() {
  for (const bell of bells) {
    const badge = bell.querySelector(".bell-count");
    badge.textContent = unread > 99 ? "99+" : String(unread);
    badge.hidden = unread === 0;
    bell.setAttribute(
      "aria-label",
      unread ? `Notifications, ${unread} unread` : "Notifications, none unread",
    );
  }
}

/** The bell link for the top bar; it follows the unread count. */
export function bell() {
  const el = h(
    "a.bell",
    { href: "#/notifications" },
    icon("bell"),
    h("span.bell-count", { hidden: true }, "0"),
  );
  bells.add(el);
  showUnread();
  return el;
}

/** Start following the unread count (once, at start-up). */
export function startNotifications() {
  api.get("/notifications", { limit: 1 }).then(
    (page) => {
      unread = page.unread;
      showUnread();
    },
    () => {},
  );
  api.on("notification.new", (data) => {
    unread = data.unread;
    showUnread();
    maybeBrowserNotification(data);
  });
}

function browserWanted() {
  return (
    localStorage.getItem(BROWSER_KEY) === "on" &&
    typeof Notification !== "undefined" &&
    Notification.permission === "granted"
  );
}

async function maybeBrowserNotification(data) {
  if (!browserWanted() || !document.hidden) return;
  const page = await api.get("/notifications", { limit: 5 }).catch(() => null);
  const item = page?.items.find((n) => n.id === data.id);
  if (item) new Notification("Toktok", { body: await sentenceText(item), tag: `n${item.id}` });
}

const VERBS = {
  follow: "followed you",
  like: "liked",
  comment: "commented on",
  reply: "replied to your comment on",
  post: "posted",
};

function others(n) {
  const rest = n.count - Math.min(n.count, n.actors.length, 1);
  if (rest <= 0) return "";
  return ` and ${rest} other${rest === 1 ? "" : "s"}`;
}

async function actorName(address) {
  const info = await creatorInfo(address);
  return info?.name || shortAddress(address);
}

async function sentenceText(n) {
  const who = (await actorName(n.actors[0])) + others(n);
  if (n.type === "trade") {
    const side = n.detail.side === "sell" ? "sold" : "bought";
    return `${who} ${side} ${formatUnits(n.detail.amount)} of your token`;
  }
  const what = n.detail.title ? ` “${n.detail.title}”` : n.type === "follow" ? "" : " your clip";
  return `${who} ${VERBS[n.type] ?? n.type}${what}`;
}

/** One notification as a list item: who (with avatar), what, when, and a link to it. */
function entry(n) {
  const first = n.actors[0];
  const who = creatorLink(first, "", "a.who");
  const more = others(n);
  const target =
    n.type === "post" && n.detail.post_id
      ? `#/post/${n.detail.post_id}`
      : ["like", "comment", "reply"].includes(n.type)
        ? `#/post/${n.subject}`
        : n.type === "trade"
          ? `#/creator/${n.detail.creator ?? ""}`
          : `#/creator/${first}`;
  let what;
  if (n.type === "trade") {
    const side = n.detail.side === "sell" ? "sold" : "bought";
    const times = n.count > 1 ? ` (${n.count} trades)` : "";
    what = ` ${side} ${formatUnits(n.detail.amount)} of your token${times}`;
  } else {
    what = ` ${VERBS[n.type] ?? n.type}`;
  }
  const title = n.detail.title ? h("a", { href: target }, `“${n.detail.title}”`) : null;
  return h(
    `li.notification${n.read ? "" : ".unread"}`,
    { dataset: { type: n.type, id: String(n.id) } },
    h(
      "p.note-text",
      {},
      who,
      more,
      what,
      title ? " " : "",
      title,
      n.read ? null : h("span.visually-hidden", {}, " (new)"),
    ),
    h("p.muted.when", {}, timeAgo(n.last_at)),
  );
}

/** #/notifications: the list; opening it marks what it shows as read. */
export function mountNotifications(container) {
  const list = h("ul.notifications", { "aria-label": "Notifications" });
  const status = h("p.muted", { role: "status" }, "Loading…");
  const markAll = h("button", { type: "button" }, "Mark all read");
  const browser = h("input#browser-notify", { type: "checkbox" });
  browser.checked = browserWanted();
  browser.disabled = typeof Notification === "undefined";
  container.replaceChildren(
    h(
      "div.page",
      {},
      h("div.row.spread", {}, h("h1", {}, "Notifications"), markAll),
      h(
        "div.check",
        {},
        browser,
        h("label", { for: "browser-notify" }, "Also show them as browser notifications"),
      ),
      status,
      list,
    ),
  );
  let alive = true;

  async function load() {
    let page;
    try {
      page = await api.get("/notifications", { limit: 50 });
    } catch (error) {
      status.textContent = api.explain(error);
      return;
    }
    if (!alive) return;
    list.replaceChildren(...page.items.map(entry));
    status.textContent = page.items.length
      ? ""
      : "Nothing yet: follows, likes, comments, trades of your token and new clips of creators you follow show up here.";
    status.hidden = !status.textContent;
    const fresh = page.items.filter((n) => !n.read).map((n) => n.id);
    if (fresh.length) {
      const answer = await api.post("/notifications/read", { ids: fresh }).catch(() => null);
      if (answer) {
        unread = answer.unread;
        showUnread();
      }
    }
  }

  markAll.addEventListener("click", async () => {
    const answer = await api.post("/notifications/read", {}).catch(() => null);
    if (answer) {
      unread = answer.unread;
      showUnread();
      for (const li of list.querySelectorAll(".unread")) li.classList.remove("unread");
    }
  });
  browser.addEventListener("change", async () => {
    if (browser.checked && Notification.permission !== "granted") {
      browser.checked = (await Notification.requestPermission()) === "granted";
    }
    localStorage.setItem(BROWSER_KEY, browser.checked ? "on" : "off");
  });
  const off = api.on("notification.new", () => load());
  load();
  return () => {
    alive = false;
    off();
  };
}
