import { randomBytes } from "node:crypto";
import { credentials, loadPackageDefinition, Metadata, status, type Client, type ServiceError } from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Business, CreateBusinessRequest } from "../src/gen/tenantmesh/kyb/v1/business.js";
import type { EchoResponse } from "../src/gen/tenantmesh/kyb/v1/echo.js";
import { grpcFailure, insertKybTenant, signedMetadata, startTestKyb, unaryCall, type TestKyb } from "../src/kyb/testing.js";
import { openTestDatabase, type TestDatabase } from "./support/db.js";
import { healthClient } from "./support/health.js";

/**
 * tenantmesh.kyb.v1.BusinessService and the diagnostics EchoService over a direct grpc-js client, on PGlite or
 * (DATABASE_URL) PostgreSQL. Metadata carries the identity a proxy would forward, signed with the backend's secret.
 */

let testDb: TestDatabase;
let kyb: TestKyb;
let tenantA: string;
let tenantB: string;

const md = (tenant: string): Metadata => signedMetadata(kyb.secret, tenant);
const create = (tenant: string, req: Partial<CreateBusinessRequest>, meta = md(tenant)): Promise<Business> =>
  kyb.rpc.createBusiness({ name: "", registrationNumber: "", country: "", details: undefined, ...req }, meta);
const get = (tenant: string, id: string, meta = md(tenant)): Promise<Business> => kyb.rpc.getBusiness({ id }, meta);

beforeAll(async () => {
  testDb = await openTestDatabase();
  kyb = await startTestKyb(testDb.db);
  tenantA = await insertKybTenant(testDb.db);
  tenantB = await insertKybTenant(testDb.db);
});

afterAll(async () => {
  await kyb?.close();
  await testDb?.close();
});

describe("KYB gRPC: BusinessService", () => {
  it("creates and gets a business; details travel as a Struct, unset optionals stay absent", async () => {
    const details = { description: "Family bakery", ownership: { beneficial_owners: [{ name: "Ana", ownership_pct: 100 }] } };
    const created = await create(tenantA, { name: "Ana's Bakery", country: "PT", details });
    expect(created).toMatchObject({ tenantId: tenantA, name: "Ana's Bakery", country: "PT", status: "pending", details });
    expect(created.registrationNumber).toBeUndefined();
    expect(created.industryCode).toBeUndefined();
    expect(created.riskScore).toBeUndefined();
    expect(created.createdAt).toBeInstanceOf(Date);
    expect(await get(tenantA, created.id)).toEqual(created);
  });

  it("lists with page_size and page_token", async () => {
    const tenant = await insertKybTenant(testDb.db);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await create(tenant, { name: `G ${i}`, country: "SE" })).id);
    const list = (pageToken: string) => kyb.rpc.listBusinesses({ pageSize: 2, pageToken }, md(tenant));
    const first = await list("");
    const second = await list(first.nextPageToken);
    expect(first.businesses.map((b) => b.id)).toEqual(ids.slice(0, 2));
    expect(second.businesses.map((b) => b.id)).toEqual(ids.slice(2));
    expect(second.nextPageToken).toBe("");
  });

  it("classifies and assesses risk, storing the results", async () => {
    const b = await create(tenantA, { name: "Lucky Star Casino", country: "MT", details: { incorporation_date: "2025-12-01" } });
    const classified = await kyb.rpc.classifyBusiness({ id: b.id }, md(tenantA));
    expect(classified.classification).toMatchObject({ industryCode: "7132", matchedRule: "gambling", matchedTerms: ["casino"] });
    expect(classified.business?.industryCode).toBe("7132");

    const assessed = await kyb.rpc.assessRisk({ id: b.id }, md(tenantA));
    const factors = assessed.assessment?.factors.map((f) => f.factor) ?? [];
    expect(factors).toEqual(expect.arrayContaining(["industry_risk", "beneficial_owners_missing"]));
    expect(assessed.assessment?.score).toBe(assessed.assessment?.factors.reduce((s, f) => s + f.points, 0));
    expect(assessed.business?.riskScore).toBe(assessed.assessment?.score);
    expect((await get(tenantA, b.id)).riskScore).toBe(assessed.assessment?.score);
  });

  it("gates modules: PERMISSION_DENIED with TM_ERR_MODULE_DISABLED", async () => {
    const tenant = await insertKybTenant(testDb.db, { modules: ["classification"] });
    const b = await create(tenant, { name: "Plain Shop", country: "AT" });
    const failure = await grpcFailure(kyb.rpc.assessRisk({ id: b.id }, md(tenant)));
    expect(failure).toMatchObject({ code: status.PERMISSION_DENIED, tmCode: "TM_ERR_MODULE_DISABLED" });
  });

  it("enforces max_businesses as RESOURCE_EXHAUSTED, also under parallel creates", async () => {
    const tenant = await insertKybTenant(testDb.db, { maxBusinesses: 2 });
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => create(tenant, { name: `P ${i}`, country: "BE" })));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    const failure = await grpcFailure(create(tenant, { name: "One more", country: "BE" }));
    expect(failure).toMatchObject({ code: status.RESOURCE_EXHAUSTED, tmCode: "TM_ERR_QUOTA_EXCEEDED" });
    expect(failure.details).toMatch(/max_businesses.*limit 2.*used 2/);
  });

  it("another tenant's business is NOT_FOUND and never listed", async () => {
    const ofB = await create(tenantB, { name: "Globex", country: "US" });
    expect(await grpcFailure(get(tenantA, ofB.id))).toMatchObject({ code: status.NOT_FOUND, tmCode: "TM_ERR_NOT_FOUND" });
    const failure = await grpcFailure(kyb.rpc.classifyBusiness({ id: ofB.id }, md(tenantA)));
    expect(failure.code).toBe(status.NOT_FOUND);
    const page = await kyb.rpc.listBusinesses({ pageSize: 200, pageToken: "" }, md(tenantA));
    expect(page.businesses.map((b) => b.id)).not.toContain(ofB.id);
    expect(page.businesses.every((b) => b.tenantId === tenantA)).toBe(true);
  });

  it("refuses calls without the proxy's signed identity: UNAUTHENTICATED", async () => {
    const ofB = await create(tenantB, { name: "Initech", country: "US" });
    const forged = new Metadata();
    forged.set("x-tenant-id", tenantB);
    const swapped = md(tenantA);
    swapped.set("x-tenant-id", tenantB);
    for (const meta of [new Metadata(), forged, swapped, signedMetadata(randomBytes(32), tenantB)]) {
      const failure = await grpcFailure(get(tenantB, ofB.id, meta));
      expect(failure).toEqual({ code: status.UNAUTHENTICATED, tmCode: "TM_ERR_UNAUTHENTICATED", details: "tenant identity must come from the proxy" });
    }
  });

  it("answers INVALID_ARGUMENT with violations in the trailers", async () => {
    const err = (await create(tenantA, { name: " ", country: "X1", details: { ownership: { beneficial_owners: [{ name: "", ownership_pct: -1 }] } } }).catch(
      (e: unknown) => e,
    )) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    const violations = JSON.parse(String(err.metadata.get("tm-violations")[0])) as Array<{ field: string }>;
    expect(violations.map((v) => v.field)).toEqual(
      expect.arrayContaining(["name", "country", "details.ownership.beneficial_owners[0].name", "details.ownership.beneficial_owners[0].ownership_pct"]),
    );
    const badId = await grpcFailure(get(tenantA, "nope"));
    expect(badId.code).toBe(status.INVALID_ARGUMENT);
    const badSize = await grpcFailure(kyb.rpc.listBusinesses({ pageSize: 201, pageToken: "" }, md(tenantA)));
    expect(badSize.code).toBe(status.INVALID_ARGUMENT);
  });

  it("serves grpc.health.v1 and reflection without an identity", async () => {
    const health = healthClient(kyb.grpcAddress);
    try {
      expect(await health.status("")).toBe("SERVING");
      expect(await health.status("tenantmesh.kyb.v1.BusinessService")).toBe("SERVING");
      expect(await health.status("tenantmesh.kyb.v1.EchoService")).toBe("SERVING");
    } finally {
      health.close();
    }
    expect(await listServices(kyb.grpcAddress)).toEqual(
      expect.arrayContaining(["tenantmesh.kyb.v1.BusinessService", "tenantmesh.kyb.v1.EchoService", "grpc.health.v1.Health"]),
    );
  });
});

describe("KYB gRPC: EchoService call shapes", () => {
  const echoRequest = (message: string, over: Record<string, unknown> = {}) => ({ message, payload: Buffer.alloc(0), delayMs: 0, failCode: 0, failMessage: "", ...over });

  it("unary echoes the message, the verified identity and x-echo-* metadata as headers and trailers", async () => {
    const meta = md(tenantA);
    meta.set("x-echo-trace", "abc");
    let headers: Metadata | undefined;
    let trailers: Metadata | undefined;
    const res = await new Promise<EchoResponse>((resolve, reject) => {
      const call = kyb.echo.unary(echoRequest("hi", { payload: Buffer.from([1, 2, 3]) }), meta, (err, r) => (err ? reject(err) : resolve(r)));
      call.on("metadata", (m) => (headers = m));
      call.on("status", (s) => (trailers = s.metadata));
    });
    expect(res).toMatchObject({ message: "hi", sequence: 0, tenantId: tenantA, principal: "api_key:test" });
    expect([...res.payload]).toEqual([1, 2, 3]);
    expect(headers?.get("x-echo-trace")).toEqual(["abc"]);
    await new Promise((r) => setImmediate(r));
    expect(trailers?.get("x-echo-trace")).toEqual(["abc"]);

    const failed = await grpcFailure(unaryCall(kyb.echo.unary, kyb.echo, echoRequest("x", { failCode: status.ABORTED, failMessage: "as asked" }), md(tenantA)));
    expect(failed).toMatchObject({ code: status.ABORTED, details: "as asked" });
  });

  it("server streaming sends n messages in order", async () => {
    const call = kyb.echo.serverStream({ message: "s", count: 5, intervalMs: 1, failCode: 0, failMessage: "" }, md(tenantA));
    const got: EchoResponse[] = [];
    for await (const msg of call) got.push(msg as EchoResponse);
    expect(got.map((m) => m.sequence)).toEqual([0, 1, 2, 3, 4]);
    expect(got.every((m) => m.tenantId === tenantA)).toBe(true);
  });

  it("client streaming sums the values", async () => {
    const res = await new Promise<{ sum: string; count: number; tenantId: string }>((resolve, reject) => {
      const call = kyb.echo.clientStream(md(tenantA), (err, r) => (err ? reject(err) : resolve(r)));
      for (const value of ["1", "2", "3", "9007199254740993"]) call.write({ value });
      call.end();
    });
    expect(res).toEqual({ sum: "9007199254740999", count: 4, tenantId: tenantA });
  });

  it("bidi streaming echoes each message in order", async () => {
    const call = kyb.echo.bidiStream(md(tenantA));
    const got: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (m: EchoResponse) => got.push(`${m.sequence}:${m.message}`));
      call.on("end", resolve);
      call.on("error", reject);
    });
    call.write(echoRequest("a", { delayMs: 20 }));
    call.write(echoRequest("b"));
    call.write(echoRequest("c"));
    call.end();
    await done;
    expect(got).toEqual(["0:a", "1:b", "2:c"]);
  });

  it("every shape refuses a call without identity", async () => {
    expect((await grpcFailure(unaryCall(kyb.echo.unary, kyb.echo, echoRequest("x"), new Metadata()))).code).toBe(status.UNAUTHENTICATED);
    const server = kyb.echo.serverStream({ message: "s", count: 1, intervalMs: 0, failCode: 0, failMessage: "" }, new Metadata());
    expect((await grpcFailure((async () => { for await (const _ of server) void _; })())).code).toBe(status.UNAUTHENTICATED);
    const client = await grpcFailure(
      new Promise((resolve, reject) => {
        const call = kyb.echo.clientStream(new Metadata(), (err, r) => (err ? reject(err) : resolve(r)));
        call.write({ value: "1" });
        call.end();
      }),
    );
    expect(client.code).toBe(status.UNAUTHENTICATED);
    const bidi = kyb.echo.bidiStream(new Metadata());
    const bidiFailure = await grpcFailure(
      new Promise((resolve, reject) => {
        bidi.on("data", () => {});
        bidi.on("error", reject);
        bidi.on("end", resolve);
        bidi.write(echoRequest("x"));
        bidi.end();
      }),
    );
    expect(bidiFailure.code).toBe(status.UNAUTHENTICATED);
  });

  it("a client's cancel reaches the backend", async () => {
    const before = kyb.handle.stats().echo.cancelled;
    const call = kyb.echo.serverStream({ message: "slow", count: 100, intervalMs: 50, failCode: 0, failMessage: "" }, md(tenantA));
    call.on("error", () => {});
    await new Promise<void>((resolve) => call.once("data", () => resolve()));
    expect(kyb.handle.stats().echo.inFlight).toBe(1);
    call.cancel();
    await expect.poll(() => kyb.handle.stats().echo, { timeout: 2_000 }).toEqual({ inFlight: 0, cancelled: before + 1 });
  });
});

type ReflectionClient = Client & { ServerReflectionInfo(): NodeJS.ReadWriteStream & { write(req: object): boolean } };

/** Lists services through the v1alpha reflection API, as grpcurl does */
async function listServices(address: string): Promise<string[]> {
  const reflectionProto = new URL("../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto", import.meta.url).pathname;
  const pkg = loadPackageDefinition(protoLoader.loadSync(reflectionProto, { keepCase: true })) as unknown as {
    grpc: { reflection: { v1alpha: { ServerReflection: new (a: string, c: ReturnType<typeof credentials.createInsecure>) => ReflectionClient } } };
  };
  const client = new pkg.grpc.reflection.v1alpha.ServerReflection(address, credentials.createInsecure());
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.on("data", (res: { list_services_response?: { service: Array<{ name: string }> } }) => {
        resolve((res.list_services_response?.service ?? []).map((s) => s.name));
        stream.end();
      });
      stream.on("error", (err: ServiceError) => reject(err));
      stream.write({ list_services: "*" });
    });
  } finally {
    client.close();
  }
}
