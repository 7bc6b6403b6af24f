// First run: choose a display name and an avatar, and learn what TOK and creator tokens are.
import * as api from "./api.js";
import { announce, h } from "./dom.js";
import { avatar, showAvatar } from "./people.js";

const DONE_KEY = "toktok.welcomed";
const SIZE = 256; // avatar pixels (square)
const MAX_BYTES = 40 * 1024; // the peer's limit (POST /profile/avatar)

/** Whether the first-run screen should be shown: no display name yet, and not skipped. */
export async function needsWelcome() {
  if (localStorage.getItem(DONE_KEY)) return false;
  const profile = await api.get("/profile").catch(() => null);
  return Boolean(profile && !profile.name);
}

/** The picked image, cropped to a centred square, scaled to SIZE and encoded as JPEG. */
export async function resizeAvatar(file) {
  const bitmap = await createImageBitmap(file);
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = document.createElement("canvas");
  canvas.width = SIZE;
  canvas.height = SIZE;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(
    bitmap,
    (bitmap.width - side) / 2,
    (bitmap.height - side) / 2,
    side,
    side,
    0,
    0,
    SIZE,
    SIZE,
  );
  bitmap.close?.();
  for (const quality of [0.85, 0.7, 0.5, 0.3]) {
    const url = canvas.toDataURL("image/jpeg", quality);
    if ((url.length - url.indexOf(",") - 1) * 0.75 <= MAX_BYTES) return url;
  }
  throw new Error("This image stays too large even when compressed; try another one.");
}

export function mountWelcome(container) {
  const name = h("input#welcome-name", {
    type: "text",
    required: true,
    maxlength: 64,
    autocomplete: "nickname",
  });
  const file = h("input#welcome-avatar", { type: "file", accept: "image/*" });
  const preview = avatar("?", { big: true });
  const out = h("p#welcome-out", { role: "status" });
  const tokens = h("p#welcome-tokens", {}, tokenText(null));
  let picked = null; // data: URL of the resized avatar
  const form = h(
    "form.panel.welcome",
    { "aria-labelledby": "welcome-title" },
    h("h1#welcome-title", {}, "Welcome to Toktok"),
    h(
      "p",
      {},
      "Short clips, shared peer to peer. Choose how others see you: a name (names are not " +
        "unique, so your short address is shown where two could be confused) and a picture.",
    ),
    h("div.field", {}, h("label", { for: "welcome-name" }, "Display name"), name),
    h(
      "div.field.avatar-pick",
      {},
      preview,
      h("div", {}, h("label", { for: "welcome-avatar" }, "Avatar (optional)"), file),
    ),
    h("h2", {}, "TOK and creator tokens"),
    tokens,
    h(
      "div.row",
      {},
      h("button.primary", { type: "submit" }, "Save and start"),
      h(
        "a.button-link",
        { href: "#/", onclick: () => localStorage.setItem(DONE_KEY, "1") },
        "Skip",
      ),
    ),
    out,
  );
  container.replaceChildren(h("div.page", {}, form));
  api.get("/status").then(
    (status) => tokens.replaceChildren(...tokenText(status.chain ?? {})),
    () => {},
  );
  api.get("/profile").then(
    (profile) => {
      if (profile.name && !name.value) name.value = profile.name;
      showAvatar(preview, profile.name, profile.avatar_url);
    },
    () => {},
  );
  name.addEventListener("input", () => {
    if (!picked) showAvatar(preview, name.value, null);
  });
  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    out.textContent = "Resizing…";
    try {
      picked = await resizeAvatar(chosen);
      showAvatar(preview, name.value, picked);
      out.textContent = "";
    } catch (error) {
      picked = null;
      out.textContent = error.message || "This file is not an image the browser can read.";
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const value = name.value.trim();
    if (!value) {
      out.textContent = "Please choose a display name.";
      name.focus();
      return;
    }
    out.textContent = "Saving…";
    try {
      const body = { name: value };
      if (picked) body.avatar = (await api.post("/profile/avatar", { image: picked })).cid;
      await api.post("/profile", body);
    } catch (error) {
      out.textContent = api.explain(error);
      return;
    }
    localStorage.setItem(DONE_KEY, "1");
    announce(`Welcome, ${value}`);
    location.hash = "#/";
  });
  name.focus();
  return null;
}

const DEVNET_CHAIN_ID = 31337; // the local test chain (tokens/devnet.py)

function tokenText(chain) {
  const devnet = chain?.mode === "devnet" || chain?.chain_id === DEVNET_CHAIN_ID;
  return [
    "TOK is the platform's token: you pay with it. Every creator can have their own creator " +
      "token, bought and sold for TOK at a price that rises as more people hold it; holding " +
      "enough of it unlocks the creator's premium clips, and part of each trade goes to the creator. ",
    chain === null
      ? ""
      : devnet
        ? h(
            "strong",
            {},
            "This peer runs on a local test network (devnet): these are test tokens, with no value.",
          )
        : "They are real tokens on this network: buy only what you can afford to lose.",
  ];
}
