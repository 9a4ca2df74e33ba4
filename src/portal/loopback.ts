/**
 * How PortalService reaches its sibling services: over gRPC on this control plane's own listener, with the
 * caller's own credential. Each section is therefore authorized by the service that owns it, exactly as for
 * the CLI (and audited where that service audits), and the portal holds no privilege of its own. The extra
 * hop costs a loopback round trip per section, paid in parallel.
 */
import type { handleUnaryCall, Metadata } from "@grpc/grpc-js";
import { TenantMeshError } from "../errors/index.js";
import { ClientPool } from "./client-pool.js";

/** What the handler needs from the raw call, which the RpcKit context does not carry */
export interface CallerInfo {
  /** The `authorization` header as received, forwarded unchanged */
  authorization: string | undefined;
  /** The :authority the caller dialled (host:port) */
  authority: string;
}

const wildcard = new Set(["0.0.0.0", "::", "[::]", ""]);

/**
 * Host and port to dial this control plane on: the configured host (a wildcard listener is reached on
 * 127.0.0.1) and the configured port, or — when the port was 0 (ephemeral, as in tests) — the port of the
 * authority the caller dialled, since only the listener knows its bound port.
 */
export function loopbackAddress(grpc: { host: string; port: number }, authority: string): string {
  const host = wildcard.has(grpc.host) ? "127.0.0.1" : grpc.host.includes(":") && !grpc.host.startsWith("[") ? `[${grpc.host}]` : grpc.host;
  if (grpc.port !== 0) return `${host}:${grpc.port}`;
  const port = /:(\d{1,5})$/.exec(authority)?.[1];
  if (port === undefined) throw new TenantMeshError("TM_ERR_UNAVAILABLE", "the control plane's own address is unknown");
  return `${host}:${port}`;
}

/** Client pools by loopback address (one in practice), closed with the slice */
export class LoopbackClients {
  readonly #pools = new Map<string, ClientPool>();

  constructor(private readonly grpc: { host: string; port: number }) {}

  pool(caller: CallerInfo): ClientPool {
    const address = loopbackAddress(this.grpc, caller.authority);
    let pool = this.#pools.get(address);
    if (pool === undefined) {
      pool = new ClientPool(address);
      this.#pools.set(address, pool);
    }
    return pool;
  }

  close(): void {
    for (const p of this.#pools.values()) p.close();
    this.#pools.clear();
  }
}

/**
 * Wraps a kit handler so the handler can find its call's CallerInfo by request object. The RpcKit context
 * deliberately does not expose the raw token; the portal is the one place that must forward it.
 */
export function capturingCaller<Req extends object, Res>(
  seen: WeakMap<object, CallerInfo>,
  handler: handleUnaryCall<Req, Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const auth = call.metadata.get("authorization")[0];
    seen.set(call.request, { authorization: typeof auth === "string" ? auth : undefined, authority: call.getHost() });
    handler(call, callback);
  };
}

/** Metadata for a sibling call: the caller's authorization and the request id */
export function forwardedMetadata(caller: CallerInfo, requestId: string, make: () => Metadata): Metadata {
  const md = make();
  if (caller.authorization !== undefined) md.set("authorization", caller.authorization);
  md.set("x-request-id", requestId);
  return md;
}
