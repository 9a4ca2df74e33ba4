import { Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../src/auth/clock.js";
import { UserServiceService, type VerifySessionRequest, type VerifySessionResponse } from "../src/gen/tenantmesh/v1/user.js";
import { pino } from "pino";
import { StaticDirectory, tenantEntryFromConfig } from "./directory/static.js";
import { tenantConfig } from "./directory/testing.js";
import { GrpcSessionVerifier, type GrpcSessionVerifierOptions } from "./session-verifier.js";

const SERVICE_TOKEN = "tmsvc_proxy.mac";
const GOOD = "tms_good.mac";
const BAD = "tms_bad.mac";

/** A real grpc-js server implementing only UserService.VerifySession, counting calls */
class FakeUserService {
  calls = 0;
  delayMs = 0;
  authorization: string | undefined;
  private server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    const server = new Server();
    server.addService(UserServiceService, {
      verifySession: (call: ServerUnaryCall<VerifySessionRequest, VerifySessionResponse>, done: sendUnaryData<VerifySessionResponse>) => {
        this.calls++;
        this.authorization = call.metadata.get("authorization")[0]?.toString();
        setTimeout(() => {
          if (call.request.sessionToken !== GOOD) return done({ code: status.UNAUTHENTICATED, details: "invalid session" });
          done(null, { tenantId: "t1", userId: "u1", role: "admin", sessionId: "s1", expiresAt: new Date(Date.now() + 3_600_000) });
        }, this.delayMs);
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    this.server = server;
  }

  stop(): void {
    this.server?.forceShutdown();
  }
}

let fake: FakeUserService;
let verifier: GrpcSessionVerifier;
let clock: ManualClock;
const logged: Array<{ level: number; msg: string }> = [];

function makeVerifier(options: Partial<GrpcSessionVerifierOptions> = {}): GrpcSessionVerifier {
  const logger = pino({ level: "info" }, { write: (line: string) => logged.push(JSON.parse(line) as { level: number; msg: string }) });
  return new GrpcSessionVerifier({ address: `127.0.0.1:${fake.port}`, serviceToken: SERVICE_TOKEN, clock, logger, timeoutMs: 500, ...options });
}

beforeEach(async () => {
  logged.length = 0;
  clock = new ManualClock(Date.now());
  fake = new FakeUserService();
  await fake.start();
  verifier = makeVerifier();
});

afterEach(() => {
  verifier.close();
  fake.stop();
});

describe("GrpcSessionVerifier", () => {
  it("names the session's principal, calling with the service token", async () => {
    expect(await verifier.verify(GOOD)).toEqual({ tenantId: "t1", userId: "u1", role: "admin", sessionId: "s1" });
    expect(fake.authorization).toBe(`Bearer ${SERVICE_TOKEN}`);
  });

  it("caches a valid session for 5 s and an invalid token for 1 s", async () => {
    await verifier.verify(GOOD);
    await verifier.verify(BAD);
    clock.advance(900);
    await verifier.verify(GOOD);
    expect(await verifier.verify(BAD)).toBeNull();
    expect(fake.calls).toBe(2);
    clock.advance(200);
    expect(await verifier.verify(BAD)).toBeNull();
    expect(fake.calls).toBe(3);
    clock.advance(4_000);
    await verifier.verify(GOOD);
    expect(fake.calls).toBe(4);
  });

  it("shares one call among concurrent lookups of the same token", async () => {
    fake.delayMs = 50;
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(GOOD)));
    expect(results.every((r) => r?.userId === "u1")).toBe(true);
    expect(fake.calls).toBe(1);
  });

  it("forgets a tenant's cached sessions as soon as the directory reports a change to it", async () => {
    verifier.close();
    const directory = new StaticDirectory();
    verifier = makeVerifier({ directory });
    await verifier.verify(GOOD);
    await verifier.verify(GOOD);
    expect(fake.calls).toBe(1);
    directory.upsert(tenantEntryFromConfig(tenantConfig("t1", { status: "suspended" }))!.entry);
    await verifier.verify(GOOD);
    expect(fake.calls).toBe(2);
  });

  it("refuses tokens that are not session-shaped without asking", async () => {
    expect(await verifier.verify("tm_key_secret")).toBeNull();
    expect(await verifier.verify(`tms_${"a".repeat(5_000)}.b`)).toBeNull();
    expect(fake.calls).toBe(0);
  });

  it("keeps its LRU bounded, evicting the least recently used", async () => {
    verifier.close();
    verifier = makeVerifier({ maxEntries: 2 });
    await verifier.verify("tms_bad1.x");
    await verifier.verify("tms_bad2.x");
    await verifier.verify("tms_bad1.x");
    await verifier.verify("tms_bad3.x");
    expect(fake.calls).toBe(3);
    await verifier.verify("tms_bad1.x");
    expect(fake.calls).toBe(3);
    await verifier.verify("tms_bad2.x");
    expect(fake.calls).toBe(4);
  });

  it("fails closed when the control plane is unreachable, warning once per outage", async () => {
    await verifier.verify(GOOD);
    const port = fake.port;
    fake.stop();
    clock.advance(6_000);
    expect(await verifier.verify(GOOD)).toBeNull();
    expect(await verifier.verify("tms_other.x")).toBeNull();
    const warnings = logged.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/cannot verify sessions/);

    fake = new FakeUserService();
    await fake.start(port);
    await expect.poll(() => verifier.verify(GOOD), { interval: 50, timeout: 5_000 }).toMatchObject({ userId: "u1" });
    expect(logged.some((l) => /reaches the control plane again/.test(l.msg))).toBe(true);
  });
});
