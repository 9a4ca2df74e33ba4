import { EventEmitter } from "node:events";
import type { Logger } from "../log/index.js";
import type { Database } from "./database.js";

export type DatabaseHealthState = "unknown" | "up" | "down";

/**
 * Watches the database with a trivial query every `intervalMs` and reports transitions ("up"/"down").
 * The control plane maps them onto its gRPC health status and fails fast with UNAVAILABLE while down;
 * recovery needs no restart: the next successful probe flips it back.
 */
export class DatabaseHealth extends EventEmitter<{ change: [DatabaseHealthState] }> {
  #state: DatabaseHealthState = "unknown";
  #timer: NodeJS.Timeout | undefined;
  #probing = false;

  constructor(
    private readonly db: Database,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly probeTimeoutMs = Math.max(intervalMs, 2_000),
  ) {
    super();
  }

  get state(): DatabaseHealthState {
    return this.#state;
  }

  start(): void {
    if (this.#timer) return;
    void this.probe();
    this.#timer = setInterval(() => void this.probe(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One probe; resolves with the state it found */
  async probe(): Promise<DatabaseHealthState> {
    if (this.#probing) return this.#state;
    this.#probing = true;
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.db.ping(),
        new Promise((_, reject) => {
          timeout = setTimeout(() => reject(new Error("database probe timed out")), this.probeTimeoutMs);
        }),
      ]);
      this.#set("up");
    } catch (err) {
      if (this.#state !== "down") this.logger.warn({ err: (err as Error).message }, "database unreachable");
      this.#set("down");
    } finally {
      clearTimeout(timeout);
      this.#probing = false;
    }
    return this.#state;
  }

  #set(state: DatabaseHealthState): void {
    if (state === this.#state) return;
    if (state === "up" && this.#state === "down") this.logger.info("database reachable again");
    this.#state = state;
    this.emit("change", state);
  }
}
