/**
 * A stand-in OTLP/HTTP collector for benchmarks: accepts every POST (…/v1/traces) with 200 and counts
 * requests and bytes. `node --import tsx bench/support/otlp-sink.ts <port>`; prints `ready <port>`; on
 * SIGTERM prints `received <requests> <bytes>`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

let requests = 0;
let bytes = 0;
const server = createServer((req, res) => {
  req.on("data", (c: Buffer) => (bytes += c.length));
  req.on("end", () => {
    requests++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
});
await new Promise<void>((r) => server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", r));
console.log(`ready ${(server.address() as AddressInfo).port}`);
process.on("SIGTERM", () => {
  console.log(`received ${requests} ${bytes}`);
  process.exit(0);
});
