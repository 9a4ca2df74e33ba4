import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceError } from "@grpc/grpc-js";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/clock.js";
import { generateApiKey, hashApiKeySecret } from "../src/auth/api-key.js";
import type { BillingServiceClient } from "../src/gen/tenantmesh/v1/billing.js";
import type { QuotaServiceClient } from "../src/gen/tenantmesh/v1/quota.js";
import { silentLogger } from "../src/log/index.js";
import { tenantEntryFromConfig } from "../proxy/directory/static.js";
import { tenantConfig } from "../proxy/directory/testing.js";
import { ConcurrencyThrottle } from "../proxy/pipeline/throttle.js";
import { GrpcUsageSink, UsageMeter } from "../proxy/usage/index.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { billingClient, bearer, provisionTenant, quotaClient, rpc, usageWriterToken } from "./support/metering.js";
import { startProxyHarness, type ProxyHarness } from "./support/proxy-harness.js";

/**
 * Drift 0 end to end: a scripted load through a real proxy (HTTP and gRPC, over sockets), counted by the
 * proxy's usage meter, flushed to the control plane's RecordUsage, rolled up, and invoiced. The calls the proxy
 * counted, the usage recorded and the invoice's API-call line are the same number, and that number is exactly
 * the requests the proxy forwarded (whatever the backend answered); the proxy's own refusals are counted apart.
 */
let t: TestControlPlane;
let h: ProxyHarness;
let meter: UsageMeter;
let quotas: QuotaServiceClient;
let billing: BillingServiceClient;
let tenantId: string;
let token: string;
let dir: string;
// The middle of last month (UTC): a period that has ended, so it can be invoiced at once.
const now = new Date();
const clock = new ManualClock(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 15, 12));
const lastMonth = new Date(clock.now()).toISOString().slice(0, 7);

beforeAll(async () => {
  t = await startTestControlPlane();
  quotas = quotaClient(t.address);
  billing = billingClient(t.address);
  tenantId = (await provisionTenant(t, { planType: "basic" })).tenant?.id ?? "";
  dir = mkdtempSync(path.join(os.tmpdir(), "tm-usage-"));
  meter = new UsageMeter({
    sink: new GrpcUsageSink(t.address, usageWriterToken(t)),
    spoolFile: path.join(dir, "spool.jsonl"),
    registry: new Registry(),
    clock,
    logger: silentLogger,
    source: "drift-test",
    flushIntervalMs: 60_000,
  });
  h = await startProxyHarness({ extra: { hooks: [meter.hook], throttle: meter.quotas.gate(new ConcurrencyThrottle()) } });
  // The control plane's tenant, served by this proxy with a key of the proxy's own pepper.
  const key = generateApiKey();
  const mapped = tenantEntryFromConfig({
    ...tenantConfig(tenantId, { planType: "basic", enabledModules: ["classification"] }),
    apiKeys: [{ keyId: key.keyId, secretHash: hashApiKeySecret(h.pepper, key.keyId, key.secret), role: "admin", expiresAt: undefined }],
  });
  if (!mapped) throw new Error("tenant entry");
  h.directory.upsert(mapped.entry, mapped.keys);
  token = key.token;
});
afterAll(async () => {
  await h?.close();
  await meter?.close();
  quotas?.close();
  billing?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (p: string, auth = token): Promise<number> => fetch(`${h.url}${p}`, { headers: { authorization: `Bearer ${auth}` } }).then(async (r) => (await r.arrayBuffer(), r.status));
const echo = (): Promise<void> =>
  new Promise((resolve, reject) => {
    h.echoClient().unary({ message: "hi", payload: Buffer.alloc(0), delayMs: 0, failCode: 0, failMessage: "" }, h.auth(token), (err: ServiceError | null) => (err ? reject(err) : resolve()));
  });
const counted = async (resource: string): Promise<number> =>
  (await meter.metrics.counted.get()).values.find((v) => v.labels.resource === resource)?.value ?? 0;

describe("usage counted by a real proxy", () => {
  it("has drift 0 between the proxy's count, the recorded usage and the invoice's API-call line", async () => {
    const statuses: number[] = [];
    // 120 plain calls, 15 answered 500 and 10 answered 404 by the backend: all forwarded, all billable.
    for (let i = 0; i < 120; i++) statuses.push(await get(`/v1/things/${i}`));
    for (let i = 0; i < 15; i++) statuses.push(await get("/status/500"));
    for (let i = 0; i < 10; i++) statuses.push(await get("/status/404"));
    for (let i = 0; i < 25; i++) await echo();
    // The proxy's own refusals: a module the tenant lacks (403) and a wrong key (401, no tenant): not billed.
    for (let i = 0; i < 7; i++) statuses.push(await get("/v1/risk/score"));
    for (let i = 0; i < 3; i++) statuses.push(await get("/v1/things", "tm_aaaaaaaaaaaa_" + "a".repeat(32)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(120);
    expect(statuses.filter((s) => s === 500)).toHaveLength(15);
    expect(statuses.filter((s) => s === 403)).toHaveLength(7);
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);

    const forwarded = 120 + 15 + 10 + 25;
    const backendSaw = h.http.reduce((n, b) => n + b.seen.filter((s) => s.identity.ok && s.identity.identity.tenantId === tenantId).length, 0);
    expect(backendSaw).toBe(120 + 15 + 10);
    expect(await counted("api_calls")).toBe(forwarded);
    expect(await counted("rejected_calls")).toBe(7);

    await meter.flush();
    expect(meter.spooled).toHaveLength(0);
    const usage = await rpc(quotas, quotas.getUsage, { tenantId, resourceType: "", granularity: "month", start: new Date(clock.now() - 20 * 86_400_000), end: new Date(clock.now() + 86_400_000) }, bearer(t.adminToken));
    expect(Number(usage.totals.api_calls)).toBe(forwarded);
    expect(Number(usage.totals.rejected_calls)).toBe(7);
    expect(Number(usage.totals.compute)).toBe(await counted("compute"));
    expect(Number(usage.totals.compute)).toBeGreaterThanOrEqual(forwarded);

    const invoice = await rpc(billing, billing.generateInvoice, { tenantId, period: lastMonth }, bearer(t.adminToken));
    const apiLine = invoice.lines.find((l) => l.resourceType === "api_calls" && l.kind === "usage");
    expect(Number(apiLine?.quantity)).toBe(forwarded);
    expect(Number(invoice.lines.find((l) => l.resourceType === "compute")?.quantity)).toBe(await counted("compute"));
    expect(invoice.lines.some((l) => l.resourceType === "rejected_calls")).toBe(false);
  });

  it("refuses a tenant over its monthly API-call cap with 429 naming the quota, limit and use", async () => {
    // The free plan caps API calls at its included 10,000 a month; the control plane already counted 9,999 this
    // month (its clock's month; the meter's test clock only stamps the events it sends).
    const free = (await provisionTenant(t, { planType: "free" })).tenant?.id ?? "";
    await rpc(quotas, quotas.recordUsage, { batchId: `cap-${free}`, source: "test", returnQuotas: false, events: [{ tenantId: free, resourceType: "api_calls", amount: "9999", occurredAt: new Date() }] }, bearer(t.adminToken));
    const key = generateApiKey();
    const mapped = tenantEntryFromConfig({
      ...tenantConfig(free, { planType: "free" }),
      apiKeys: [{ keyId: key.keyId, secretHash: hashApiKeySecret(h.pepper, key.keyId, key.secret), role: "admin", expiresAt: undefined }],
    });
    if (!mapped) throw new Error("tenant entry");
    h.directory.upsert(mapped.entry, mapped.keys);
    await get("/v1/first", key.token); // the first request is admitted while the proxy asks CheckQuota
    await new Promise((r) => setTimeout(r, 300));
    const res = await fetch(`${h.url}/v1/more`, { headers: { authorization: `Bearer ${key.token}` } });
    expect(res.status).toBe(429);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("TM_ERR_QUOTA_EXCEEDED");
    expect(body.error.message).toMatch(/monthly_api_calls exhausted: limit 10000, used 10000/);
    expect(await counted("throttled_calls")).toBeGreaterThanOrEqual(1);
  });
});
