import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcSpan, scopes, startTracing, tracingConfigFromEnv, type Tracing } from "../src/telemetry/index.js";
import { Metadata, status } from "@grpc/grpc-js";

/** OTLP/HTTP export when OTEL_EXPORTER_OTLP_ENDPOINT is set: spans reach a collector's /v1/traces */
const received: Array<{ url: string; headers: IncomingHttpHeaders; body: Buffer }> = [];
const collector = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    received.push({ url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
});
let tracing: Tracing;

beforeAll(async () => {
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  tracing = startTracing(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: "export-test" }, "tenantmesh"))!;
});
afterAll(async () => {
  await tracing?.shutdown();
  collector.close();
});

describe("OTLP export", () => {
  it("sends the spans of an RPC, with the tenant, to <endpoint>/v1/traces", async () => {
    const md = new Metadata();
    md.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    md.set("baggage", "tenant.id=6f1c1f1e-0d6b-4f55-9f55-3d2d6c9a1111,tenant.plan=enterprise,tenant.priority=9");
    const rpc = new RpcSpan(tracing.tracer(scopes.controlPlane), "TenantService/GetTenant", md);
    rpc.end(status.OK);
    await tracing.forceFlush();
    expect(received.length).toBeGreaterThanOrEqual(1);
    const batch = received[0]!;
    expect(batch.url).toBe("/v1/traces");
    expect(batch.headers["content-type"]).toBe("application/x-protobuf");
    const body = batch.body.toString("latin1");
    for (const text of ["export-test", "TenantService/GetTenant", "tenant.id", "6f1c1f1e-0d6b-4f55-9f55-3d2d6c9a1111", "tenant.plan", "enterprise"]) {
      expect(body, text).toContain(text);
    }
  });
});
