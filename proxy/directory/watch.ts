import path from "node:path";
import { credentials as grpcCredentials, Metadata, status, type ChannelCredentials, type ChannelOptions, type ClientReadableStream, type ServiceError } from "@grpc/grpc-js";
import { systemClock, type Clock } from "../../src/auth/clock.js";
import { TenantServiceClient, type TenantConfig, type WatchTenantsResponse } from "../../src/gen/tenantmesh/v1/tenant.js";
import { silentLogger, type Logger } from "../../src/log/index.js";
import { tenantEntryFromConfig, type MappedTenant } from "./entry.js";
import { readSnapshotFile, ThrottledWriter, writeSnapshotFile } from "./snapshot-file.js";
import { StaticDirectory } from "./static.js";
import type { ApiKeyEntry, DirectoryState, TenantDirectory, TenantEntry } from "./types.js";

export interface WatchDirectoryOptions {
  /** Control plane `host:port` */
  readonly address: string;
  /** A service token (`tmsvc_…`) with scope `tenants:watch` */
  readonly serviceToken: string;
  /** Where the last-known-good copy lives (`<dataDir>/tenant-directory.json`); undefined keeps it in memory only */
  readonly dataDir: string | undefined;
  readonly credentials?: ChannelCredentials;
  readonly channelOptions?: ChannelOptions;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Reconnect back-off: first delay and cap (defaults 100 ms and 5 s); full jitter over the upper half */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Minimum time between disk writes (default 1 s) */
  readonly persistIntervalMs?: number;
  /**
   * A resumed stream sends nothing until the next change, and the control plane sends no headers before its
   * first message; a stream still open after this long (default 1 s) is taken as caught up.
   */
  readonly resumeGraceMs?: number;
}

export const LAST_KNOWN_GOOD_FILE = "tenant-directory.json";

/**
 * The tenant directory fed by TenantService.WatchTenants. A snapshot replaces everything, each change replaces
 * one tenant, and both take effect the moment they arrive (suspensions and new keys must bite within a
 * second). After a dropped stream it resumes from the last applied version, so nothing is missed; the control
 * plane answers a version it cannot resume from with a reset snapshot. The applied state is kept on disk
 * (atomically, at most once a second) and loaded at start, so a proxy restarted while the control plane is
 * down still serves known tenants (`state().source === "last-known-good"`).
 */
export class WatchDirectory implements TenantDirectory {
  private readonly store: StaticDirectory;
  private readonly configs = new Map<string, TenantConfig>();
  private readonly client: TenantServiceClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly file: string | undefined;
  private readonly writer: ThrottledWriter | undefined;
  private call: ClientReadableStream<WatchTenantsResponse> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private closed = false;
  private outage = false;
  private writeFailing = false;
  private syncWaiters: Array<() => void> = [];

  constructor(private readonly options: WatchDirectoryOptions) {
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? silentLogger).child({ component: "tenant-directory" });
    this.store = new StaticDirectory({ clock: this.clock, state: { source: "empty", synced: false, version: "0", lastUpdateAt: undefined } });
    this.client = new TenantServiceClient(options.address, options.credentials ?? grpcCredentials.createInsecure(), options.channelOptions);
    this.file = options.dataDir === undefined ? undefined : path.join(options.dataDir, LAST_KNOWN_GOOD_FILE);
    this.writer =
      this.file === undefined
        ? undefined
        : new ThrottledWriter(options.persistIntervalMs ?? 1_000, () => this.persist(), (err) => this.persistFailed(err), () => this.clock.now());
    this.loadLastKnownGood();
  }

  tenant(id: string): TenantEntry | undefined {
    return this.store.tenant(id);
  }
  apiKey(keyId: string): { readonly tenant: TenantEntry; readonly key: ApiKeyEntry } | undefined {
    return this.store.apiKey(keyId);
  }
  tenants(): Iterable<TenantEntry> {
    return this.store.tenants();
  }
  apiKeysOf(tenantId: string): readonly ApiKeyEntry[] {
    return this.store.apiKeysOf(tenantId);
  }
  state(): DirectoryState {
    return this.store.state();
  }
  onChange(listener: (tenantIds: readonly string[]) => void): () => void {
    return this.store.onChange(listener);
  }

  /** Opens the stream (and keeps reopening it until `close`) */
  start(): this {
    if (!this.closed && this.call === undefined && this.retryTimer === undefined) this.connect();
    return this;
  }

  /** Resolves once the feed has delivered its snapshot (or a resumed stream is caught up) */
  whenSynced(): Promise<void> {
    if (this.state().synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Ends the stream, writes any pending state to disk, closes the channel */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.graceTimer);
    this.call?.cancel();
    this.call = undefined;
    await this.writer?.flush();
    this.writer?.stop();
    this.client.close();
  }

  private connect(): void {
    this.retryTimer = undefined;
    const metadata = new Metadata();
    metadata.set("authorization", `Bearer ${this.options.serviceToken}`);
    const resumeFromVersion = this.state().source === "empty" ? "0" : this.state().version;
    const call = this.client.watchTenants({ resumeFromVersion }, metadata);
    this.call = call;
    let ended = false;
    const end = (err: ServiceError | undefined): void => {
      if (ended) return;
      ended = true;
      if (this.call === call) this.call = undefined;
      this.streamEnded(err);
    };
    call.on("data", (msg: WatchTenantsResponse) => {
      if (this.call === call) this.receive(msg);
    });
    // A fresh stream is synced by its snapshot; a resumed one as soon as the server answers at all
    if (resumeFromVersion !== "0") {
      call.on("metadata", () => {
        if (this.call === call) this.markSynced();
      });
    }
    call.on("error", (err: ServiceError) => end(err));
    call.on("end", () => end(undefined));
    if (resumeFromVersion !== "0") {
      this.graceTimer = setTimeout(() => {
        if (this.call === call) this.markSynced();
      }, this.options.resumeGraceMs ?? 1_000);
      this.graceTimer.unref();
    }
  }

  private receive(msg: WatchTenantsResponse): void {
    const version = msg.snapshot?.version ?? msg.change?.version;
    if (version !== undefined && !/^\d{1,19}$/.test(version)) {
      this.log.error({ version }, "ignoring a feed message with a malformed version");
      return;
    }
    try {
      if (msg.snapshot !== undefined) {
        const configs = msg.snapshot.tenants.filter((c) => c.tenant !== undefined && c.tenant.id !== "");
        this.configs.clear();
        for (const c of configs) this.configs.set(c.tenant!.id, c);
        if (msg.snapshot.reset) this.log.warn({ version: msg.snapshot.version }, "tenant feed could not resume; replaced the directory with a fresh snapshot");
        this.store.setState({ version: msg.snapshot.version });
        this.store.replaceAll(mapAll(configs));
      } else if (msg.change !== undefined) {
        const { version, tenantId, config } = msg.change;
        // At-least-once delivery around a reconnect: anything at or below the applied version is a repeat
        if (BigInt(version) <= BigInt(this.state().version)) return;
        const mapped = config === undefined ? undefined : tenantEntryFromConfig(config);
        this.store.setState({ version });
        if (mapped === undefined) {
          this.configs.delete(tenantId);
          this.store.remove(tenantId);
        } else {
          this.configs.set(mapped.entry.id, config!);
          this.store.upsert(mapped.entry, mapped.keys);
        }
      } else {
        return;
      }
    } catch (err) {
      // A listener threw (a bug elsewhere); the change itself is applied, so keep following the feed
      this.log.error({ err }, "tenant directory listener failed");
    }
    this.markSynced();
    this.writer?.mark();
  }

  private markSynced(): void {
    clearTimeout(this.graceTimer);
    this.attempt = 0;
    if (this.outage) this.log.info({ version: this.state().version }, "tenant feed reconnected");
    this.outage = false;
    if (!this.state().synced) this.store.setState({ synced: true, source: "feed" });
    for (const resolve of this.syncWaiters.splice(0)) resolve();
  }

  private streamEnded(err: ServiceError | undefined): void {
    clearTimeout(this.graceTimer);
    this.store.setState({ synced: false });
    if (this.closed) return;
    const delay = this.nextDelay();
    if (!this.outage) {
      this.outage = true;
      const detail = err === undefined ? { reason: "stream ended" } : { code: status[err.code], reason: err.details };
      const level = err?.code === status.UNAUTHENTICATED || err?.code === status.PERMISSION_DENIED ? "error" : "warn";
      this.log[level]({ ...detail, retryInMs: delay, source: this.state().source }, "tenant feed disconnected; serving the last known directory");
    }
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }

  /** Exponential back-off with jitter over the upper half, so replicas do not reconnect in step */
  private nextDelay(): number {
    const initial = this.options.backoff?.initialMs ?? 100;
    const max = this.options.backoff?.maxMs ?? 5_000;
    const ceiling = Math.min(max, initial * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  private loadLastKnownGood(): void {
    if (this.file === undefined) return;
    const read = readSnapshotFile(this.file);
    if (read === undefined) return;
    if (!read.ok) {
      this.log.warn({ file: this.file, reason: read.reason }, "ignoring unusable last-known-good tenant directory");
      return;
    }
    const { snapshot } = read;
    for (const c of snapshot.configs) if (c.tenant !== undefined && c.tenant.id !== "") this.configs.set(c.tenant.id, c);
    this.store.replaceAll(mapAll(this.configs.values()));
    this.store.setState({ source: "last-known-good", synced: false, version: snapshot.version, lastUpdateAt: snapshot.updatedAt });
    this.log.info({ file: this.file, version: snapshot.version, tenants: this.configs.size }, "loaded last-known-good tenant directory");
  }

  private async persist(): Promise<void> {
    const { version, lastUpdateAt } = this.state();
    await writeSnapshotFile(this.file!, { version, updatedAt: lastUpdateAt ?? this.clock.now(), configs: [...this.configs.values()] });
    if (this.writeFailing) this.log.info("last-known-good tenant directory written again");
    this.writeFailing = false;
  }

  private persistFailed(err: unknown): void {
    if (!this.writeFailing) this.log.error({ err, file: this.file }, "cannot write the last-known-good tenant directory; retrying");
    this.writeFailing = true;
  }
}

function* mapAll(configs: Iterable<TenantConfig>): Iterable<MappedTenant> {
  for (const c of configs) {
    const m = tenantEntryFromConfig(c);
    if (m !== undefined) yield m;
  }
}
