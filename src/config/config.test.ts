import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TenantMeshError } from "../errors/index.js";
import { loadConfig } from "./index.js";

const dir = mkdtempSync(path.join(tmpdir(), "tenantmesh-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

/** The TenantMeshError `fn` throws (fails the test when it throws anything else, or nothing) */
function thrown(fn: () => unknown): TenantMeshError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TenantMeshError);
    return err as TenantMeshError;
  }
  throw new Error("expected a TenantMeshError, nothing was thrown");
}

describe("loadConfig defaults", () => {
  const config = loadConfig({});

  it("uses an embedded PGlite under ./data, resolved to an absolute path", () => {
    expect(config.dataDir).toBe(path.resolve("./data"));
    expect(path.isAbsolute(config.dataDir)).toBe(true);
    expect(config.database).toEqual({
      kind: "pglite",
      dataDir: path.join(path.resolve("./data"), "pglite"),
      appRole: "tenantmesh_app",
      platformRole: "tenantmesh_platform",
    });
  });

  it("serves gRPC on 0.0.0.0:50051 and logs at info", () => {
    expect(config.grpc).toEqual({ host: "0.0.0.0", port: 50051 });
    expect(config.logLevel).toBe("info");
    expect(config.redisUrl).toBeUndefined();
    expect(config.adminToken).toBeUndefined();
    expect(config.tokenSecret).toBeUndefined();
  });

  it("keeps PGlite in memory when asked to", () => {
    expect(loadConfig({}, { inMemoryDatabase: true }).database).toMatchObject({ kind: "pglite", dataDir: undefined });
  });

  it("resolves a relative TENANTMESH_DATA_DIR against the working directory", () => {
    expect(loadConfig({ TENANTMESH_DATA_DIR: "var/tm" }).dataDir).toBe(path.resolve("var/tm"));
  });
});

describe("loadConfig with DATABASE_URL", () => {
  it("selects PostgreSQL with the pool settings", () => {
    const url = "postgres://app@db.internal:5432/tenantmesh";
    expect(loadConfig({ DATABASE_URL: url, DATABASE_POOL_MAX: "4" }).database).toEqual({
      kind: "postgres",
      url,
      poolMax: 4,
      connectTimeoutMs: 3_000,
      appRole: "tenantmesh_app",
      platformRole: "tenantmesh_platform",
    });
  });

  it("accepts postgresql:// too", () => {
    expect(loadConfig({ DATABASE_URL: "postgresql://db/x" }).database.kind).toBe("postgres");
  });

  it("treats an empty DATABASE_URL as unset", () => {
    expect(loadConfig({ DATABASE_URL: "  " }).database.kind).toBe("pglite");
  });
});

describe("loadConfig with bad values", () => {
  it("throws ONE TM_ERR_INVALID_CONFIG naming every bad field", () => {
    const err = thrown(() => loadConfig({ TENANTMESH_GRPC_PORT: "abc", DATABASE_URL: "mysql://x", LOG_LEVEL: "loud" }));
    expect(err.code).toBe("TM_ERR_INVALID_CONFIG");
    for (const field of ["TENANTMESH_GRPC_PORT", "DATABASE_URL", "LOG_LEVEL"]) expect(err.message).toContain(field);
    expect(err.violations.map((v) => v.field).sort()).toEqual(["DATABASE_URL", "LOG_LEVEL", "TENANTMESH_GRPC_PORT"]);
  });

  it.each([
    ["TENANTMESH_GRPC_PORT", "70000"],
    ["DATABASE_POOL_MAX", "0"],
    ["TENANTMESH_DB_APP_ROLE", 'app"; DROP TABLE tenants; --'],
    ["REDIS_URL", "http://cache"],
    ["TENANTMESH_ADMIN_TOKEN", "short"],
    ["TENANTMESH_TOKEN_SECRET", "too-short-for-a-secret"],
  ])("rejects %s=%j", (field, value) => {
    const err = thrown(() => loadConfig({ [field]: value }));
    expect(err.code).toBe("TM_ERR_INVALID_CONFIG");
    expect(err.violations.map((v) => v.field)).toEqual([field]);
  });

  it("does not echo secret values in the message", () => {
    const err = thrown(() => loadConfig({ TENANTMESH_TOKEN_SECRET: "hunter2-hunter2", DATABASE_URL: "mysql://app:s3cr3t@db/x" }));
    expect(err.message).toContain("TENANTMESH_TOKEN_SECRET");
    expect(err.message).toContain("DATABASE_URL");
    expect(err.message).not.toContain("hunter2");
    expect(err.message).not.toContain("s3cr3t");
    expect(JSON.stringify(err.violations)).not.toMatch(/hunter2|s3cr3t/);
  });
});

describe("loadConfig with TENANTMESH_CONFIG", () => {
  it("reads the JSON file, numbers and all", () => {
    const file = configFile("ok.json", JSON.stringify({ TENANTMESH_GRPC_PORT: 6000, LOG_LEVEL: "debug", DATABASE_URL: "postgres://f/db" }));
    const config = loadConfig({ TENANTMESH_CONFIG: file });
    expect(config.grpc.port).toBe(6000);
    expect(config.logLevel).toBe("debug");
    expect(config.database.kind).toBe("postgres");
  });

  it("lets the environment win over the file", () => {
    const file = configFile("env-wins.json", JSON.stringify({ TENANTMESH_GRPC_PORT: 6000, LOG_LEVEL: "debug" }));
    const config = loadConfig({ TENANTMESH_CONFIG: file, LOG_LEVEL: "warn" });
    expect(config.logLevel).toBe("warn");
    expect(config.grpc.port).toBe(6000);
  });

  it("treats null in the file as unset", () => {
    const file = configFile("null.json", JSON.stringify({ LOG_LEVEL: null }));
    expect(loadConfig({ TENANTMESH_CONFIG: file }).logLevel).toBe("info");
  });

  it("names the field when a value in the file is bad", () => {
    const file = configFile("bad-value.json", JSON.stringify({ LOG_LEVEL: "loud" }));
    const err = thrown(() => loadConfig({ TENANTMESH_CONFIG: file }));
    expect(err.code).toBe("TM_ERR_INVALID_CONFIG");
    expect(err.message).toContain("LOG_LEVEL");
  });

  it("gives a clear error when the file does not exist", () => {
    const file = path.join(dir, "missing.json");
    const err = thrown(() => loadConfig({ TENANTMESH_CONFIG: file }));
    expect(err.code).toBe("TM_ERR_INVALID_CONFIG");
    expect(err.message).toContain("TENANTMESH_CONFIG");
    expect(err.message).toContain(`cannot read ${file}`);
    expect(err.message).toContain("ENOENT");
  });

  // root reads any file whatever its mode, so this case is only meaningful for an ordinary user
  it.skipIf(process.getuid?.() === 0)("gives a clear error when the file is unreadable", () => {
    const file = configFile("secret.json", "{}");
    chmodSync(file, 0o000);
    const err = thrown(() => loadConfig({ TENANTMESH_CONFIG: file }));
    expect(err.message).toContain(`cannot read ${file}`);
  });

  it("gives a clear error when TENANTMESH_CONFIG names a directory", () => {
    const err = thrown(() => loadConfig({ TENANTMESH_CONFIG: dir }));
    expect(err.code).toBe("TM_ERR_INVALID_CONFIG");
    expect(err.message).toContain(`cannot read ${dir}`);
  });

  it("gives a clear error when the file is not JSON", () => {
    const file = configFile("broken.json", "LOG_LEVEL=debug\n");
    const err = thrown(() => loadConfig({ TENANTMESH_CONFIG: file }));
    expect(err.code).toBe("TM_ERR_INVALID_CONFIG");
    expect(err.message).toContain(`${file} is not JSON`);
  });

  it.each([["[]"], ['"debug"'], ["42"], ["null"]])("gives a clear error when the file holds %s instead of an object", (content) => {
    const file = configFile("not-object.json", content);
    const err = thrown(() => loadConfig({ TENANTMESH_CONFIG: file }));
    expect(err.code).toBe("TM_ERR_INVALID_CONFIG");
    expect(err.message).toContain("must hold a JSON object");
  });
});
