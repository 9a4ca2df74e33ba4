import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import { TenantConfig } from "../../src/gen/tenantmesh/v1/tenant.js";

/** The last known good directory as kept on disk: the feed's own TenantConfigs, so there is one schema */
export interface DirectorySnapshot {
  /** The feed version the configs are consistent with */
  readonly version: string;
  /** Epoch ms of the last snapshot or change applied before writing */
  readonly updatedAt: number;
  readonly configs: readonly TenantConfig[];
}

const FORMAT = 1;

/**
 * Reads a snapshot file: undefined when there is none, an error reason when it cannot be used (the caller
 * logs it and starts empty rather than trusting half a file — though the rename in `writeSnapshotFile` means
 * a torn file should never exist).
 */
export function readSnapshotFile(file: string): { ok: true; snapshot: DirectorySnapshot } | { ok: false; reason: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { ok: false, reason: `cannot read ${file}: ${(err as Error).message}` };
  }
  try {
    const raw: unknown = JSON.parse(text);
    if (typeof raw !== "object" || raw === null) return { ok: false, reason: "not a JSON object" };
    const { format, version, updatedAt, tenants } = raw as Record<string, unknown>;
    if (format !== FORMAT) return { ok: false, reason: `unknown format ${String(format)}` };
    if (typeof version !== "string" || !/^\d{1,19}$/.test(version)) return { ok: false, reason: "bad version" };
    if (typeof updatedAt !== "number" || !Number.isFinite(updatedAt)) return { ok: false, reason: "bad updatedAt" };
    if (!Array.isArray(tenants)) return { ok: false, reason: "tenants is not a list" };
    return { ok: true, snapshot: { version, updatedAt, configs: tenants.map((t: unknown) => TenantConfig.fromJSON(t)) } };
  } catch (err) {
    return { ok: false, reason: `unparsable: ${(err as Error).message}` };
  }
}

/**
 * Writes atomically: a temp file beside the target (same filesystem, so rename is atomic), fsynced, then
 * renamed over it. A crash mid-write leaves the previous file whole. Mode 0600: the file holds API key
 * digests, which are not secrets but are an offline-guessing target.
 */
export async function writeSnapshotFile(file: string, snapshot: DirectorySnapshot): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const body = JSON.stringify({
    format: FORMAT,
    version: snapshot.version,
    updatedAt: snapshot.updatedAt,
    tenants: snapshot.configs.map((c) => TenantConfig.toJSON(c)),
  });
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(body, "utf8");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/**
 * Coalesces writes: `mark()` after every change, and the latest state is written at most once per
 * `minIntervalMs` (the feed may deliver hundreds of changes a second; the disk copy only has to be recent).
 * Writes never overlap; a failed write is reported and retried on the next mark.
 */
export class ThrottledWriter {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private lastWriteAt = -Infinity;
  private running: Promise<void> | undefined;

  constructor(
    private readonly minIntervalMs: number,
    private readonly write: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  mark(): void {
    this.dirty = true;
    if (this.timer !== undefined || this.running !== undefined) return;
    const wait = Math.max(0, this.lastWriteAt + this.minIntervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
    this.timer.unref();
  }

  /** Writes now if anything is pending (and waits for a write already running) */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running !== undefined) await this.running;
    if (!this.dirty) return;
    this.dirty = false;
    this.lastWriteAt = this.now();
    this.running = this.write()
      .catch((err: unknown) => {
        this.dirty = true;
        this.onError(err);
      })
      .finally(() => {
        this.running = undefined;
      });
    await this.running;
    // Changes that arrived during the write go out on the normal schedule
    if (this.dirty) this.mark();
  }

  /** Stops scheduling; pending changes are dropped unless `flush()` is awaited first */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = false;
  }
}
