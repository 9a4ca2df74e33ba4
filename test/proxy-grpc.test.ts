import { createServer } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientStreamResponse, EchoRequest, EchoResponse, EchoServiceClient } from "../src/gen/tenantmesh/kyb/v1/echo.js";
import { startProxyHarness, type ProxyHarness } from "./support/proxy-harness.js";

let h: ProxyHarness;
let client: EchoServiceClient;
beforeAll(async () => {
  h = await startProxyHarness({ acme: { performanceQuota: { maxResponseTimeMs: 1_000, maxThroughputRps: 0, maxConcurrentReqs: 50, cpuQuotaMillicores: 0, memoryQuotaMb: 0, databaseConnections: 0, cacheEntries: 0 } } });
  client = h.echoClient();
});
afterAll(async () => {
  await h.close();
});

const echo = (patch: Partial<EchoRequest> = {}): EchoRequest => ({ message: "hi", payload: Buffer.alloc(0), delayMs: 0, failCode: 0, failMessage: "", ...patch });

function unary(req: EchoRequest, md: Metadata, deadlineMs?: number): Promise<{ res: EchoResponse; headers: Metadata; trailers: Metadata }> {
  return new Promise((resolve, reject) => {
    let headers = new Metadata();
    let trailers = new Metadata();
    const options = deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
    const call = client.unary(req, md, options, (err, res) => (err ? reject(err) : setImmediate(() => resolve({ res, headers, trailers }))));
    call.on("metadata", (m) => (headers = m));
    call.on("status", (s) => (trailers = s.metadata));
  });
}

async function failure(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error("the call succeeded");
}

describe("gRPC through the proxy", () => {
  it("unary: forwards with the signed identity, metadata both ways and trailers", async () => {
    const md = h.auth(h.acme.token);
    md.set("x-echo-color", "blue");
    md.set("x-tenant-id", "globex");
    const { res, headers, trailers } = await unary(echo({ message: "hello", payload: Buffer.alloc(100_000, 3) }), md);
    expect(res.message).toBe("hello");
    expect(res.payload.length).toBe(100_000);
    expect(res.tenantId).toBe("acme");
    expect(res.principal).toMatch(/^api_key:/);
    expect(headers.get("x-echo-color")).toEqual(["blue"]);
    expect(trailers.get("x-echo-color")).toEqual(["blue"]);
    expect(h.grpc[0]!.identities.at(-1)).toMatchObject({ ok: true, identity: { tenantId: "acme" } });
  });

  it("unary: passes the backend's status code and message through", async () => {
    const err = await failure(unary(echo({ failCode: status.NOT_FOUND, failMessage: "no such thing" }), h.auth(h.acme.token)));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toBe("no such thing");
  });

  it("server streaming: relays every message, then the status", async () => {
    const call = client.serverStream({ message: "s", count: 5, intervalMs: 2, failCode: 0, failMessage: "" }, h.auth(h.acme.token));
    const got: number[] = [];
    for await (const m of call as AsyncIterable<EchoResponse>) got.push(m.sequence);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    const failing = client.serverStream({ message: "s", count: 2, intervalMs: 1, failCode: status.ABORTED, failMessage: "stop" }, h.auth(h.acme.token));
    const seen: number[] = [];
    const err = await failure(
      (async () => {
        for await (const m of failing as AsyncIterable<EchoResponse>) seen.push(m.sequence);
      })(),
    );
    expect(seen).toEqual([0, 1]);
    expect(err.code).toBe(status.ABORTED);
  });

  it("client streaming: relays every message and the single answer", async () => {
    const res = await new Promise<ClientStreamResponse>((resolve, reject) => {
      const call = client.clientStream(h.auth(h.acme.token), (err, r) => (err ? reject(err) : resolve(r)));
      for (let i = 1; i <= 100; i++) call.write({ value: String(i) });
      call.end();
    });
    expect(res).toMatchObject({ sum: "5050", count: 100, tenantId: "acme" });
  });

  it("bidi streaming: answers interleave with requests", async () => {
    const call = client.bidiStream(h.auth(h.acme.token));
    const answers: string[] = [];
    for (const word of ["one", "two", "three"]) {
      const next = new Promise<EchoResponse>((resolve) => call.once("data", resolve));
      call.write(echo({ message: word }));
      answers.push((await next).message);
    }
    const ended = new Promise((resolve) => call.on("status", resolve));
    call.end();
    await ended;
    expect(answers).toEqual(["one", "two", "three"]);
  });

  it("refuses a call without a valid key with UNAUTHENTICATED and tm-error-code", async () => {
    const err = await failure(unary(echo(), h.auth(`tm_aaaaaaaaaaaa_${"a".repeat(32)}`)));
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(err.metadata.get("tm-error-code")).toEqual(["TM_ERR_UNAUTHENTICATED"]);
  });

  it("refuses a suspended tenant with PERMISSION_DENIED", async () => {
    const err = await failure(unary(echo(), h.auth(h.globex.token)));
    expect(err.code).toBe(status.PERMISSION_DENIED);
    expect(err.metadata.get("tm-error-code")).toEqual(["TM_ERR_TENANT_INACTIVE"]);
  });

  it("answers UNIMPLEMENTED for a service without a route", async () => {
    const { EchoServiceClient: Ctor } = await import("../src/gen/tenantmesh/kyb/v1/echo.js");
    const { makeGenericClientConstructor, credentials } = await import("@grpc/grpc-js");
    const Other = makeGenericClientConstructor({ ping: { ...Ctor.service.unary, path: "/other.v1.Nope/Ping" } }, "other.v1.Nope");
    const other = new Other(h.address, credentials.createInsecure()) as unknown as { ping: typeof client.unary; close(): void };
    const err = await failure(new Promise((resolve, reject) => other.ping(echo(), h.auth(h.acme.token), (e, r) => (e ? reject(e) : resolve(r)))));
    other.close();
    expect(err.code).toBe(status.UNIMPLEMENTED);
    expect(err.metadata.get("tm-error-code")).toEqual(["TM_ERR_NO_ROUTE"]);
  });

  it("ends a call past the tenant's max response time with DEADLINE_EXCEEDED and cancels it upstream", async () => {
    const before = h.grpc[0]!.cancelled();
    const started = Date.now();
    const err = await failure(unary(echo({ delayMs: 5_000 }), h.auth(h.acme.token)));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(3_000);
    await expect.poll(() => h.grpc[0]!.cancelled()).toBeGreaterThan(before);
  });

  it("honours a shorter client deadline", async () => {
    const started = Date.now();
    const err = await failure(unary(echo({ delayMs: 5_000 }), h.auth(h.acme.token), 100));
    expect(err.code).toBe(status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(350);
  });

  it("a backend connection lost mid-call ends the call UNAVAILABLE (TM_ERR_BAD_GATEWAY), not as a cancel", async () => {
    // A backend that starts answering, then loses its connection mid-message
    const raw = createServer();
    const sockets: Socket[] = [];
    raw.on("connection", (socket: Socket) => sockets.push(socket));
    raw.on("session", (session) => session.on("error", () => undefined));
    raw.on("stream", (stream) => {
      stream.on("error", () => undefined);
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.write(Buffer.from([0, 0, 0, 0, 10, 1, 2]));
      setTimeout(() => sockets.forEach((s) => s.destroy()), 20);
    });
    await new Promise<void>((r) => raw.listen(0, "127.0.0.1", r));
    const resetting = await startProxyHarness({ grpcBackends: 0, extraGrpcAddresses: [`127.0.0.1:${(raw.address() as AddressInfo).port}`] });
    const c = resetting.echoClient();
    const err = await failure(new Promise((resolve, reject) => c.unary(echo(), resetting.auth(resetting.acme.token), (e, r) => (e ? reject(e) : resolve(r)))));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.metadata.get("tm-error-code")).toEqual(["TM_ERR_BAD_GATEWAY"]);
    await resetting.close();
    await new Promise((r) => raw.close(r));
  });

  it("a client cancel resets the upstream stream", async () => {
    const before = h.grpc[0]!.cancelled();
    const call = client.serverStream({ message: "s", count: 1_000, intervalMs: 20, failCode: 0, failMessage: "" }, h.auth(h.acme.token));
    call.on("error", () => undefined);
    await new Promise((resolve) => call.once("data", resolve));
    call.cancel();
    await expect.poll(() => h.grpc[0]!.cancelled(), { timeout: 2_000 }).toBeGreaterThan(before);
  });
});
