/**
 * Portal sessions. The browser holds only an opaque random id in an HttpOnly, SameSite=Strict cookie; the
 * credential it stands for (a user's `tms_` session token, or the operator token) stays in this process's
 * memory and is never sent to the browser, so no script — injected or not — can read it. Every state-changing
 * request must also carry the session's CSRF token in `x-csrf-token` (the page reads it from /api/me).
 *
 * Sessions live in memory: a portal restart signs everyone out, and several portal replicas need sticky
 * routing (docs/portal.md). The control plane stays the authority: when it stops accepting the credential
 * (sign-out elsewhere, revocation, suspension) the portal session ends at the next call.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

export type PortalPrincipal =
  | { kind: "user"; token: string; tenantId: string; tenantSlug: string; userId: string; email: string; role: string }
  | { kind: "operator"; token: string };

export interface PortalSession {
  readonly id: string;
  readonly csrf: string;
  readonly principal: PortalPrincipal;
  /** Absolute end: the user token's expiry, or the operator session's lifetime */
  readonly expiresAt: number;
  lastSeenAt: number;
}

export interface SessionStoreOptions {
  /** A session unused this long ends; default 30 min */
  idleMs?: number;
  /** Lifetime of an operator session; default 8 h (user sessions end with their token) */
  operatorTtlMs?: number;
  /** Beyond this many sessions the least recently used ends; default 10,000 */
  maxSessions?: number;
  now?: () => number;
}

const token = (): string => randomBytes(32).toString("base64url");

export class SessionStore {
  /** Insertion order doubles as recency order: a touched session is re-inserted at the end */
  readonly #sessions = new Map<string, PortalSession>();
  readonly #idleMs: number;
  readonly #operatorTtlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    this.#idleMs = options.idleMs ?? 30 * 60_000;
    this.#operatorTtlMs = options.operatorTtlMs ?? 8 * 60 * 60_000;
    this.#max = options.maxSessions ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  create(principal: PortalPrincipal, userTokenExpiresAt?: number): PortalSession {
    const now = this.#now();
    const expiresAt = principal.kind === "operator" ? now + this.#operatorTtlMs : (userTokenExpiresAt ?? now + this.#idleMs);
    const session: PortalSession = { id: token(), csrf: token(), principal, expiresAt, lastSeenAt: now };
    this.#sessions.set(session.id, session);
    while (this.#sessions.size > this.#max) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
    }
    return session;
  }

  /** The live session with this id (touching it), or undefined */
  get(id: string | undefined): PortalSession | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#now();
    if (now >= session.expiresAt || now - session.lastSeenAt >= this.#idleMs) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.lastSeenAt = now;
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return session;
  }

  delete(id: string): void {
    this.#sessions.delete(id);
  }

  get size(): number {
    return this.#sessions.size;
  }
}

/** Constant-time comparison of the request's CSRF header with the session's token */
export function csrfMatches(session: PortalSession, header: string | string[] | undefined): boolean {
  if (typeof header !== "string") return false;
  const a = Buffer.from(header);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The session cookie: `__Host-` prefixed (which requires Secure) when served over HTTPS */
export function cookieName(secure: boolean): string {
  return secure ? "__Host-tm_portal" : "tm_portal";
}

export function sessionCookie(session: PortalSession, secure: boolean, now: number): string {
  const maxAge = Math.max(0, Math.floor((session.expiresAt - now) / 1000));
  return `${cookieName(secure)}=${session.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? "; Secure" : ""}`;
}

export function clearedCookie(secure: boolean): string {
  return `${cookieName(secure)}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;
}
