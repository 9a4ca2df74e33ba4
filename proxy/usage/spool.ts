/**
 * The proxy's usage spool: batches formed but not yet acknowledged by the control plane, kept in a file so a
 * restart (or a kill -9) replays them. Each batch keeps its id for life, so replaying one the control plane had
 * already applied counts nothing. Appends are fsynced before the batch is sent; acknowledged batches are removed
 * by rewriting the file (write to a temporary file, then rename: a crash leaves the old or the new file, never a
 * torn one). The spool is bounded: when a new batch would pass `maxBytes`, the oldest batches are dropped and
 * reported to `onDrop` (the meter logs, counts and alerts).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import path from "node:path";
import type { CountedEvent } from "./counter.js";

export interface SpooledBatch {
  id: string;
  events: CountedEvent[];
}

export class UsageSpool {
  readonly #file: string;
  readonly #maxBytes: number;
  readonly #onDrop: (dropped: SpooledBatch[]) => void;
  /** In file order (oldest first), with each batch's line length */
  #batches: Array<{ batch: SpooledBatch; bytes: number }> = [];
  #bytes = 0;

  constructor(options: { file: string; maxBytes: number; onDrop: (dropped: SpooledBatch[]) => void }) {
    this.#file = options.file;
    this.#maxBytes = options.maxBytes;
    this.#onDrop = options.onDrop;
    mkdirSync(path.dirname(this.#file), { recursive: true });
    this.#load();
  }

  /** Batches waiting for acknowledgement, oldest first */
  get batches(): readonly SpooledBatch[] {
    return this.#batches.map((b) => b.batch);
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Writes the batch to the file (fsynced); drops the oldest batches first if it would not fit */
  append(batch: SpooledBatch): void {
    const line = `${JSON.stringify(batch)}\n`;
    const bytes = Buffer.byteLength(line);
    const dropped: SpooledBatch[] = [];
    while (this.#batches.length > 0 && this.#bytes + bytes > this.#maxBytes) {
      const oldest = this.#batches.shift();
      if (!oldest) break;
      this.#bytes -= oldest.bytes;
      dropped.push(oldest.batch);
    }
    if (bytes > this.#maxBytes) {
      dropped.push(batch);
    } else {
      this.#batches.push({ batch, bytes });
      this.#bytes += bytes;
    }
    if (dropped.length > 0) {
      this.#rewrite();
      this.#onDrop(dropped);
    } else {
      const fd = openSync(this.#file, "a");
      try {
        writeSync(fd, line);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }

  /** Forgets acknowledged batches */
  remove(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return;
    const before = this.#batches.length;
    this.#batches = this.#batches.filter((b) => !ids.has(b.batch.id));
    if (this.#batches.length === before) return;
    this.#bytes = this.#batches.reduce((n, b) => n + b.bytes, 0);
    this.#rewrite();
  }

  #rewrite(): void {
    const tmp = `${this.#file}.tmp`;
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, this.#batches.map((b) => `${JSON.stringify(b.batch)}\n`).join(""));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#file);
  }

  /** Reads the spool a previous run left; a torn last line (a crash mid-append) is skipped */
  #load(): void {
    let text: string;
    try {
      text = readFileSync(this.#file, "utf8");
    } catch {
      return;
    }
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      try {
        const batch = JSON.parse(line) as SpooledBatch;
        if (typeof batch.id !== "string" || !Array.isArray(batch.events)) continue;
        const bytes = Buffer.byteLength(line) + 1;
        this.#batches.push({ batch, bytes });
        this.#bytes += bytes;
      } catch {
        // An append cut short by a crash: that batch was never sent, its counts are the (documented) loss.
      }
    }
  }
}
