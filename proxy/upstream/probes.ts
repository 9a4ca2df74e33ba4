import { BinaryReader, BinaryWriter } from "@bufbuild/protobuf/wire";
import { Client, credentials, Metadata } from "@grpc/grpc-js";
import { request } from "undici";
import type { Backend } from "./backend.js";

/** What one active check found: reachable and answering as expected, and optionally how long it took */
export interface ProbeResult {
  readonly ok: boolean;
  /** Measured by the probe when it knows better than the caller; otherwise the caller times the call */
  readonly latencyMs?: number;
  readonly detail?: string;
}

/**
 * One active health check of one backend. Resolves (never rejects) before `signal` aborts or soon after; an
 * aborted probe counts as failed. A probe may hold per-backend resources (a gRPC channel): `release` frees them
 * when the backend leaves.
 */
export interface Probe {
  check(backend: Backend, signal: AbortSignal): Promise<ProbeResult>;
  release(backend: Backend): void;
}

/** HTTP/1.1 `GET <path>` on the backend; any 2xx is healthy */
export function httpProbe(path = "/health"): Probe {
  return {
    async check(backend, signal) {
      try {
        const res = await request(`http://${backend.address}${path}`, { method: "GET", signal, headers: { "user-agent": "tenantmesh-health-check" } });
        // Drain the body so the keep-alive socket goes back to the pool
        await res.body.dump();
        const ok = res.statusCode >= 200 && res.statusCode < 300;
        return ok ? { ok } : { ok, detail: `status ${res.statusCode}` };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
    release() {},
  };
}

const HEALTH_CHECK = "/grpc.health.v1.Health/Check";
const SERVING = 1;

/**
 * `grpc.health.v1.Health/Check` over h2c, healthy only when the answer is SERVING. `service` names the service
 * to ask about ("" is the server as a whole). The two messages are encoded by hand (one field each) rather than
 * generating the health proto into src/gen for a single call.
 */
export function grpcProbe(service = ""): Probe {
  const clients = new Map<Backend, Client>();
  return {
    check(backend, signal) {
      let client = clients.get(backend);
      if (client === undefined) {
        client = new Client(backend.address, credentials.createInsecure());
        clients.set(backend, client);
      }
      const body = new BinaryWriter();
      if (service !== "") body.uint32(10).string(service);
      const bytes = Buffer.from(body.finish());
      return new Promise<ProbeResult>((resolve) => {
        const call = client.makeUnaryRequest(
          HEALTH_CHECK,
          (b: Buffer) => b,
          (b: Buffer) => servingStatus(b),
          bytes,
          new Metadata(),
          { deadline: Date.now() + 60_000 },
          (err, status) => {
            if (err) resolve({ ok: false, detail: err.details || err.message });
            else resolve(status === SERVING ? { ok: true } : { ok: false, detail: `serving status ${String(status)}` });
          },
        );
        signal.addEventListener("abort", () => call.cancel(), { once: true });
      });
    },
    release(backend) {
      clients.get(backend)?.close();
      clients.delete(backend);
    },
  };
}

/** HealthCheckResponse.status (field 1, enum) from its wire form; 0 (UNKNOWN) when absent */
function servingStatus(bytes: Buffer): number {
  const reader = new BinaryReader(bytes);
  let status = 0;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 0) status = reader.int32();
    else reader.skip(tag & 7);
  }
  return status;
}
