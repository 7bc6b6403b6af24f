// Toktok web app: hash router and views. Reads and writes only through /api/v1 and its events.
import * as api from "./js/api.js";
import { h } from "./js/dom.js";
import { parseHash } from "./js/router.js";
import { mountFeed } from "./js/feed.js";
import { mountUpload } from "./js/upload.js";
import { mountCreator } from "./js/creator.js";
import { mountSearch } from "./js/search.js";
import { mountStatus } from "./js/status.js";
import { bell, mountNotifications, startNotifications } from "./js/notifications.js";
import { mountOpen } from "./js/open-link.js";
import { registerHandler } from "./js/share.js";
import { mountWelcome, needsWelcome } from "./js/welcome.js";
import { mountPortfolio } from "./js/portfolio.js";
import { restore as restoreWallet } from "./js/wallet.js";

const view = document.getElementById("view");
const state = document.getElementById("state");
let cleanup = null;

const TITLES = {
  feed: "Feed",
  post: "Clip",
  search: "Search",
  creator: "Creator",
  upload: "Upload",
  status: "Status",
  tag: "Tag",
  notifications: "Notifications",
  welcome: "Welcome",
  open: "Open link",
  portfolio: "Portfolio",
  notfound: "Not found",
};

function mount(route) {
  switch (route.name) {
    case "feed":
      return mountFeed(view, {
        title: route.tab === "following" ? "Following" : "For you",
        tabs: route.tab,
        empty:
          route.tab === "following" ? "Clips of creators you follow appear here." : "No clips yet.",
        load: (cursor) => api.get("/feed", { tab: route.tab, cursor }),
      });
    case "post":
      return mountFeed(view, {
        title: "Clip",
        load: async () => ({ items: [await api.get(`/posts/${route.param}`)], next: null }),
      });
    case "upload":
      return mountUpload(view);
    case "creator":
      return mountCreator(view, route.param);
    case "search":
      return mountSearch(view, route.query);
    case "status":
      return mountStatus(view);
    case "tag":
      return mountFeed(view, {
        title: `#${route.param}`,
        heading: `#${route.param}`,
        empty: `No clips tagged #${route.param} yet.`,
        load: (cursor) => api.get(`/tags/${encodeURIComponent(route.param)}`, { cursor }),
      });
    case "notifications":
      return mountNotifications(view);
    case "welcome":
      return mountWelcome(view);
    case "open":
      return mountOpen(view, route.query);
    case "portfolio":
      return mountPortfolio(view);
    default:
      view.replaceChildren(
        h(
          "div.page",
          {},
          h("h1", {}, "Page not found"),
          h("p", {}, h("a", { href: "#/" }, "Back to the feed")),
        ),
      );
      return null;
  }
}

function render() {
  const route = parseHash(location.hash);
  if (typeof cleanup === "function") cleanup();
  cleanup = null;
  document.body.dataset.view = route.name;
  document.title = `${TITLES[route.name] ?? "Toktok"} · Toktok`;
  for (const link of document.querySelectorAll(".nav a")) {
    const target = parseHash(link.getAttribute("href"));
    const current =
      target.name === route.name && (route.name !== "feed" || target.tab === route.tab);
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  cleanup = mount(route);
}

document.getElementById("skip").addEventListener("click", () => view.focus());
window.addEventListener("hashchange", () => {
  render();
  view.focus({ preventScroll: true });
});

api.on("connection", ({ online }) => {
  state.textContent = online ? "online" : "offline";
  state.className = online ? "pill ok" : "pill warn";
});

document.getElementById("state").before(bell());
startNotifications();
registerHandler();
restoreWallet();
render();
// First run: no display name yet (and not skipped): the welcome screen instead of the feed.
needsWelcome().then((show) => {
  if (show && parseHash(location.hash).name === "feed") location.hash = "#/welcome";
});
