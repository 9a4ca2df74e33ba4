import { request } from "node:http";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assessRisk } from "../src/kyb/index.js";
import { insertKybTenant, signedHeaders, startTestKyb, type TestKyb } from "../src/kyb/testing.js";
import { openTestDatabase, type TestDatabase } from "./support/db.js";

/**
 * The KYB HTTP API over real sockets, on PGlite or (DATABASE_URL) PostgreSQL: every request carries the
 * identity a proxy would forward, signed with the backend's secret, except where the test is that it does not.
 */

let testDb: TestDatabase;
let kyb: TestKyb;
let tenantA: string;
let tenantB: string;

interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON under test
  headers: Headers;
}

async function api(method: string, path: string, options: { tenant?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.tenant ? signedHeaders(kyb.secret, options.tenant) : {}), ...options.headers };
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] = "application/json";
  }
  const res = await fetch(`${kyb.baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const create = (tenant: string, body: Record<string, unknown>): Promise<Answer> => api("POST", "/v1/businesses", { tenant, body });

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

describe("KYB HTTP: businesses", () => {
  it("creates a business and reads it back by id", async () => {
    const details = { description: "Online payment processing", incorporation_date: "2019-04-01", website: "https://acme.example" };
    const created = await create(tenantA, { name: " Acme Payments ", registration_number: "HRB 1234", country: "de", details });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      tenant_id: tenantA,
      name: "Acme Payments",
      registration_number: "HRB 1234",
      country: "DE",
      industry_code: null,
      status: "pending",
      risk_score: null,
      details,
    });
    expect(created.headers.get("location")).toBe(`/v1/businesses/${created.body.id}`);
    expect(Date.parse(created.body.created_at)).not.toBeNaN();

    const read = await api("GET", `/v1/businesses/${created.body.id}`, { tenant: tenantA });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  });

  it("lists oldest first, page by page, without repeats or gaps", async () => {
    const tenant = await insertKybTenant(testDb.db);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(tenant, { name: `Business ${i}`, country: "FR" })).body.id);

    const seen: string[] = [];
    let token = "";
    const pageSizes: number[] = [];
    do {
      const page = await api("GET", `/v1/businesses?page_size=2${token ? `&page_token=${token}` : ""}`, { tenant });
      expect(page.status).toBe(200);
      pageSizes.push(page.body.businesses.length);
      seen.push(...page.body.businesses.map((b: { id: string }) => b.id));
      token = page.body.next_page_token;
    } while (token !== "");
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(ids);

    const all = await api("GET", "/v1/businesses", { tenant });
    expect(all.body.businesses.map((b: { id: string }) => b.id)).toEqual(ids);
    expect(all.body.next_page_token).toBe("");
  });

  it("classifies a business and stores its industry code", async () => {
    const { body: b } = await create(tenantA, { name: "Northwind Crypto Exchange", country: "GB", details: { description: "bitcoin and ethereum trading" } });
    const res = await api("POST", `/v1/businesses/${b.id}/classify`, { tenant: tenantA });
    expect(res.status).toBe(200);
    expect(res.body.classification).toMatchObject({ industry_code: "5239", matched_rule: "virtual-assets" });
    expect(res.body.classification.matched_terms).toEqual(expect.arrayContaining(["crypto exchange"]));
    expect(res.body.business.industry_code).toBe("5239");
    expect((await api("GET", `/v1/businesses/${b.id}`, { tenant: tenantA })).body.industry_code).toBe("5239");
  });

  it("assesses risk with the factors that made the score, and stores the score", async () => {
    const details = {
      incorporation_date: "2015-06-30",
      ownership: { beneficial_owners: [{ name: "A. Owner", ownership_pct: 60, country: "IR" }, { name: "B. Owner", ownership_pct: 40 }], nominee_shareholders: true },
    };
    const { body: b } = await create(tenantA, { name: "Harbor Trading", country: "PA", details });
    const res = await api("POST", `/v1/businesses/${b.id}/risk-assessment`, { tenant: tenantA });
    expect(res.status).toBe(200);
    const expected = assessRisk({ country: "PA", industry_code: null, incorporation_date: details.incorporation_date, ownership: details.ownership, now: new Date() });
    expect(expected.ok).toBe(true);
    if (!expected.ok) return;
    expect(res.body.assessment).toEqual(expected.value);
    expect(res.body.assessment.factors.map((f: { factor: string }) => f.factor)).toEqual(
      expect.arrayContaining(["country_secrecy_jurisdiction", "industry_unclassified", "nominee_shareholders", "owner_in_call_for_action_country"]),
    );
    expect(res.body.business.risk_score).toBe(expected.value.score);
    expect((await api("GET", `/v1/businesses/${b.id}`, { tenant: tenantA })).body.risk_score).toBe(expected.value.score);
  });

  it("refuses modules the tenant has not enabled with 403 TM_ERR_MODULE_DISABLED", async () => {
    const classifyOnly = await insertKybTenant(testDb.db, { modules: ["classification"] });
    const { body: b } = await create(classifyOnly, { name: "Corner Bakery", country: "IT" });
    const risk = await api("POST", `/v1/businesses/${b.id}/risk-assessment`, { tenant: classifyOnly });
    expect(risk.status).toBe(403);
    expect(risk.body.error.code).toBe("TM_ERR_MODULE_DISABLED");
    expect(risk.body.error.message).toContain("risk_assessment");
    expect((await api("POST", `/v1/businesses/${b.id}/classify`, { tenant: classifyOnly })).status).toBe(200);

    const none = await insertKybTenant(testDb.db, { modules: [] });
    const { body: c } = await create(none, { name: "Corner Bakery", country: "IT" });
    const classify = await api("POST", `/v1/businesses/${c.id}/classify`, { tenant: none });
    expect([classify.status, classify.body.error.code]).toEqual([403, "TM_ERR_MODULE_DISABLED"]);
  });

  it("refuses writes of a tenant that is not active", async () => {
    const suspended = await insertKybTenant(testDb.db, { status: "suspended" });
    const res = await create(suspended, { name: "Late Corp", country: "US" });
    expect([res.status, res.body.error.code]).toEqual([403, "TM_ERR_TENANT_INACTIVE"]);
  });
});

describe("KYB HTTP: max_businesses", () => {
  it("parallel creates never exceed the limit; the rest get 429 naming the quota", async () => {
    const tenant = await insertKybTenant(testDb.db, { maxBusinesses: 3 });
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => create(tenant, { name: `Racer ${i}`, country: "NL" })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    const refused = answers.find((a) => a.status === 429);
    expect(refused?.body.error.code).toBe("TM_ERR_QUOTA_EXCEEDED");
    expect(refused?.body.error.message).toMatch(/max_businesses.*limit 3.*used 3/);

    const stored = await testDb.db.asPlatform((trx) => trx("businesses").where({ tenant_id: tenant }).count({ n: "*" }).first());
    expect(Number(stored?.n)).toBe(3);
  });
});

describe("KYB HTTP: tenant isolation and identity", () => {
  let businessOfB: string;
  beforeAll(async () => {
    businessOfB = (await create(tenantB, { name: "Globex Secret Holdings", country: "CH" })).body.id;
  });

  it("tenant A's valid identity cannot see B's business: 404, never 403", async () => {
    for (const [method, path] of [
      ["GET", `/v1/businesses/${businessOfB}`],
      ["POST", `/v1/businesses/${businessOfB}/classify`],
      ["POST", `/v1/businesses/${businessOfB}/risk-assessment`],
    ] as const) {
      const res = await api(method, path, { tenant: tenantA });
      expect([path, res.status, res.body.error.code]).toEqual([path, 404, "TM_ERR_NOT_FOUND"]);
    }
    const listed = await api("GET", "/v1/businesses?page_size=200", { tenant: tenantA });
    expect(listed.body.businesses.length).toBeGreaterThan(0);
    expect(listed.body.businesses.every((b: { tenant_id: string }) => b.tenant_id === tenantA)).toBe(true);
    expect(listed.body.businesses.map((b: { id: string }) => b.id)).not.toContain(businessOfB);
    // B's business is untouched by A's attempts.
    expect((await api("GET", `/v1/businesses/${businessOfB}`, { tenant: tenantB })).body).toMatchObject({ industry_code: null, risk_score: null });
  });

  it("a request straight to the backend with a forged x-tenant-id is 401", async () => {
    const unsigned = await api("GET", `/v1/businesses/${businessOfB}`, { headers: { "x-tenant-id": tenantB } });
    const swapped = await api("GET", `/v1/businesses/${businessOfB}`, { headers: { ...signedHeaders(kyb.secret, tenantA), "x-tenant-id": tenantB } });
    const otherSecret = await api("GET", "/v1/businesses", { headers: signedHeaders(randomBytes(32), tenantB) });
    const stale = await api("GET", "/v1/businesses", { headers: signedHeaders(kyb.secret, tenantB, { atMs: Date.now() - 120_000 }) });
    const anonymousCreate = await api("POST", "/v1/businesses", { body: { name: "X", country: "DE" } });
    const unknownRoute = await api("GET", "/v1/anything");
    for (const res of [unsigned, swapped, otherSecret, stale, anonymousCreate, unknownRoute]) {
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({ code: "TM_ERR_UNAUTHENTICATED", message: "tenant identity must come from the proxy" });
    }
  });
});

describe("KYB HTTP: bad input", () => {
  it("answers 400 with every violation", async () => {
    const res = await create(tenantA, {
      name: "",
      country: "Germany",
      details: { incorporation_date: "2020-13-01", ownership: { beneficial_owners: [{ name: "X", ownership_pct: 150 }], layers: 2 } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("TM_ERR_INVALID_ARGUMENT");
    const fields = res.body.error.violations.map((v: { field: string }) => v.field);
    expect(fields).toEqual(
      expect.arrayContaining(["name", "country", "details.incorporation_date", "details.ownership.beneficial_owners[0].ownership_pct", "details.ownership"]),
    );
  });

  it("checks the details as the risk engine will: no future incorporation, owners not above 100 %", async () => {
    const future = await create(tenantA, { name: "Tomorrow Ltd", country: "DE", details: { incorporation_date: "2999-01-01" } });
    expect(future.body.error.violations).toEqual([{ field: "details.incorporation_date", description: "is in the future" }]);
    const owners = [{ name: "A", ownership_pct: 70 }, { name: "B", ownership_pct: 40 }];
    const tooMuch = await create(tenantA, { name: "Overowned Ltd", country: "DE", details: { ownership: { beneficial_owners: owners } } });
    expect(tooMuch.body.error.violations[0].field).toBe("details.ownership.beneficial_owners");
  });

  it("refuses unknown fields, server-computed fields and a non-object body", async () => {
    const extra = await create(tenantA, { name: "Sneaky", country: "DE", risk_score: 0 });
    expect(extra.status).toBe(400);
    expect(extra.body.error.violations[0].description).toMatch(/risk_score/);
    expect((await create(tenantA, [] as unknown as Record<string, unknown>)).status).toBe(400);
  });

  it("answers 400 for malformed JSON, an empty body, a malformed id, page size or page token", async () => {
    const badJson = await api("POST", "/v1/businesses", { tenant: tenantA, raw: "{not json", headers: { "content-type": "application/json" } });
    expect([badJson.status, badJson.body.error.violations]).toEqual([400, [{ field: "(body)", description: "is not valid JSON" }]]);
    expect((await api("POST", "/v1/businesses", { tenant: tenantA })).status).toBe(400);
    const badId = await api("GET", "/v1/businesses/not-a-uuid", { tenant: tenantA });
    expect([badId.status, badId.body.error.violations[0].field]).toEqual([400, "id"]);
    const badEscape = await api("GET", "/v1/businesses/%E0%A4%A", { tenant: tenantA });
    expect(badEscape.status).toBe(400);
    const badSize = await api("GET", "/v1/businesses?page_size=500", { tenant: tenantA });
    expect([badSize.status, badSize.body.error.violations[0].field]).toEqual([400, "page_size"]);
    const badToken = await api("GET", "/v1/businesses?page_token=bm9wZQ", { tenant: tenantA });
    expect([badToken.status, badToken.body.error.violations[0].field]).toEqual([400, "page_token"]);
  });

  it("answers 413 for a body above 1 MiB, declared or streamed", async () => {
    const big = JSON.stringify({ name: "Big", country: "DE", details: { description: "x".repeat(1024 * 1024) } });
    const declared = await api("POST", "/v1/businesses", { tenant: tenantA, raw: big, headers: { "content-type": "application/json" } });
    expect([declared.status, declared.body.error.code]).toEqual([413, "TM_ERR_INVALID_ARGUMENT"]);

    // Chunked: no content-length, so the limit is enforced while reading.
    const streamed = await new Promise<number>((resolve, reject) => {
      const req = request(`${kyb.baseUrl}/v1/businesses`, { method: "POST", headers: signedHeaders(kyb.secret, tenantA) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 20; i++) req.write("x".repeat(64 * 1024));
      req.end();
    });
    expect(streamed).toBe(413);
  });

  it("answers 404 for an unknown route with a valid identity", async () => {
    const res = await api("DELETE", "/v1/businesses", { tenant: tenantA });
    expect([res.status, res.body.error.code]).toEqual([404, "TM_ERR_NOT_FOUND"]);
  });
});

describe("KYB HTTP: health", () => {
  it("GET /health needs no identity and reports capacity", async () => {
    const res = await api("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "ok", capacity: 8, in_flight: 0, queued: 0 });
  });
});
