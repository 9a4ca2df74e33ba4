import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { startControlPlane } from "../src/control-plane/index.js";
import { defaultRoles, openDatabase } from "../src/db/index.js";
import { Tenant, type TenantConfig, type TenantServiceClient, type WatchTenantsResponse } from "../src/gen/tenantmesh/v1/tenant.js";
import { silentLogger } from "../src/log/index.js";
import { compactChanges } from "../src/tenants/index.js";
import { bearer, failure, provision, rpc, startTenantsServer, tenantClient, watch, type WatchReader } from "../src/tenants/testing.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { onPostgres } from "./support/db.js";

let tcp: TestControlPlane;
let client: TenantServiceClient;
const open: WatchReader[] = [];

beforeAll(async () => {
  tcp = await startTestControlPlane();
  client = tenantClient(tcp.address);
});
afterAll(async () => {
  for (const w of open) w.cancel();
  client.close();
  await tcp.close();
});

const watcher = (resumeFromVersion = "", c = client): WatchReader => {
  const w = watch(c, tcp.adminToken, resumeFromVersion);
  open.push(w);
  return w;
};
const op = () => bearer(tcp.adminToken);
const suspend = (id: string) => rpc(client, client.suspendTenant, { id, reason: "" }, op());
const reactivate = (id: string) => rpc(client, client.reactivateTenant, { id, reason: "" }, op());
const rename = (id: string, name: string, c = client) =>
  rpc(c, c.updateTenant, { tenant: Tenant.fromPartial({ id, name }), updateMask: ["name"] }, op());
const isChangeOf = (id: string, pred: (c: TenantConfig) => boolean = () => true) => (m: WatchTenantsResponse) =>
  m.change?.tenantId === id && m.change.config !== undefined && pred(m.change.config);

/** Applies a stream's messages to a map, as a proxy would */
function apply(state: Map<string, TenantConfig>, msg: WatchTenantsResponse): void {
  if (msg.snapshot) {
    state.clear();
    for (const c of msg.snapshot.tenants) state.set(c.tenant?.id ?? "", c);
  }
  if (msg.change?.config) state.set(msg.change.tenantId, msg.change.config);
}

describe("WatchTenants snapshot", () => {
  it("starts with every tenant's config (API key digests, no secrets), leaving out tenants still provisioning", async () => {
    const t = await provision(client, tcp.adminToken);
    const stuck = await tcp.cp.db.asPlatform((trx) =>
      trx("tenants").insert({ name: "half-made", slug: `stuck-${Date.now()}`, plan_type: "basic", status: "provisioning" }).returning("id"),
    );
    const w = watcher();
    const { snapshot } = await w.next();
    expect(snapshot?.reset).toBe(false);
    expect(Number(snapshot?.version)).toBeGreaterThan(0);
    const mine = snapshot?.tenants.find((c) => c.tenant?.id === t.tenant?.id);
    expect(mine?.tenant).toMatchObject({ status: "active", slug: t.tenant?.slug, planType: "basic" });
    expect(mine?.apiKeys).toEqual([expect.objectContaining({ keyId: t.apiKeyInfo?.keyId, role: "admin", secretHash: expect.stringMatching(/^[0-9a-f]{64}$/) })]);
    expect(JSON.stringify(snapshot)).not.toContain(t.apiKey.split("_")[2]);
    expect(snapshot?.tenants.some((c) => c.tenant?.id === (stuck[0] as { id: string }).id)).toBe(false);
    w.cancel();
  });
});

describe("WatchTenants changes", () => {
  it("sees a suspension within 100 ms", async () => {
    const t = await provision(client, tcp.adminToken);
    const id = t.tenant?.id ?? "";
    const w = watcher();
    await w.next();
    const started = performance.now();
    await suspend(id);
    const msg = await w.until(isChangeOf(id, (c) => c.tenant?.status === "suspended"), 1_000);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(100);
    expect(msg.change?.config?.tenant?.status).toBe("suspended");
    await reactivate(id);
    await w.until(isChangeOf(id, (c) => c.tenant?.status === "active"));
    w.cancel();
  });

  it("carries key creation and revocation, with strictly increasing versions", async () => {
    const t = await provision(client, tcp.adminToken);
    const id = t.tenant?.id ?? "";
    const w = watcher();
    await w.next();
    const created = await rpc(client, client.createApiKey, { tenantId: id, name: "k", role: "user", expiresAt: undefined }, op());
    const withKey = await w.until(isChangeOf(id, (c) => c.apiKeys.some((k) => k.keyId === created.key?.keyId)));
    await rpc(client, client.revokeApiKey, { tenantId: id, keyId: created.key?.keyId ?? "" }, op());
    const without = await w.until(isChangeOf(id, (c) => !c.apiKeys.some((k) => k.keyId === created.key?.keyId)));
    expect(BigInt(without.change?.version ?? 0)).toBeGreaterThan(BigInt(withKey.change?.version ?? 0));
    w.cancel();
  });

  it("a resumed stream misses no change made while it was away, and gets no snapshot", async () => {
    const t1 = await provision(client, tcp.adminToken);
    const t2 = await provision(client, tcp.adminToken);
    const [id1, id2] = [t1.tenant?.id ?? "", t2.tenant?.id ?? ""];
    const state = new Map<string, TenantConfig>();
    const first = watcher();
    const snap = await first.next();
    apply(state, snap);
    let last = snap.snapshot?.version ?? "0";
    await rename(id1, "before the break");
    const seen = await first.until(isChangeOf(id1, (c) => c.tenant?.name === "before the break"));
    apply(state, seen);
    last = seen.change?.version ?? last;
    first.cancel();

    await rename(id1, "during the break");
    await suspend(id2);
    const made = await rpc(client, client.createApiKey, { tenantId: id1, name: "while away", role: "viewer", expiresAt: undefined }, op());

    const resumed = watcher(last);
    let previous = BigInt(last);
    for (;;) {
      const msg = await resumed.next();
      expect(msg.snapshot).toBeUndefined();
      expect(BigInt(msg.change?.version ?? 0)).toBeGreaterThan(previous);
      previous = BigInt(msg.change?.version ?? 0);
      apply(state, msg);
      const c1 = state.get(id1);
      if (c1?.tenant?.name === "during the break" && c1.apiKeys.some((k) => k.keyId === made.key?.keyId) && state.get(id2)?.tenant?.status === "suspended") break;
    }
    resumed.cancel();

    const fresh = watcher();
    const truth = new Map<string, TenantConfig>();
    apply(truth, await fresh.next());
    fresh.cancel();
    for (const id of [id1, id2]) expect(state.get(id)?.tenant?.updatedAt).toEqual(truth.get(id)?.tenant?.updatedAt);
    await reactivate(id2);
  });

  it("answers a resume from a future, compacted or garbled version with a fresh snapshot marked reset (or INVALID_ARGUMENT)", async () => {
    const future = watcher("999999999");
    expect((await future.next()).snapshot?.reset).toBe(true);
    future.cancel();

    const w = watcher();
    const version = Number((await w.next()).snapshot?.version);
    w.cancel();
    const t = await provision(client, tcp.adminToken);
    await rename(t.tenant?.id ?? "", "one more change");
    await tcp.cp.db.asPlatform((trx) => compactChanges(trx, 0, new Date(Date.now() + 1_000)));
    const compacted = watcher(String(version));
    const msg = await compacted.next();
    expect(msg.snapshot?.reset).toBe(true);
    expect(msg.snapshot?.tenants.some((c) => c.tenant?.name === "one more change")).toBe(true);
    // The newest row is always kept: a client that is up to date still resumes without a snapshot.
    const upToDate = watcher(msg.snapshot?.version ?? "");
    await rename(t.tenant?.id ?? "", "after compaction");
    expect((await upToDate.next()).change?.config?.tenant?.name).toBe("after compaction");
    compacted.cancel();
    upToDate.cancel();

    expect(await watcher("-5").finished()).toMatchObject({ code: status.INVALID_ARGUMENT });
  });
});

describe("WatchTenants stream ends", () => {
  it("ends a subscriber that stops reading with UNAVAILABLE; it resumes and catches up", async () => {
    const server = await startTenantsServer({ db: tcp.cp.db, config: tcp.config, secrets: tcp.cp.secrets }, { maxWatchBacklog: 3 });
    try {
      const t = await provision(server.client, tcp.adminToken);
      const id = t.tenant?.id ?? "";
      const slow = watch(server.client, tcp.adminToken);
      const snap = await slow.next();
      slow.call.pause();
      // Big configs fill the HTTP/2 window and grpc-js's 16-message write buffer, so the server's writes
      // block and its queue grows past the bound.
      const blob = "x".repeat(50_000);
      for (let i = 0; i < 40; i++) {
        await rpc(server.client, server.client.updateTenant, { tenant: Tenant.fromPartial({ id, name: `n${i}`, billingInfo: { blob } }), updateMask: ["name", "billing_info"] }, op());
        await new Promise((r) => setTimeout(r, 15));
      }
      slow.call.resume();
      const err = await failure(slow.until(() => false, 5_000));
      expect(err).toMatchObject({ code: status.UNAVAILABLE });

      const again = watch(server.client, tcp.adminToken, snap.snapshot?.version ?? "");
      const latest = await again.until(isChangeOf(id, (c) => c.tenant?.name === "n39"), 5_000);
      expect(latest.change?.config?.tenant?.name).toBe("n39");
      again.cancel();
    } finally {
      await server.close();
    }
  });

  it("ends cleanly (status OK) when the server's feed closes", async () => {
    const server = await startTenantsServer({ db: tcp.cp.db, config: tcp.config, secrets: tcp.cp.secrets }, {});
    const w = watch(server.client, tcp.adminToken);
    await w.next();
    const closing = server.close();
    expect(await w.finished()).toBeUndefined();
    expect(w.ended).toBe(true);
    await closing;
  });

  it("ends on client cancel", async () => {
    const w = watcher();
    await w.next();
    w.cancel();
    expect(await w.finished()).toMatchObject({ code: status.CANCELLED });
    // The server carries on serving watchers.
    const next = watcher();
    expect((await next.next()).snapshot).toBeDefined();
    next.cancel();
  });
});

describe("WatchTenants across replicas", () => {
  // Two control planes share one database only on PostgreSQL: an embedded PGlite belongs to one process.
  it.skipIf(!onPostgres())("delivers a change made through a second control-plane instance on the same PostgreSQL", async () => {
    const url = tcp.testDb.url ?? "";
    const db2 = openDatabase({ kind: "postgres", url, poolMax: 3, connectTimeoutMs: 3_000, ...defaultRoles });
    const config2 = loadConfig(
      { TENANTMESH_DATA_DIR: tcp.config.dataDir, TENANTMESH_GRPC_HOST: "127.0.0.1", TENANTMESH_GRPC_PORT: "0", LOG_LEVEL: "silent" },
      { inMemoryDatabase: true },
    );
    const cp2 = await startControlPlane(config2, { logger: silentLogger, db: db2 });
    await cp2.ready;
    const client2 = tenantClient(`127.0.0.1:${cp2.port}`);
    try {
      const t = await provision(client, tcp.adminToken);
      const id = t.tenant?.id ?? "";
      const w = watcher();
      await w.next();
      const started = performance.now();
      await rename(id, "changed through replica 2", client2);
      await w.until(isChangeOf(id, (c) => c.tenant?.name === "changed through replica 2"), 2_000);
      expect(performance.now() - started).toBeLessThan(500);
      w.cancel();
    } finally {
      client2.close();
      await cp2.close();
      await db2.close();
    }
  });
});
