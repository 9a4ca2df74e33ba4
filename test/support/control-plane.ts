import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { credentials, Metadata, type Client, type ServiceError } from "@grpc/grpc-js";
import type { Clock } from "../../src/auth/clock.js";
import { loadConfig, type Config } from "../../src/config/index.js";
import { startControlPlane, type ControlPlane } from "../../src/control-plane/index.js";
import { silentLogger } from "../../src/log/index.js";
import { openTestDatabase, type TestDatabase } from "./db.js";

export interface TestControlPlane {
  cp: ControlPlane;
  config: Config;
  address: string;
  adminToken: string;
  testDb: TestDatabase;
  /** Metadata carrying `authorization: Bearer <token>` */
  auth(token: string): Metadata;
  close(): Promise<void>;
}

/**
 * A real control plane for one test file: its own data dir, a fresh database (PGlite in memory, or a scratch
 * PostgreSQL database when DATABASE_URL is set), listening on an ephemeral port on 127.0.0.1.
 */
export async function startTestControlPlane(options: { clock?: Clock; env?: Record<string, string> } = {}): Promise<TestControlPlane> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "tm-cp-"));
  const testDb = await openTestDatabase();
  const config = loadConfig(
    { TENANTMESH_DATA_DIR: dataDir, TENANTMESH_GRPC_HOST: "127.0.0.1", TENANTMESH_GRPC_PORT: "0", LOG_LEVEL: "silent", ...options.env },
    { inMemoryDatabase: true },
  );
  const cp = await startControlPlane(config, { logger: silentLogger, db: testDb.db, ...(options.clock ? { clock: options.clock } : {}) });
  await cp.ready;
  return {
    cp,
    config,
    address: `127.0.0.1:${cp.port}`,
    adminToken: cp.secrets.adminToken,
    testDb,
    auth(token) {
      const md = new Metadata();
      md.set("authorization", `Bearer ${token}`);
      return md;
    },
    async close() {
      await cp.close();
      await testDb.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const insecure = credentials.createInsecure;

/** Calls a unary method of a ts-proto grpc-js client as a promise */
export function call<Req, Res>(
  client: Client,
  method: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata = new Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
