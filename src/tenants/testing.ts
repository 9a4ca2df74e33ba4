/**
 * Test fixtures of the tenants slice (imported by test/tenants*.test.ts only, never by production code): a
 * TenantService client, promise forms of its calls, ProvisionTenant requests with defaults, a WatchTenants
 * reader, and row counts for "nothing left behind" checks.
 */
import { randomBytes } from "node:crypto";
import { credentials, type CallOptions, type ClientReadableStream, type Metadata, type ServiceError } from "@grpc/grpc-js";
import type { Database } from "../db/index.js";
import {
  TenantServiceClient,
  type ProvisionTenantRequest,
  type ProvisionTenantResponse,
  type WatchTenantsResponse,
} from "../gen/tenantmesh/v1/tenant.js";
import { systemClock, type Clock } from "../auth/clock.js";
import type { Config } from "../config/index.js";
import type { Secrets } from "../config/secrets.js";
import { serviceTokenVerifier } from "../control-plane/service-tokens.js";
import { createAuthenticator, RpcKit, startGrpcServer, type Verifiers } from "../grpc/index.js";
import { silentLogger } from "../log/index.js";
import { bearer } from "../users/testing.js";
import { createTenantsSlice, type TenantsSliceOptions } from "./slice.js";

export { bearer, failure, GOOD_PASSWORD } from "../users/testing.js";

export const tenantClient = (address: string): TenantServiceClient => new TenantServiceClient(address, credentials.createInsecure());

/** Promise form of a unary TenantService method, bound to its client */
export function rpc<Req, Res>(
  client: TenantServiceClient,
  method: (req: Req, md: Metadata, options: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** A unique, valid slug */
export const freshSlug = (prefix = "t"): string => `${prefix}-${randomBytes(5).toString("hex")}`;

/** A ProvisionTenant request with defaults for everything not given */
export const provisionRequest = (fields: Partial<ProvisionTenantRequest> = {}): ProvisionTenantRequest => {
  const slug = fields.slug ?? freshSlug();
  return {
    name: `Tenant ${slug}`,
    slug,
    planType: "",
    adminEmail: `admin@${slug}.example.test`,
    adminPassword: "",
    billingInfo: undefined,
    billingCycle: "",
    idempotencyKey: "",
    ...fields,
  };
};

/** Provisions a tenant as the operator */
export function provision(client: TenantServiceClient, operatorToken: string, fields: Partial<ProvisionTenantRequest> = {}): Promise<ProvisionTenantResponse> {
  return rpc(client, client.provisionTenant, provisionRequest(fields), bearer(operatorToken));
}

/** Reads a WatchTenants stream message by message, with a timeout per message */
export class WatchReader {
  readonly #buffer: WatchTenantsResponse[] = [];
  readonly #waiters: Array<() => void> = [];
  error: ServiceError | undefined;
  ended = false;

  constructor(readonly call: ClientReadableStream<WatchTenantsResponse>) {
    call.on("data", (msg: WatchTenantsResponse) => {
      this.#buffer.push(msg);
      this.#waiters.splice(0).forEach((w) => w());
    });
    call.on("error", (err: ServiceError) => {
      this.error = err;
      this.#waiters.splice(0).forEach((w) => w());
    });
    call.on("end", () => {
      this.ended = true;
      this.#waiters.splice(0).forEach((w) => w());
    });
  }

  /** The next message; throws after `timeoutMs` or when the stream failed or ended first */
  async next(timeoutMs = 2_000): Promise<WatchTenantsResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const msg = this.#buffer.shift();
      if (msg !== undefined) return msg;
      if (this.error) throw this.error;
      if (this.ended) throw new Error("watch stream ended");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no watch message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Changes until one matches `predicate` (returned), failing after `timeoutMs` */
  async until(predicate: (msg: WatchTenantsResponse) => boolean, timeoutMs = 2_000): Promise<WatchTenantsResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const msg = await this.next(Math.max(1, deadline - Date.now()));
      if (predicate(msg)) return msg;
    }
  }

  /** Waits for the stream to finish; resolves with its error, if any */
  async finished(timeoutMs = 2_000): Promise<ServiceError | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended && !this.error) {
      if (Date.now() > deadline) throw new Error(`watch stream still open after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.error;
  }

  cancel(): void {
    this.call.cancel();
  }
}

export function watch(client: TenantServiceClient, token: string, resumeFromVersion = ""): WatchReader {
  return new WatchReader(client.watchTenants({ resumeFromVersion }, bearer(token)));
}

/** Rows a tenant owns in every table provisioning writes, for "nothing left behind" */
export async function rowsOfTenant(db: Database, where: { id?: string; slug?: string }): Promise<Record<string, number>> {
  return db.asPlatform(async (trx) => {
    const tenant = await trx("tenants")
      .where(where.id !== undefined ? { id: where.id } : { slug: where.slug ?? "" })
      .first("id");
    const id = (tenant as { id: string } | undefined)?.id;
    const count = async (table: string): Promise<number> =>
      id === undefined ? 0 : Number(((await trx(table).where({ tenant_id: id }).count({ n: "*" }).first()) as { n: number | string }).n);
    return {
      tenants: id === undefined ? 0 : 1,
      users: await count("users"),
      api_keys: await count("api_keys"),
      tenant_events: await count("tenant_events"),
      tenant_changes: await count("tenant_changes"),
    };
  });
}

/**
 * A second TenantService, built with other slice options (injected provisioning steps, a short timeout, a tiny
 * watch backlog), served on its own port over the same database and secrets as `base`: the real interceptor
 * chain and sockets, without changing the control plane's slice list.
 */
export async function startTenantsServer(
  base: { db: Database; config: Config; secrets: Secrets; clock?: Clock },
  options: TenantsSliceOptions,
): Promise<{ address: string; client: TenantServiceClient; close(): Promise<void> }> {
  const verifiers: Verifiers = {};
  const authenticator = createAuthenticator({ operatorToken: base.secrets.adminToken, verifiers });
  const kit = new RpcKit({ db: base.db, authenticator, logger: silentLogger });
  const slice = createTenantsSlice(options)({
    config: base.config,
    db: base.db,
    kit,
    secrets: base.secrets,
    clock: base.clock ?? systemClock,
    logger: silentLogger,
  });
  Object.assign(verifiers, slice.verifiers ?? {}, { service: serviceTokenVerifier(base.secrets, base.clock ?? systemClock) });
  const server = await startGrpcServer({ host: "127.0.0.1", port: 0, services: slice.services, protoFiles: slice.protoFiles });
  const address = `127.0.0.1:${server.port}`;
  const client = tenantClient(address);
  return {
    address,
    client,
    async close() {
      client.close();
      await slice.close?.();
      await server.close(500);
    },
  };
}
