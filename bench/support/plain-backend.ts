/**
 * The plain backend of ../shared/BENCHMARKING.md: node:http answering ~100 bytes of JSON with keep-alive, plus
 * a grpc-js EchoService (src/gen's KYB echo contract) answering unary calls without identity checks.
 * `node --import tsx bench/support/plain-backend.ts <http port> <grpc port>`; prints `ready <http> <grpc>`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { EchoServiceService, type EchoServiceServer } from "../../src/gen/tenantmesh/kyb/v1/echo.js";

const [httpPort = "0", grpcPort = "0"] = process.argv.slice(2);
const body = JSON.stringify({ id: "0b8a0d35-52a5-4a6c-9e67-2f7a1c3e9d10", name: "Acme Holdings", status: "active", risk: 42 });
const http = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
await new Promise<void>((r) => http.listen(Number(httpPort), "127.0.0.1", r));

const refuse = (): never => {
  throw new Error("unary only");
};
const echo: EchoServiceServer = {
  unary: (call, callback) => callback(null, { message: call.request.message, payload: Buffer.alloc(0), sequence: 0, tenantId: "", principal: "", requestId: "" }),
  serverStream: refuse,
  clientStream: refuse,
  bidiStream: refuse,
};
const grpc = new Server();
grpc.addService(EchoServiceService, echo);
const boundGrpc = await new Promise<number>((resolve, reject) =>
  grpc.bindAsync(`127.0.0.1:${grpcPort}`, ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
);
console.log(`ready ${(http.address() as AddressInfo).port} ${boundGrpc}`);
