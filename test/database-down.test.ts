import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { credentials, Metadata, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { startControlPlane, type ControlPlane } from "../src/control-plane/index.js";
import { TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import { silentLogger } from "../src/log/index.js";
import { healthClient } from "./support/health.js";
import { privatePostgresMissing, startPrivatePostgres } from "./support/private-postgres.js";

const skipReason = privatePostgresMissing();

async function waitFor(predicate: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await predicate()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe.skipIf(skipReason !== undefined)(`control plane with its database down${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  let pg: Awaited<ReturnType<typeof startPrivatePostgres>>;
  let cp: ControlPlane;
  let dataDir: string;
  let tenants: TenantServiceClient;
  let health: ReturnType<typeof healthClient>;
  const md = new Metadata();

  const healthStatus = (): Promise<string> => health.status();
  const listTenants = (): Promise<{ code: number; ms: number }> =>
    new Promise((resolve) => {
      const t0 = Date.now();
      tenants.listTenants({ pageSize: 1, pageToken: "", status: "", planType: "" }, md, { deadline: Date.now() + 15_000 }, (err) =>
        resolve({ code: err ? err.code : status.OK, ms: Date.now() - t0 }),
      );
    });

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    dataDir = mkdtempSync(path.join(os.tmpdir(), "tm-dbdown-"));
    const config = loadConfig({
      TENANTMESH_DATA_DIR: dataDir,
      DATABASE_URL: pg.url,
      DATABASE_CONNECT_TIMEOUT_MS: "1000",
      TENANTMESH_DB_HEALTH_INTERVAL_MS: "250",
      TENANTMESH_GRPC_HOST: "127.0.0.1",
      TENANTMESH_GRPC_PORT: "0",
    });
    cp = await startControlPlane(config, { logger: silentLogger });
    await cp.ready;
    md.set("authorization", `Bearer ${cp.secrets.adminToken}`);
    tenants = new TenantServiceClient(`127.0.0.1:${cp.port}`, credentials.createInsecure());
    health = healthClient(`127.0.0.1:${cp.port}`);
  }, 120_000);

  afterAll(async () => {
    tenants?.close();
    health?.close();
    await cp?.close();
    pg?.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves and reports SERVING while the database answers", async () => {
    await waitFor(async () => (await healthStatus()) === "SERVING", 5_000);
    expect((await listTenants()).code).toBe(status.OK);
  });

  it("answers UNAVAILABLE quickly and reports NOT_SERVING while the database is down, and does not crash", async () => {
    pg.stop();
    await waitFor(async () => (await healthStatus()) === "NOT_SERVING", 5_000);
    for (let i = 0; i < 3; i++) {
      const { code, ms } = await listTenants();
      expect(code).toBe(status.UNAVAILABLE);
      expect(ms).toBeLessThan(5_000);
    }
  });

  it("recovers by itself when the database returns", async () => {
    pg.start();
    await waitFor(async () => (await healthStatus()) === "SERVING", 15_000);
    await waitFor(async () => (await listTenants()).code === status.OK, 10_000);
  });
});
