// "Create your token": one form for the creator page and the upload page.
import * as api from "./api.js";
import { announce, h } from "./dom.js";
import { invalidate } from "./token-state.js";

/** A form creating the user's creator token; `onCreated(token)` runs after it exists. */
export function createTokenForm(onCreated, { title = "Create your token", intro = null } = {}) {
  const name = h("input#token-name", { type: "text", required: true, maxlength: 25 });
  const symbol = h("input#token-symbol", { type: "text", required: true, maxlength: 5 });
  const out = h("p", { role: "status" });
  const submit = h("button.primary", { type: "submit" }, "Create token");
  const form = h(
    "form.panel.token-create",
    { "aria-labelledby": "token-create-title" },
    h("h2#token-create-title", {}, title),
    intro ? h("p", {}, intro) : null,
    h("div.field", {}, h("label", { for: "token-name" }, "Name"), name),
    h("div.field", {}, h("label", { for: "token-symbol" }, "Symbol"), symbol),
    submit,
    out,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    submit.disabled = true;
    out.textContent = "Creating your token…";
    try {
      const token = await api.post("/token", {
        name: name.value.trim(),
        symbol: symbol.value.trim(),
      });
      out.textContent = "Token created.";
      announce("Token created");
      invalidate(token?.creator);
      onCreated(token);
    } catch (error) {
      submit.disabled = false;
      out.textContent = api.explain(error);
    }
  });
  return form;
}
