/**
 * The portal's HTTP plumbing: JSON bodies in and out, the security headers every answer carries, and the one
 * place where an error becomes an HTTP answer (the catalogue's HTTP status, `{error: {code, message}}`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { TenantMeshError, toTenantMeshError } from "../../errors/index.js";
import type { Logger } from "../../log/index.js";

/** JSON bodies are small forms; anything larger is refused before it is buffered */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Everything is served from this origin (no CDN): scripts and styles only from files, never inline, so an
 * injected string can never run; frames forbidden (clickjacking); no referrer leaves the portal.
 */
const securityHeaders: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
};

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [k, v] of Object.entries(securityHeaders)) res.setHeader(k, v);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    // API answers may hold tenant data (and once, a new secret): never kept by a cache or the back button.
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** Answers with the error's catalogue status; anything not in the catalogue is logged and answered 500 */
export function sendError(res: ServerResponse, err: unknown, log: Logger, extra: Record<string, unknown> = {}): void {
  const tm = toTenantMeshError(err);
  if (tm.code === "TM_ERR_INTERNAL") log.error({ err }, "portal request failed");
  const headers: Record<string, string> = tm.retryAfterSeconds === undefined ? {} : { "retry-after": String(Math.ceil(tm.retryAfterSeconds)) };
  sendJson(res, tm.httpStatus, { ...tm.toJSON(), ...extra }, headers);
}

/** Reads a JSON object body; a missing, oversized, non-JSON or non-object body is INVALID_ARGUMENT */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) throw badBody("content-type must be application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw badBody(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw badBody("the body is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw badBody("the body must be a JSON object");
  return parsed as Record<string, unknown>;
}

const badBody = (message: string): TenantMeshError => new TenantMeshError("TM_ERR_INVALID_ARGUMENT", message, { violations: [{ field: "(body)", description: message }] });

/** Cookies of a request by name (first value wins) */
export function cookiesOf(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    const name = part.slice(0, i).trim();
    if (!out.has(name)) out.set(name, part.slice(i + 1).trim());
  }
  return out;
}
