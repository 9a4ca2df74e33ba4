import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { silentLogger, type Logger } from "../../src/log/index.js";
import type { RouteTable } from "../upstream/types.js";
import { parseProxyConfig, type ProxyConfig } from "./load.js";
import { RuntimeManager, type ProxyRuntime, type RuntimeOptions } from "./runtime.js";

export interface ConfigWatcherOptions extends RuntimeOptions {
  readonly logger?: Logger;
  /** Quiet time after the last file event before reloading (default 200 ms): editors write in bursts */
  readonly debounceMs?: number;
  /** Reload on SIGHUP (default true) */
  readonly sighup?: boolean;
  /** Watch the file for changes (default true) */
  readonly watchFile?: boolean;
  /** Called after each reload that was applied */
  readonly onReload?: (runtime: ProxyRuntime) => void;
}

export type ReloadResult = { readonly ok: true; readonly changed: boolean } | { readonly ok: false; readonly reason: string };

/**
 * Owns the proxy's file configuration at run time: loads it at start (an invalid file stops start-up), then
 * reloads on SIGHUP and when the file changes. A valid new file replaces clusters and routes at once (see
 * RuntimeManager); an invalid one is refused with the reason logged and the running configuration stays.
 * `listen`, `admin` and `control_plane` are read once at start: a change to them is logged as needing a restart.
 * Reloads run one at a time; a file whose text is unchanged is not rebuilt.
 */
export class ConfigWatcher {
  private readonly manager: RuntimeManager;
  private readonly log: Logger;
  private fsWatcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastText = "";
  private queue: Promise<unknown> = Promise.resolve();
  private readonly onSighup = (): void => void this.reload("SIGHUP");

  private constructor(
    readonly file: string,
    private readonly options: ConfigWatcherOptions,
  ) {
    this.log = (options.logger ?? silentLogger).child({ component: "proxy-config", file });
    this.manager = new RuntimeManager(options);
  }

  /** Loads, validates and applies `file`, then starts watching; throws TM_ERR_INVALID_CONFIG on a bad file */
  static async start(file: string, options: ConfigWatcherOptions = {}): Promise<ConfigWatcher> {
    const watcher = new ConfigWatcher(path.resolve(file), options);
    const text = await readFile(watcher.file, "utf8");
    watcher.manager.apply(parseProxyConfig(text, watcher.file));
    watcher.lastText = text;
    if (options.sighup ?? true) process.on("SIGHUP", watcher.onSighup);
    if (options.watchFile ?? true) watcher.watch();
    return watcher;
  }

  current(): ProxyRuntime {
    return this.manager.current();
  }

  /** The current route table; hand `() => watcher.routes()` to whoever must always see the latest */
  routes(): RouteTable {
    return this.manager.current().routes;
  }

  /** Reads the file again and applies it if valid; never throws */
  reload(trigger = "manual"): Promise<ReloadResult> {
    const run = this.queue.then(() => this.reloadNow(trigger));
    this.queue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    process.off("SIGHUP", this.onSighup);
    clearTimeout(this.debounce);
    this.fsWatcher?.close();
    this.manager.close();
  }

  private async reloadNow(trigger: string): Promise<ReloadResult> {
    let text: string;
    let config: ProxyConfig;
    try {
      text = await readFile(this.file, "utf8");
      if (text === this.lastText) return { ok: true, changed: false };
      config = parseProxyConfig(text, this.file);
    } catch (err) {
      const reason = (err as Error).message;
      this.log.error({ trigger, reason }, "refused the new proxy configuration; the running one stays");
      return { ok: false, reason };
    }
    const before = this.manager.current().config;
    let runtime: ProxyRuntime;
    try {
      runtime = this.manager.apply(config);
    } catch (err) {
      const reason = (err as Error).message;
      this.log.error({ trigger, reason }, "could not build the new proxy configuration; the running one stays");
      return { ok: false, reason };
    }
    this.lastText = text;
    const needRestart = (["listen", "admin", "controlPlane"] as const).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(config[k]));
    if (needRestart.length > 0) this.log.warn({ fields: needRestart }, "these settings change only on restart");
    this.log.info({ trigger, clusters: config.clusters.length, routes: config.routes.length }, "proxy configuration reloaded");
    this.options.onReload?.(runtime);
    return { ok: true, changed: true };
  }

  /**
   * Watches the directory, not the file: editors and config-map updates replace the file by rename, which
   * would leave a watch on the old inode deaf.
   */
  private watch(): void {
    const base = path.basename(this.file);
    this.fsWatcher = watch(path.dirname(this.file), (_event, name) => {
      if (name !== null && name !== base && !name.startsWith("..data")) return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reload("file change"), this.options.debounceMs ?? 200);
      this.debounce.unref();
    });
    this.fsWatcher.unref();
    this.fsWatcher.on("error", (err) => this.log.warn({ err }, "cannot watch the proxy configuration; SIGHUP still reloads"));
  }
}
