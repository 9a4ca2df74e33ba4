/** The proxy's file configuration: validation, the route table, and live reloading */
export { loadProxyConfig, parseProxyConfig, violationsOf, type ClusterConfig, type ProxyConfig } from "./load.js";
export { parseHostPort, proxyConfigSchema, type ProxyConfigFile } from "./schema.js";
export { createRouteTable, normalizePath, splitPath, type RouteSpec } from "./routes.js";
export { defaultProbe, RuntimeManager, type ProxyRuntime, type RuntimeOptions } from "./runtime.js";
export { ConfigWatcher, type ConfigWatcherOptions, type ReloadResult } from "./watcher.js";
