// The page's only way to the server: JSON over fetch to this origin, with the session's CSRF token on every
// write. A 401 that says the session ended sends the page back to sign-in with the server's message.

let csrf = "";
const signedOutHandlers = [];

export function setCsrf(token) {
  csrf = token || "";
}

export function onSignedOut(fn) {
  signedOutHandlers.push(fn);
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message || `request failed (${status})`);
    this.status = status;
    this.code = body?.error?.code || "";
    this.body = body || {};
  }
}

/** quiet: a 401 does not send the page to sign-in (a speculative request must not race the real ones) */
export async function api(method, path, body, { quiet = false } = {}) {
  const headers = { accept: "application/json" };
  if (method !== "GET") {
    headers["x-csrf-token"] = csrf;
    headers["content-type"] = "application/json";
  }
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  const data = res.headers.get("content-type")?.includes("json") ? await res.json() : {};
  if (res.ok) return data;
  const err = new ApiError(res.status, data);
  if (res.status === 401 && data.signedOut && !quiet) for (const fn of signedOutHandlers) fn(err.message);
  throw err;
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
export const put = (path, body = {}) => api("PUT", path, body);
export const patch = (path, body = {}) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path, {});
