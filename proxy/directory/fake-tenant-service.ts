import { Server, ServerCredentials, status, type ServerWritableStream } from "@grpc/grpc-js";
import { TenantServiceService, type TenantConfig, type WatchTenantsRequest, type WatchTenantsResponse } from "../../src/gen/tenantmesh/v1/tenant.js";

/**
 * A scripted TenantService for directory tests, over a real socket: it keeps a change log, answers
 * WatchTenants with a snapshot (or, resuming from a version it still has, only the changes after it), streams
 * new changes to open watchers, and can drop every stream or go away and come back on the same port.
 */
export class FakeTenantService {
  readonly requests: Array<{ resumeFromVersion: string; authorization: string | undefined }> = [];
  /** Versions at or below this are compacted away: resuming from one gets a reset snapshot */
  compactedThrough = 0;
  requiredToken: string | undefined;
  private log: Array<{ version: number; config: TenantConfig }> = [];
  private readonly watchers = new Set<ServerWritableStream<WatchTenantsRequest, WatchTenantsResponse>>();
  private server: Server | undefined;
  port = 0;

  get version(): number {
    return this.log.at(-1)?.version ?? 0;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Appends a change and sends it to every open stream */
  push(config: TenantConfig): number {
    const entry = { version: this.version + 1, config };
    this.log.push(entry);
    for (const w of this.watchers) w.write(change(entry));
    return entry.version;
  }

  /** Appends a change that no open stream hears (as if it happened while they were disconnected) */
  pushQuietly(config: TenantConfig): number {
    this.log.push({ version: this.version + 1, config });
    return this.version;
  }

  /** Ends every open stream with UNAVAILABLE, as a control plane restart would */
  dropStreams(): void {
    for (const w of this.watchers) w.emit("error", Object.assign(new Error("going away"), { code: status.UNAVAILABLE }));
    this.watchers.clear();
  }

  async start(port = this.port): Promise<void> {
    const server = new Server();
    server.addService(TenantServiceService, { watchTenants: (call: ServerWritableStream<WatchTenantsRequest, WatchTenantsResponse>) => this.watch(call) });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
  }

  async stop(): Promise<void> {
    this.dropStreams();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) server.forceShutdown();
  }

  private watch(call: ServerWritableStream<WatchTenantsRequest, WatchTenantsResponse>): void {
    const authorization = call.metadata.get("authorization")[0]?.toString();
    this.requests.push({ resumeFromVersion: call.request.resumeFromVersion, authorization });
    if (this.requiredToken !== undefined && authorization !== `Bearer ${this.requiredToken}`) {
      call.emit("error", Object.assign(new Error("bad token"), { code: status.UNAUTHENTICATED }));
      return;
    }
    const from = Number(call.request.resumeFromVersion || "0");
    if (from > 0 && from >= this.compactedThrough && from <= this.version) {
      for (const entry of this.log) if (entry.version > from) call.write(change(entry));
    } else {
      const latest = new Map<string, TenantConfig>();
      for (const { config } of this.log) latest.set(config.tenant!.id, config);
      call.write({ snapshot: { version: String(this.version), tenants: [...latest.values()], reset: from > 0 } });
    }
    this.watchers.add(call);
    call.on("cancelled", () => this.watchers.delete(call));
  }
}

function change(entry: { version: number; config: TenantConfig }): WatchTenantsResponse {
  return { change: { version: String(entry.version), tenantId: entry.config.tenant!.id, config: entry.config } };
}
