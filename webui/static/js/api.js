// The only door to the peer: /api/v1 (JSON) and its server-sent event stream.

const SECRET = document.querySelector('meta[name="toktok-secret"]')?.content ?? "";

/** An API error with the machine code and the message for the user (docs/API.md). */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

async function parse(response) {
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const err = body?.error ?? {};
    // The session is gone (e.g. the peer's session.json was replaced): the page shell then
    // serves the login help, so show it instead of failing view by view.
    if (response.status === 403 && err.code === "missing_session") location.reload();
    throw new ApiError(
      response.status,
      err.code ?? `http_${response.status}`,
      err.message ?? `The peer answered ${response.status}.`,
      body,
    );
  }
  return body;
}

export async function get(path, query) {
  const url = new URL(`/api/v1${path}`, location.origin);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  return parse(response);
}

export async function post(path, body = {}) {
  const response = await fetch(`/api/v1${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-Toktok-Secret": SECRET,
    },
    body: JSON.stringify(body),
  });
  return parse(response);
}

/** Multipart upload with byte progress (fetch cannot report upload progress). */
export function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1${path}`);
    xhr.withCredentials = true;
    xhr.setRequestHeader("X-Toktok-Secret", SECRET);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress?.(e.loaded, e.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else {
        const err = body?.error ?? {};
        reject(
          new ApiError(
            xhr.status,
            err.code ?? `http_${xhr.status}`,
            err.message ?? "Upload failed.",
            body,
          ),
        );
      }
    });
    xhr.addEventListener("error", () =>
      reject(new ApiError(0, "network", "The peer is unreachable.")),
    );
    xhr.send(form);
  });
}

// One EventSource for the whole app; views subscribe by event kind.
const listeners = new Map();
let source = null;

export function on(kind, fn) {
  if (!listeners.has(kind)) listeners.set(kind, new Set());
  listeners.get(kind).add(fn);
  connectEvents();
  return () => listeners.get(kind)?.delete(fn);
}

function dispatch(kind, data) {
  for (const fn of listeners.get(kind) ?? []) {
    try {
      fn(data);
    } catch (error) {
      console.warn("event handler failed", kind, error);
    }
  }
}

// Every kind the peer sends (docs/API.md; a test keeps this list equal to peer/events.py).
const KINDS = [
  "service.ready",
  "service.stopped",
  "post.new",
  "comment.new",
  "comment.hidden",
  "comment.deleted",
  "comment.policy",
  "publish.progress",
  "publish.done",
  "publish.failed",
  "wallet.tx",
  "token.trade",
  "unlock.done",
  "replication.pinned",
  "replication.evicted",
  "replication.failed",
  "like.new",
  "like.removed",
  "follow.new",
  "post.counts",
  "notification.new",
  "dropped",
];

export function connectEvents() {
  if (source) return;
  source = new EventSource("/api/v1/events", { withCredentials: true });
  for (const kind of KINDS) {
    source.addEventListener(kind, (e) => {
      let data = null;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      dispatch(kind, data);
    });
  }
  source.addEventListener("open", () => dispatch("connection", { online: true }));
  source.addEventListener("error", () => dispatch("connection", { online: false }));
}

/** A message fit for the user from any error. */
export function explain(error) {
  if (error instanceof ApiError) {
    if (error.status === 404 && error.message === "Not Found")
      return "This feature is not available on this peer yet.";
    return error.message;
  }
  return "The peer is unreachable. Is `toktok run` still running?";
}
