// Upload: pick or drop a video, set title/tags/premium, follow every stage on the event stream.
import * as api from "./api.js";
import { h, announce } from "./dom.js";
import { overallPercent, stagesFor } from "./publish-progress.js";
import { myAddress } from "./session.js";
import { createTokenForm } from "./token-create.js";
import { creatorFacts, invalidate } from "./token-state.js";

// "upload" is the browser's own stage (sending the file); the rest are publish.progress stages
// (docs/API.md; a test keeps them equal to peer/events.py).
const STAGES = ["upload", "probe", "transcode", "encrypt", "add", "manifest", "sign", "gossip"];
const STAGE_LABELS = {
  upload: "Sending to your peer",
  probe: "Checking the video",
  transcode: "Making renditions",
  encrypt: "Encrypting (premium)",
  add: "Adding to IPFS",
  manifest: "Writing the manifest",
  sign: "Signing the post",
  gossip: "Announcing to the network",
};

export function mountUpload(container) {
  const fileInput = h("input#upload-file.visually-hidden", {
    type: "file",
    accept: "video/*",
    name: "file",
  });
  const fileName = h("span.file-name", {}, "No file chosen");
  const drop = h(
    "label.dropzone",
    { for: "upload-file" },
    h("strong", {}, "Drop a video here"),
    h("span", {}, " or press to choose a file"),
    fileName,
    fileInput,
  );
  const title = h("input#upload-title", {
    type: "text",
    name: "title",
    required: true,
    maxlength: 200,
    autocomplete: "off",
  });
  const tags = h("input#upload-tags", {
    type: "text",
    name: "tags",
    placeholder: "cats, travel",
    autocomplete: "off",
  });
  const premium = h("input#upload-premium", { type: "checkbox", name: "premium" });
  const minBalance = h("input#upload-min", {
    type: "text",
    name: "min_balance",
    inputmode: "numeric",
    value: "1",
    "aria-describedby": "upload-min-help",
  });
  const minRow = h(
    "div.field",
    { hidden: true },
    h("label", { for: "upload-min" }, "Minimum balance (whole tokens)"),
    minBalance,
    h("p#upload-min-help.help", {}, "Viewers must hold at least this many of your tokens."),
  );
  const submit = h("button.primary", { type: "submit" }, "Publish");
  const offer = h("div.token-offer");
  const stageList = h(
    "ol.stages",
    { "aria-label": "Progress" },
    STAGES.map((s) =>
      h(
        "li",
        { dataset: { stage: s } },
        h("span.stage-name", {}, STAGE_LABELS[s]),
        h("span.stage-state", {}, ""),
      ),
    ),
  );
  const progress = h("progress", { max: 100, value: 0, "aria-label": "Publishing progress" });
  const live = h("p#upload-status", { role: "status", "aria-live": "polite" });
  const result = h("div.result");
  const form = h(
    "form.upload-form.panel",
    { novalidate: true },
    h("h1", {}, "Upload a clip"),
    drop,
    h("div.field", {}, h("label", { for: "upload-title" }, "Title"), title),
    h("div.field", {}, h("label", { for: "upload-tags" }, "Tags (comma-separated)"), tags),
    h(
      "div.field.check",
      {},
      premium,
      h("label", { for: "upload-premium" }, "Premium: only holders of my token can watch"),
    ),
    minRow,
    submit,
  );
  container.replaceChildren(
    h(
      "div.page",
      {},
      form,
      offer,
      h(
        "section.panel",
        { "aria-label": "Publishing" },
        h("h2", {}, "Progress"),
        progress,
        live,
        stageList,
        result,
      ),
    ),
  );

  let file = null;
  let job = null;
  const early = [];

  function choose(f) {
    if (!f) return;
    if (f.type && !f.type.startsWith("video/")) {
      live.textContent = `${f.name} is not a video.`;
      return;
    }
    file = f;
    fileName.textContent = `${f.name} (${Math.round(f.size / 1024)} KiB)`;
    if (!title.value) title.value = f.name.replace(/\.[^.]+$/, "");
  }
  fileInput.addEventListener("change", () => choose(fileInput.files?.[0]));
  for (const kind of ["dragenter", "dragover"]) {
    drop.addEventListener(kind, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    choose(e.dataTransfer?.files?.[0]);
  });
  premium.addEventListener("change", () => {
    minRow.hidden = !premium.checked;
    if (premium.checked) needsToken();
    else offer.replaceChildren();
  });

  let running = STAGES; // the stages of the current publish (no "encrypt" for a free clip)

  function mark(stage, text, cls, fraction = cls === "done" ? 1 : 0) {
    const li = stageList.querySelector(`[data-stage="${stage}"]`);
    if (!li || !running.includes(stage)) return;
    const index = running.indexOf(stage);
    for (const other of stageList.querySelectorAll("li")) {
      const i = running.indexOf(other.dataset.stage);
      if (i >= 0 && i < index && !other.classList.contains("done")) {
        other.className = "done";
        other.querySelector(".stage-state").textContent = "done";
      }
    }
    li.className = cls;
    li.querySelector(".stage-state").textContent = text;
    progress.value = overallPercent(running, stage, fraction);
  }

  /** Show which stages this publish runs: a free clip skips encryption (never shown done). */
  function plan(isPremium) {
    running = stagesFor(isPremium, STAGES);
    for (const li of stageList.querySelectorAll("li")) {
      const skipped = !running.includes(li.dataset.stage);
      li.className = skipped ? "skipped" : "";
      li.hidden = skipped;
      li.querySelector(".stage-state").textContent = skipped ? "not needed" : "";
    }
  }

  function handle(kind, data) {
    if (!job || data.job !== job) {
      if (!job) early.push([kind, data]);
      return;
    }
    if (kind === "publish.progress") {
      const fraction = data.total ? data.done / data.total : 0;
      const pct = data.total ? ` ${Math.round(fraction * 100)} %` : "";
      mark(data.stage, `working${pct}`, "active", fraction);
      live.textContent = `${STAGE_LABELS[data.stage] ?? data.stage}…`;
    } else if (kind === "publish.done") {
      for (const s of running) mark(s, "done", "done");
      progress.value = 100;
      live.textContent = "Published.";
      announce("Your clip is published");
      result.replaceChildren(
        h(
          "p",
          {},
          "Published. ",
          h("a", { href: `#/post/${data.post_id}` }, "Watch it"),
          " · ",
          h("a", { href: "#/" }, "Back to the feed"),
        ),
      );
      reset();
    } else if (kind === "publish.failed") {
      failed(data.message);
      result.replaceChildren(h("p.error-text", {}, data.message));
      reset();
    }
  }

  const offs = ["publish.progress", "publish.done", "publish.failed"].map((k) =>
    api.on(k, (d) => handle(k, d)),
  );
  offs.push(api.on("dropped", () => check()));

  // The event stream drives the progress; a slow poll of the job covers events the stream
  // dropped (a "dropped" event, a reconnect) so the page never waits forever.
  let poll = null;
  async function check() {
    if (!job) return;
    const current = job;
    try {
      const state = await api.get(`/publish/${current}`);
      if (state.state === "done")
        handle("publish.done", { job: current, post_id: state.post_id, manifest: state.manifest });
      else if (state.state === "failed")
        handle("publish.failed", {
          job: current,
          ...(state.error ?? { message: "Publishing failed." }),
        });
    } catch {
      // the stream may still deliver; try again on the next tick
    }
  }

  /** The publish stopped: the active stage says so and the bar empties (never left half-way). */
  function failed(message) {
    const active = stageList.querySelector("li.active");
    if (active) {
      active.className = "failed";
      active.querySelector(".stage-state").textContent = "failed";
    }
    progress.value = 0;
    live.textContent = `Publishing failed: ${message}`;
  }

  /** A premium clip needs the creator's token: offer to create it here (nothing was sent). */
  async function needsToken() {
    if (!premium.checked) return false;
    const me = await myAddress();
    invalidate(me);
    const info = me ? await creatorFacts(me) : null;
    if (info?.token) {
      offer.replaceChildren();
      return false;
    }
    offer.replaceChildren(
      createTokenForm(
        () => {
          offer.replaceChildren(h("p", { role: "status" }, "Token created: you can publish now."));
          live.textContent = "Token created: press Publish again.";
        },
        {
          title: "Premium clips need your token",
          intro:
            "Only holders of your creator token can watch a premium clip, and you have no " +
            "token yet. Create it now; nothing has been uploaded.",
        },
      ),
    );
    return true;
  }

  function reset() {
    job = null;
    submit.disabled = false;
    clearInterval(poll);
    poll = null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.replaceChildren();
    if (!file) {
      live.textContent = "Choose a video first.";
      drop.focus();
      return;
    }
    if (!title.value.trim()) {
      live.textContent = "Give the clip a title.";
      title.focus();
      return;
    }
    if (premium.checked && !/^\d+$/.test(minBalance.value.trim())) {
      live.textContent = "Minimum balance must be a whole number of tokens, like 1 or 10.";
      minBalance.focus();
      return;
    }
    if (await needsToken()) {
      live.textContent = "Create your token first: premium clips are for its holders.";
      offer.querySelector("input")?.focus();
      return;
    }
    const data = new FormData();
    data.append("file", file, file.name);
    data.append("title", title.value.trim());
    data.append("tags", tags.value);
    data.append("premium", premium.checked ? "true" : "false");
    data.append("min_balance", premium.checked ? minBalance.value.trim() : "0");
    submit.disabled = true;
    plan(premium.checked);
    early.length = 0;
    mark("upload", "0 %", "active");
    live.textContent = "Sending the video to your peer…";
    try {
      const answer = await api.upload("/publish", data, (loaded, total) => {
        mark("upload", `${Math.round((loaded / total) * 100)} %`, "active");
      });
      mark("upload", "done", "done");
      job = answer.job;
      for (const [k, d] of early.splice(0)) handle(k, d);
      if (job) poll = setInterval(check, 4000);
    } catch (error) {
      failed(api.explain(error));
      live.textContent = `Upload failed: ${api.explain(error)}`;
      if (error.code === "premium_needs_token") needsToken();
      reset();
    }
  });

  return () => {
    for (const off of offs) off();
    clearInterval(poll);
  };
}
