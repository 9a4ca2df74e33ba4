import { readFileSync } from "node:fs";
import { status } from "@grpc/grpc-js";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { errorCatalogue, errorCodes, TenantMeshError, toTenantMeshError, withoutStack, type ErrorCode } from "./index.js";

interface DocRow {
  code: string;
  grpc: string;
  http: string;
  meaning: string;
  guidance: string;
}

/** The rows of the error table in docs/errors.md: `| \`CODE\` | gRPC | HTTP | meaning | guidance |` */
function documentedErrors(): DocRow[] {
  const markdown = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  return markdown
    .split("\n")
    .filter((line) => /^\|\s*`?TM_ERR_/.test(line))
    .map((line) => {
      const cells = line.split("|").slice(1, -1).map((c) => c.trim());
      const [code = "", grpc = "", http = "", meaning = "", guidance = ""] = cells;
      return { code: code.replaceAll("`", ""), grpc, http, meaning, guidance };
    });
}

const rows = documentedErrors();
const documented = rows.map((r) => r.code);

describe("docs/errors.md", () => {
  it("has an error table", () => {
    expect(rows.length).toBeGreaterThan(0);
  });

  it("documents every code of the catalogue", () => {
    const missing = errorCodes.filter((code) => !documented.includes(code));
    expect(missing, `codes missing from docs/errors.md: ${missing.join(", ")}`).toEqual([]);
  });

  it("documents no code that does not exist", () => {
    const unknown = documented.filter((code) => !(code in errorCatalogue));
    expect(unknown, `docs/errors.md lists codes that are not in the catalogue: ${unknown.join(", ")}`).toEqual([]);
  });

  it("documents each code once", () => {
    expect(documented.filter((code, i) => documented.indexOf(code) !== i)).toEqual([]);
  });

  it.each(rows.filter((r) => r.code in errorCatalogue).map((r) => [r.code, r] as const))(
    "%s: statuses agree with the catalogue and it is explained",
    (_code, row) => {
      const entry = errorCatalogue[row.code as ErrorCode];
      expect(row.grpc).toBe(status[entry.grpc]);
      expect(Number(row.http)).toBe(entry.http);
      expect(row.meaning.length).toBeGreaterThan(0);
      expect(row.guidance.length, "say when it happens and what the client should do").toBeGreaterThan(20);
    },
  );
});

describe("error catalogue", () => {
  it.each(errorCodes)("%s is a TM_ERR_ code with an error HTTP status and a non-OK gRPC status", (code) => {
    const entry = errorCatalogue[code];
    expect(code).toMatch(/^TM_ERR_[A-Z_]+$/);
    expect(entry.http).toBeGreaterThanOrEqual(400);
    expect(entry.http).toBeLessThan(600);
    expect(entry.grpc).not.toBe(status.OK);
    expect(entry.title.length).toBeGreaterThan(0);
  });
});

const withCode = (code: string, message = `error ${code}`): Error => Object.assign(new Error(message), { code });

describe("toTenantMeshError", () => {
  it("passes a TenantMeshError through untouched", () => {
    const err = new TenantMeshError("TM_ERR_NOT_FOUND", "tenant not found");
    expect(toTenantMeshError(err)).toBe(err);
  });

  it("maps a unique violation (23505) to ALREADY_EXISTS", () => {
    const cause = withCode("23505", 'duplicate key value violates unique constraint "tenants_slug_key"');
    const err = toTenantMeshError(cause);
    expect(err.code).toBe("TM_ERR_ALREADY_EXISTS");
    expect(err.grpcStatus).toBe(status.ALREADY_EXISTS);
    expect(err.httpStatus).toBe(409);
    expect(err.message).not.toContain("tenants_slug_key");
    expect(err.cause).toBe(cause);
  });

  it("maps a row-level security refusal (42501) to PERMISSION_DENIED", () => {
    expect(toTenantMeshError(withCode("42501")).code).toBe("TM_ERR_PERMISSION_DENIED");
  });

  it.each(["23514", "22P02", "23502"])("maps constraint/format violation %s to INVALID_ARGUMENT", (sqlState) => {
    expect(toTenantMeshError(withCode(sqlState)).code).toBe("TM_ERR_INVALID_ARGUMENT");
  });

  it("maps ECONNREFUSED to DATABASE_UNAVAILABLE, UNAVAILABLE on gRPC and 503 on HTTP", () => {
    const err = toTenantMeshError(withCode("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432"));
    expect(err.code).toBe("TM_ERR_DATABASE_UNAVAILABLE");
    expect(err.grpcStatus).toBe(status.UNAVAILABLE);
    expect(err.httpStatus).toBe(503);
  });

  it.each([
    ["an AggregateError of refused addresses (localhost on IPv4 and IPv6)", new AggregateError([withCode("ECONNREFUSED"), withCode("ECONNREFUSED")], "")],
    ["a server shutting down (57P01)", withCode("57P01")],
    ["a knex pool timeout", new Error("Knex: Timeout acquiring a connection. The pool is probably full.")],
    ["a dropped connection", new Error("Connection terminated unexpectedly")],
  ])("maps %s to DATABASE_UNAVAILABLE", (_name, cause) => {
    expect(toTenantMeshError(cause).code).toBe("TM_ERR_DATABASE_UNAVAILABLE");
  });

  it("maps a real refused connection to DATABASE_UNAVAILABLE", async () => {
    const client = new pg.Client({ connectionString: "postgres://nobody@127.0.0.1:1/none", connectionTimeoutMillis: 2_000 });
    const cause = await client.connect().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(cause).toBeDefined();
    expect(toTenantMeshError(cause).code).toBe("TM_ERR_DATABASE_UNAVAILABLE");
  });

  it.each([
    ["an Error", new Error("password authentication failed for user admin: hunter2")],
    ["an unknown SQLSTATE", withCode("XX000", "internal: hunter2")],
    ["a string", "hunter2"],
    ["undefined", undefined],
  ])("maps %s to INTERNAL without leaking its message", (_name, cause) => {
    const err = toTenantMeshError(cause);
    expect(err.code).toBe("TM_ERR_INTERNAL");
    expect(err.grpcStatus).toBe(status.INTERNAL);
    expect(err.httpStatus).toBe(500);
    expect(err.message).toBe("internal error");
    expect(JSON.stringify(err)).not.toContain("hunter2");
    // The original stays reachable for the server's log.
    expect(err.cause).toBe(cause);
  });
});

describe("TenantMeshError", () => {
  it("serialises to { error: { code, message } } without violations when there are none", () => {
    const err = new TenantMeshError("TM_ERR_NOT_FOUND", "tenant not found", { cause: new Error("secret detail") });
    expect(err.toJSON()).toEqual({ error: { code: "TM_ERR_NOT_FOUND", message: "tenant not found" } });
    expect(Object.keys(err.toJSON().error)).toEqual(["code", "message"]);
    const wire = JSON.stringify(err);
    expect(JSON.parse(wire)).toEqual({ error: { code: "TM_ERR_NOT_FOUND", message: "tenant not found" } });
    expect(wire).not.toMatch(/secret detail|stack|cause/);
  });

  it("includes violations when there are some, as a copy", () => {
    const violations = [{ field: "slug", description: "must match ^[a-z0-9-]+$" }];
    const err = new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "invalid request", { violations });
    const json = err.toJSON();
    expect(json).toEqual({ error: { code: "TM_ERR_INVALID_ARGUMENT", message: "invalid request", violations } });
    json.error.violations?.push({ field: "x", description: "y" });
    expect(err.violations).toHaveLength(1);
  });

  it("is an Error with its name, code, statuses and retry hint", () => {
    const err = new TenantMeshError("TM_ERR_RATE_LIMITED", "slow down", { retryAfterSeconds: 2 });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("TenantMeshError");
    expect(err.code).toBe("TM_ERR_RATE_LIMITED");
    expect(err.grpcStatus).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.httpStatus).toBe(429);
    expect(err.retryAfterSeconds).toBe(2);
    expect(err.violations).toEqual([]);
  });
});

describe("withoutStack", () => {
  it("builds a refusal with its code and message but no stack frames, and restores the stack trace limit", () => {
    const before = Error.stackTraceLimit;
    const refusal = withoutStack(() => new TenantMeshError("TM_ERR_RATE_LIMITED", "over the limit", { retryAfterSeconds: 2 }));
    expect(refusal).toBeInstanceOf(TenantMeshError);
    expect(refusal.code).toBe("TM_ERR_RATE_LIMITED");
    expect(refusal.retryAfterSeconds).toBe(2);
    expect(refusal.stack ?? "").not.toMatch(/\n\s+at /);
    expect(Error.stackTraceLimit).toBe(before);
    // Errors made afterwards, and a maker that throws, leave stacks as they were
    expect(() =>
      withoutStack(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(Error.stackTraceLimit).toBe(before);
    expect(new TenantMeshError("TM_ERR_INTERNAL", "fault").stack).toMatch(/\n\s+at /);
  });
});
