/**
 * The baselines: `node --import tsx bench/support/bare-proxies.ts <http port> <http upstream> <h2 port> <h2 upstream> <undici port>`.
 * - a bare http-proxy 1.18 with a keep-alive agent (maxSockets 100), as in ../shared/BENCHMARKING.md;
 * - a bare forwarder on undici's Pool (keep-alive, pipelining 1, hop-by-hop headers dropped, nothing else):
 *   the forwarder tenantmesh's HTTP path is built on, without the pipeline, so the two rows apart show what
 *   the forwarder choice buys and what the pipeline costs;
 * - a minimal node:http2 gRPC forwarder (one upstream session, headers, data and trailers relayed, nothing
 *   else), the other baseline figure there.
 * Prints `ready <http port> <h2 port>`.
 */
import { Agent, createServer } from "node:http";
import { connect, constants, createServer as createH2Server, type IncomingHttpHeaders } from "node:http2";
import type { AddressInfo } from "node:net";
import httpProxy from "http-proxy";
import { Pool, type Dispatcher } from "undici";

const [httpPort = "0", httpUpstream = "", h2Port = "0", h2Upstream = "", undiciPort = "0"] = process.argv.slice(2);

const agent = new Agent({ keepAlive: true, maxSockets: 100 });
const proxy = httpProxy.createProxyServer({ target: `http://${httpUpstream}`, agent });
proxy.on("error", (_err, _req, res) => {
  if ("writeHead" in res && !res.headersSent) res.writeHead(502).end();
});
const http = createServer((req, res) => proxy.web(req, res));
await new Promise<void>((r) => http.listen(Number(httpPort), "127.0.0.1", r));

const upstream = connect(`http://${h2Upstream}`);
const pseudo = (h: IncomingHttpHeaders): Record<string, string | string[] | undefined> => {
  const out: Record<string, string | string[] | undefined> = {};
  for (const k in h) if (!k.startsWith(":") || k === ":status") out[k] = h[k];
  return out;
};
const h2 = createH2Server();
h2.on("stream", (stream, headers) => {
  const up = upstream.request({ ...pseudo(headers), ":method": "POST", ":path": headers[":path"] });
  // A load generator that hangs up leaves streams behind: answering a closed stream throws, so check first
  const open = (): boolean => !stream.destroyed && !stream.closed;
  stream.pipe(up);
  up.on("response", (h) => open() && stream.respond(pseudo(h), { waitForTrailers: true }));
  up.on("trailers", (t) => stream.once("wantTrailers", () => open() && stream.sendTrailers(pseudo(t))));
  up.pipe(stream);
  up.on("error", () => open() && stream.close(constants.NGHTTP2_INTERNAL_ERROR));
  stream.on("error", () => !up.destroyed && up.close(constants.NGHTTP2_CANCEL));
  stream.on("close", () => !up.destroyed && up.close(constants.NGHTTP2_CANCEL));
});
h2.on("sessionError", () => undefined);
upstream.on("error", () => undefined);
await new Promise<void>((r) => h2.listen(Number(h2Port), "127.0.0.1", r));
const pool = new Pool(`http://${httpUpstream}`, { connections: 100, pipelining: 1 });
const hop = ["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"];
const undici = createServer((req, res) => {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const k in req.headers) if (!hop.includes(k)) headers[k] = req.headers[k];
  const handler: Dispatcher.DispatchHandler = {
    // undici takes a handler for its controller API only when it has onRequestStart
    onRequestStart: () => undefined,
    onResponseStart: (_c, status, h) => {
      for (const k of hop) delete h[k];
      res.writeHead(status, h);
    },
    onResponseData: (c, chunk) => {
      if (!res.write(chunk)) {
        c.pause();
        res.once("drain", () => c.resume());
      }
    },
    onResponseEnd: () => res.end(),
    onResponseError: () => (res.headersSent ? res.destroy() : res.writeHead(502).end()),
  };
  // Bounded waits, like tenantmesh's: a stuck upstream request fails instead of hanging a load generator
  pool.dispatch({ path: req.url ?? "/", method: (req.method ?? "GET") as Dispatcher.HttpMethod, headers, body: req.headers["content-length"] ? req : null, headersTimeout: 30_000, bodyTimeout: 30_000 }, handler);
});
await new Promise<void>((r) => undici.listen(Number(undiciPort), "127.0.0.1", r));
console.log(`ready ${(http.address() as AddressInfo).port} ${(h2.address() as AddressInfo).port} ${(undici.address() as AddressInfo).port}`);
