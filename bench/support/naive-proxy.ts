/**
 * The naive baseline of the isolation benchmark: a round-robin http-proxy 1.18 over the KYB backends with a
 * keep-alive agent (maxSockets 100 per backend, as in ../../shared/BENCHMARKING.md). No throttling, no
 * queueing, no capacity check: every request goes to the next backend at once, where it waits in that
 * backend's own FIFO. So it can reach the backends, it signs the forwarded identity of the tenant whose
 * bench API key the request carries (a fixed token → tenant table; no key verification).
 *   node --import tsx bench/support/naive-proxy.ts <port> <backend,backend,…> '<{"token":"tenant id"}>'
 * Takes the identity secret from BENCH_IDENTITY_SECRET (the environment, not the command line). Prints `ready <port>`.
 */
import { randomUUID } from "node:crypto";
import { Agent, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import httpProxy from "http-proxy";
import { identityHeaders, signIdentity } from "../../src/identity/index.js";

const [portArg = "0", backendsArg = "", tenantsArg = "{}"] = process.argv.slice(2);
const backends = backendsArg.split(",").filter(Boolean).map((a) => `http://${a}`);
const tenants = new Map(Object.entries(JSON.parse(tenantsArg) as Record<string, string>));
const secret = Buffer.from(process.env.BENCH_IDENTITY_SECRET ?? "");
if (secret.length < 32) throw new Error("BENCH_IDENTITY_SECRET is not set");

const agent = new Agent({ keepAlive: true, maxSockets: 100 });
const proxy = httpProxy.createProxyServer({ agent });
proxy.on("error", (_err, _req, res) => {
  if ("writeHead" in res && !res.headersSent) res.writeHead(502).end();
  else res.destroy();
});

let next = 0;
const server = createServer((req, res) => {
  const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
  const tenantId = tenants.get(token);
  if (tenantId === undefined) {
    res.writeHead(401).end();
    return;
  }
  const id = { tenantId, principal: "api_key:naive", requestId: randomUUID() };
  delete req.headers.authorization;
  req.headers[identityHeaders.tenantId] = id.tenantId;
  req.headers[identityHeaders.principal] = id.principal;
  req.headers[identityHeaders.requestId] = id.requestId;
  req.headers[identityHeaders.signature] = signIdentity(secret, id, Date.now());
  const target = backends[next]!;
  next = next + 1 === backends.length ? 0 : next + 1;
  proxy.web(req, res, { target });
});
await new Promise<void>((r) => server.listen(Number(portArg), "127.0.0.1", r));
console.log(`ready ${(server.address() as AddressInfo).port}`);
process.on("SIGTERM", () => process.exit(0));
