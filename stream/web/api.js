// Talking to the service: JSON calls and images, each with the API token.
// The token lives in sessionStorage (gone when the tab closes) and travels as
// "Authorization: Bearer"; only EventSource, which cannot set headers, puts it in the URL.

const TOKEN_KEY = "platewatch.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value.trim());
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra = {}) {
  const t = token();
  return t ? { ...extra, Authorization: `Bearer ${t}` } : extra;
}

function detailOf(body, fallback) {
  if (!body || body.detail === undefined) return fallback;
  if (typeof body.detail === "string") return body.detail;
  // FastAPI's validation errors: a list of {loc, msg}.
  return body.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
}

// A JSON call; resolves to the parsed body (null for 204), rejects with ApiError.
export async function call(method, path, body) {
  const init = { method, headers: headers() };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers = headers({ "Content-Type": "application/json" });
    init.body = JSON.stringify(body);
  }
  let answer;
  try {
    answer = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `the service cannot be reached (${err.message})`);
  }
  if (answer.status === 204) return null;
  const text = await answer.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (answer.status === 401) {
    // The token was revoked or the service restarted with other tokens: sign in again.
    window.dispatchEvent(new CustomEvent("platewatch:unauthorized"));
  }
  if (!answer.ok) {
    throw new ApiError(answer.status, detailOf(parsed, `${answer.status} ${answer.statusText}`));
  }
  return parsed;
}

export const get = (path) => call("GET", path);

// "path?k=v" from an object, leaving out empty values.
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// An image the API guards: fetched with the token, shown through an object URL.
// Resolves to the object URL (the caller revokes it when replacing the picture).
export async function imageUrl(path) {
  const answer = await fetch(path, { headers: headers() });
  if (!answer.ok) throw new ApiError(answer.status, `${path}: ${answer.status}`);
  return URL.createObjectURL(await answer.blob());
}

// Fill an <img> from a guarded path; on failure it gets the "missing" look and a title.
export async function showImage(img, path) {
  const old = img.dataset.objectUrl;
  try {
    const url = await imageUrl(path);
    img.src = url;
    img.dataset.objectUrl = url;
    img.classList.remove("missing");
    if (old) URL.revokeObjectURL(old);
  } catch (err) {
    img.classList.add("missing");
    img.title = err.message;
  }
}

export function eventStreamUrl(path) {
  const t = token();
  return t ? withQuery(path, { access_token: t }) : path;
}
