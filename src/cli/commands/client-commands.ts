import type { Command } from "commander";

/** The client verbs (tenants, users, keys, …) that talk to a running control plane; filled per slice */
export function registerClientCommands(_program: Command): void {}
