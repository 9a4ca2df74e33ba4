/**
 * Test fixtures of the portal (imported by test/portal*.test.ts, never by production code): an HTTP client
 * that behaves like the portal's own page (cookie jar, same Origin, CSRF header on writes), and a headless
 * Chromium launched the way TOOLCHAIN.md prescribes.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON under test
  body: any;
  headers: Headers;
}

/** The portal's JSON API as its page uses it */
export class PortalClient {
  cookie = "";
  csrf = "";
  constructor(readonly baseUrl: string) {}

  async request(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    const h: Record<string, string> = { accept: "application/json", origin: this.baseUrl, ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (method !== "GET" && this.csrf && !("x-csrf-token" in headers)) h["x-csrf-token"] = this.csrf;
    if (body !== undefined) h["content-type"] = "application/json";
    const res = await fetch(`${this.baseUrl}${urlPath}`, { method, headers: h, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const setCookie = res.headers.get("set-cookie");
    if (setCookie) this.cookie = /Max-Age=0/.test(setCookie) ? "" : setCookie.split(";")[0] ?? "";
    const text = await res.text();
    return { status: res.status, body: text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text, headers: res.headers };
  }

  async signIn(tenant: string, email: string, password: string, totp = ""): Promise<ApiAnswer> {
    const res = await this.request("POST", "/api/session", { tenant, email, password, totp });
    if (res.status === 200) this.csrf = res.body.csrf;
    return res;
  }

  async signInOperator(token: string): Promise<ApiAnswer> {
    const res = await this.request("POST", "/api/session/operator", { token });
    if (res.status === 200) this.csrf = res.body.csrf;
    return res;
  }

  get = (p: string) => this.request("GET", p);
  post = (p: string, body: unknown = {}) => this.request("POST", p, body);
  put = (p: string, body: unknown = {}) => this.request("PUT", p, body);
  patch = (p: string, body: unknown = {}) => this.request("PATCH", p, body);
  del = (p: string) => this.request("DELETE", p);
}

/** Debian's chromium (what .ci/run installs), else whichever `chromium` is on PATH */
export function chromiumPath(): string {
  if (existsSync("/usr/bin/chromium")) return "/usr/bin/chromium";
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim() || "/usr/bin/chromium";
  } catch {
    return "/usr/bin/chromium";
  }
}

export const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A fresh headless Chromium profile; `close` ends the browser and removes the profile */
export async function launchBrowser(viewport = { width: 1280, height: 900 }) {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(path.join(os.tmpdir(), "tm-portal-browser-"));
  const context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath(), headless: true, args: chromiumFlags, viewport });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
