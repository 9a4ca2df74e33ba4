import type { Clock } from "../../src/auth/clock.js";
import { identityHeaders, signIdentity } from "../../src/identity/index.js";
import type { ProxyContext } from "../context.js";

/** Where the forwarders get the signing key and time for the identity they forward */
export interface IdentitySigning {
  /** Shared with the backends (src/identity): they accept a tenant id only under this HMAC */
  readonly secret: Buffer;
  readonly clock: Clock;
}

type OutHeaders = Record<string, string | string[]>;

/**
 * Never forwarded upstream: hop-by-hop headers (RFC 9110 §7.6.1, plus the legacy ones), `expect` (the proxy
 * answers 100-continue itself), the client's credential (backends trust the signed identity, and an API key
 * has no business in backend logs), and any identity header a client made up.
 */
const dropped: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
  "http2-settings",
  "expect",
  "authorization",
  "x-api-key",
  "x-forwarded-for",
  "baggage",
]);

/** Response headers that belong to one hop and are not passed back to the client */
export const hopByHopResponse: readonly string[] = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "trailer", "upgrade", "te", "proxy-authenticate"];

const isForgeable = (name: string): boolean => name.length > 9 && name.startsWith("x-tenant-");

/**
 * The headers of the upstream HTTP/1.1 request: the client's, minus the dropped ones and those the client's
 * `Connection` header names, plus `x-forwarded-for`/`-proto`, the signed identity and W3C baggage `tenant.id`.
 * `traceparent`/`tracestate` pass through untouched so traces continue across the proxy.
 */
export function upstreamHttpHeaders(ctx: ProxyContext, signing: IdentitySigning): OutHeaders {
  const src = ctx.headers;
  const out: OutHeaders = {};
  const extra = connectionTokens(src.connection);
  for (const name in src) {
    if (dropped.has(name) || isForgeable(name) || (extra !== undefined && extra.has(name))) continue;
    const value = src[name];
    if (value !== undefined) out[name] = value;
  }
  const xff = src["x-forwarded-for"];
  out["x-forwarded-for"] = xff === undefined ? ctx.clientAddress : `${Array.isArray(xff) ? xff.join(", ") : xff}, ${ctx.clientAddress}`;
  out["x-forwarded-proto"] = "http";
  setIdentity(out, ctx, signing);
  return out;
}

/**
 * The same headers as `upstreamHttpHeaders`, written straight into the head of an HTTP/1.1 request (`name: value`
 * lines, CRLF after each) without the intermediate object: the HTTP forwarder builds one per request. `host`
 * is the backend's address, used when the client sent no Host. The client's names and values were checked by
 * Node's parser (no CR/LF can reach the head); the proxy's own values are ids, a base64url MAC and escaped
 * baggage.
 */
export function upstreamHttpHeadLines(ctx: ProxyContext, signing: IdentitySigning, host: string): string {
  const src = ctx.headers;
  const extra = connectionTokens(src.connection);
  let head = "";
  for (const name in src) {
    if (dropped.has(name) || isForgeable(name) || (extra !== undefined && extra.has(name))) continue;
    const value = src[name];
    if (typeof value === "string") head += `${name}: ${value}\r\n`;
    else if (value !== undefined) for (const v of value) head += `${name}: ${v}\r\n`;
  }
  if (src.host === undefined) head += `host: ${host}\r\n`;
  const xff = src["x-forwarded-for"];
  head += `x-forwarded-for: ${xff === undefined ? ctx.clientAddress : `${Array.isArray(xff) ? xff.join(", ") : xff}, ${ctx.clientAddress}`}\r\nx-forwarded-proto: http\r\n`;
  const tenant = ctx.tenant;
  const principal = ctx.principal;
  if (tenant === undefined || principal === undefined) throw new Error("forwarding needs an identified request");
  const signature = signIdentity(signing.secret, { tenantId: tenant.id, principal, requestId: ctx.requestId }, signing.clock.now());
  head += `${identityHeaders.tenantId}: ${tenant.id}\r\n${identityHeaders.principal}: ${principal}\r\n${identityHeaders.requestId}: ${ctx.requestId}\r\n${identityHeaders.signature}: ${signature}\r\n`;
  const baggage = ctx.headers.baggage;
  if (baggage === undefined) {
    // The proxy's own members alone: the same line for every request of the tenant while its entry stands
    let line = baggageLines.get(tenant);
    if (line === undefined) {
      line = `baggage: ${withTenantBaggage(undefined, tenant.id, { plan: tenant.planType, priority: tenant.priority })}\r\n`;
      baggageLines.set(tenant, line);
    }
    return head + line;
  }
  return `${head}baggage: ${withTenantBaggage(baggage, tenant.id, { plan: tenant.planType, priority: tenant.priority })}\r\n`;
}

/** The baggage line of a tenant entry (a directory update makes a new entry, so a plan change shows at once) */
const baggageLines = new WeakMap<object, string>();

/**
 * The headers of the upstream gRPC request (HTTP/2 pseudo-headers included): the client's metadata minus
 * pseudo-headers, credentials and forged identity, with `te: trailers` (gRPC requires it), the signed identity
 * and baggage, and `grpc-timeout` set to the deadline the proxy enforces (`timeoutMs`, 0 for none).
 */
export function upstreamGrpcHeaders(ctx: ProxyContext, signing: IdentitySigning, authority: string, timeoutMs: number): OutHeaders {
  const src = ctx.headers;
  const out: OutHeaders = { ":method": "POST", ":scheme": "http", ":authority": authority, ":path": ctx.path };
  for (const name in src) {
    if (name.charCodeAt(0) === 58 /* : */ || dropped.has(name) || isForgeable(name) || name === "grpc-timeout") continue;
    const value = src[name];
    if (value !== undefined) out[name] = value;
  }
  out.te = "trailers";
  out["x-forwarded-for"] = ctx.clientAddress;
  if (timeoutMs > 0) out["grpc-timeout"] = `${Math.max(1, Math.ceil(timeoutMs))}m`;
  setIdentity(out, ctx, signing);
  return out;
}

function setIdentity(out: OutHeaders, ctx: ProxyContext, signing: IdentitySigning): void {
  const tenant = ctx.tenant;
  const principal = ctx.principal;
  if (tenant === undefined || principal === undefined) throw new Error("forwarding needs an identified request");
  const identity = { tenantId: tenant.id, principal, requestId: ctx.requestId };
  out[identityHeaders.tenantId] = tenant.id;
  out[identityHeaders.principal] = principal;
  out[identityHeaders.requestId] = ctx.requestId;
  out[identityHeaders.signature] = signIdentity(signing.secret, identity, signing.clock.now());
  out.baggage = withTenantBaggage(ctx.headers.baggage, tenant.id, { plan: tenant.planType, priority: tenant.priority });
}

/** Baggage members only the proxy may set: backends tag their spans with them (src/telemetry) */
const proxyOwnedBaggage: ReadonlySet<string> = new Set(["tenant.id", "tenant.plan", "tenant.priority"]);

/**
 * W3C baggage with `tenant.id=<id>` (and, given `tenant`, `tenant.plan` and `tenant.priority`) appended to what
 * the client sent, after dropping any such member of its own: a client must not be able to name a tenant, or
 * its plan, to backends that read baggage.
 */
export function withTenantBaggage(existing: string | string[] | undefined, tenantId: string, tenant?: { plan: string; priority: number }): string {
  let member = `tenant.id=${encodeURIComponent(tenantId)}`;
  if (tenant !== undefined) member += `,tenant.plan=${encodeURIComponent(tenant.plan)},tenant.priority=${tenant.priority}`;
  if (existing === undefined || existing === "") return member;
  const joined = Array.isArray(existing) ? existing.join(",") : existing;
  const kept = joined.split(",").filter((m) => {
    const key = m.split("=", 1)[0]?.trim();
    return key !== undefined && key !== "" && !proxyOwnedBaggage.has(key);
  });
  kept.push(member);
  return kept.join(",");
}

/** `tenant.id=<id>` per tenant, remembered: building and escaping it on every request showed in profiles */
const members = new Map<string, string>();
function baggageMember(tenantId: string): string {
  let member = members.get(tenantId);
  if (member === undefined) {
    member = `tenant.id=${encodeURIComponent(tenantId)}`;
    if (members.size >= 10_000) members.clear();
    members.set(tenantId, member);
  }
  return member;
}

/** Extra hop-by-hop names a `Connection` header lists (beyond keep-alive/close), or undefined when none */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(",") : value;
  if (text === "keep-alive" || text === "close" || text === "Keep-Alive") return undefined;
  const tokens = new Set<string>();
  for (const t of text.split(",")) {
    const name = t.trim().toLowerCase();
    if (name !== "" && name !== "keep-alive" && name !== "close") tokens.add(name);
  }
  return tokens.size === 0 ? undefined : tokens;
}
