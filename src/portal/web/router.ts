/**
 * The portal API's routes: a method, a path pattern with `:params`, who may call it, and a handler that
 * returns the JSON answer. Kept as plain data so the route table reads as the API's documentation.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Metadata } from "@grpc/grpc-js";
import type { Logger } from "../../log/index.js";
import type { ClientPool } from "../client-pool.js";
import type { PortalSession } from "./sessions.js";

/** none: anyone (sign-in) · session: any signed-in principal · operator: operator sessions only */
export type RouteAccess = "none" | "session" | "operator";

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Present for every route whose access is not `none` */
  readonly session: PortalSession | undefined;
  readonly requestId: string;
  readonly log: Logger;
  readonly clients: ClientPool;
  /** Metadata carrying the session's credential (UNAUTHENTICATED without a session) */
  metadata(): Metadata;
  body(): Promise<Record<string, unknown>>;
}

/** An answer with a status or headers other than 200 JSON */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string | string[]> = {},
  ) {}
}

export interface Route {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  access: RouteAccess;
  handler(ctx: RouteContext): Promise<unknown>;
}

interface CompiledRoute extends Route {
  pattern: RegExp;
  names: string[];
}

/** Path segments: `:name` matches one URL-safe segment (ids, slugs); anything else matches literally */
function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split("/")
    .map((seg) => {
      if (!seg.startsWith(":")) return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(seg.slice(1));
      return "([A-Za-z0-9_-]{1,100})";
    })
    .join("/");
  return { ...route, pattern: new RegExp(`^${source}$`), names };
}

export class Router {
  readonly #routes: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.#routes = routes.map(compile);
  }

  /** The route for a request, or why there is none (404 for an unknown path, 405 for a known path) */
  match(method: string, path: string): { route: CompiledRoute; params: Record<string, string> } | { miss: 404 | 405 } {
    let pathKnown = false;
    for (const route of this.#routes) {
      const m = route.pattern.exec(path);
      if (m === null) continue;
      pathKnown = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = m[i + 1] ?? ""));
      return { route, params };
    }
    return { miss: pathKnown ? 405 : 404 };
  }
}
