import { TenantMeshError, withoutStack } from "../../src/errors/index.js";
import type { RouteTable } from "../upstream/types.js";
import type { Handler, Stage } from "./stage.js";

/**
 * Route: finds where the request goes — HTTP by method and path prefix, gRPC by service (and method) — and
 * which tenant module it needs. The table is read through `routes()` on every request, so a config reload
 * (which swaps the whole table) takes effect for the next request without touching requests in flight.
 *
 * It runs after identify, so an unauthenticated caller learns nothing about which paths exist, and before
 * admit, which needs the route's module to gate it.
 */
export function route(routes: () => RouteTable): Stage {
  return (next: Handler): Handler =>
    (ctx) => {
      const table = routes();
      const resolved = ctx.protocol === "grpc" ? table.matchGrpc(ctx.service, ctx.rpcMethod) : table.matchHttp(ctx.method, ctx.path);
      if (resolved === undefined) {
        const what = ctx.protocol === "grpc" ? `gRPC method ${ctx.service}/${ctx.rpcMethod}` : `${ctx.method} ${pathOnly(ctx.path)}`;
        return Promise.resolve(withoutStack(() => new TenantMeshError("TM_ERR_NO_ROUTE", `no route for ${what}`)));
      }
      ctx.route = resolved;
      return next(ctx);
    };
}

/** The path without its query, so an error message never echoes query parameters (they may carry secrets) */
function pathOnly(path: string): string {
  const q = path.indexOf("?");
  return (q === -1 ? path : path.slice(0, q)).slice(0, 200);
}
