import { pino, type Logger } from "pino";

export type { Logger } from "pino";

/**
 * The process logger: JSON lines on stdout. Anything that concerns one tenant logs through
 * `forTenant(logger, id)` so every such line carries `tenant_id`. Secrets never reach a log line: the redact
 * list covers the field names they travel under.
 */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({
    name: options.name ?? "tenantmesh",
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        "password",
        "*.password",
        "token",
        "*.token",
        "secret",
        "*.secret",
        "authorization",
        "*.authorization",
        "api_key",
        "*.api_key",
        "password_hash",
        "*.password_hash",
        "mfa_secret",
        "*.mfa_secret",
      ],
      censor: "[redacted]",
    },
  });
}

export function forTenant(logger: Logger, tenantId: string): Logger {
  return logger.child({ tenant_id: tenantId });
}

/** A logger that drops everything, for tests that do not look at logs */
export const silentLogger: Logger = pino({ level: "silent" });
