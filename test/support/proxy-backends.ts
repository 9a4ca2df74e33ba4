/**
 * Small real upstreams for proxy tests: a node:http JSON backend and a grpc-js EchoService backend (the KYB
 * echo contract from src/gen), both on ephemeral ports, both checking the identity the proxy signs.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Metadata, Server as GrpcServer, ServerCredentials, status, type ServerWritableStream, type ServiceError } from "@grpc/grpc-js";
import { EchoServiceService, type EchoResponse, type EchoServiceServer } from "../../src/gen/tenantmesh/kyb/v1/echo.js";
import { verifyIdentity, type IdentityCheck } from "../../src/identity/index.js";

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
  identity: IdentityCheck;
  /** Arrival order across every backend of the process */
  at: number;
}

let arrivals = 0;

export interface HttpBackend {
  readonly address: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** Requests in progress on this backend */
  inFlight(): number;
  /** Releases every request parked on `/hold` */
  releaseHeld(): void;
  held(): number;
  /** Abruptly closes the listener and every connection (a crashed backend) */
  kill(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Routes: `/slow?ms=N` answers after N ms; `/status/N` answers status N; `/hold` waits for releaseHeld();
 * `/stream?chunks=N` streams N chunks; anything else answers 200 with JSON describing what it received.
 */
export async function startHttpBackend(secret: Buffer, name = "http-backend"): Promise<HttpBackend> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let held: Array<() => void> = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.once("close", () => inFlight--);
    let bodyBytes = 0;
    req.on("data", (c: Buffer) => (bodyBytes += c.length));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, bodyBytes, identity: verifyIdentity(secret, req.headers, Date.now()), at: arrivals++ });
      const reply = (code = 200): void => {
        const body = JSON.stringify({ backend: name, method: req.method, url: req.url, bodyBytes });
        res.writeHead(code, { "content-type": "application/json", "x-backend": name, "content-length": Buffer.byteLength(body) });
        res.end(body);
      };
      if (url.pathname.startsWith("/slow")) setTimeout(reply, Number(url.searchParams.get("ms") ?? 100));
      else if (url.pathname.startsWith("/status/")) reply(Number(url.pathname.slice(8)));
      else if (url.pathname.startsWith("/hold")) held.push(() => reply());
      else if (url.pathname.startsWith("/stream")) {
        const chunks = Number(url.searchParams.get("chunks") ?? 3);
        res.writeHead(200, { "content-type": "text/plain" });
        let i = 0;
        const timer = setInterval(() => {
          if (i++ < chunks) res.write(`chunk ${i}\n`);
          else {
            clearInterval(timer);
            res.end();
          }
        }, 5);
      } else reply();
    });
  });
  // WebSocket-style upgrades: answer 101, record the request, then echo whatever bytes arrive (a raw tunnel)
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, bodyBytes: 0, identity: verifyIdentity(secret, req.headers, Date.now()), at: arrivals++ });
    const key = String(req.headers["sec-websocket-key"] ?? "");
    const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
    socket.on("error", () => socket.destroy());
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    address: `127.0.0.1:${port}`,
    port,
    seen,
    inFlight: () => inFlight,
    releaseHeld: () => {
      const all = held;
      held = [];
      for (const f of all) f();
    },
    held: () => held.length,
    kill: async () => {
      for (const s of sockets) s.destroy();
      await close();
    },
    close,
  };
}

export interface GrpcBackend {
  readonly address: string;
  /** Calls the backend saw cancelled by its caller */
  cancelled(): number;
  /** Identity checks of calls, in arrival order */
  readonly identities: IdentityCheck[];
  close(): Promise<void>;
}

const identityOf = (secret: Buffer, md: Metadata): IdentityCheck => {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) headers[k] = String(v);
  return verifyIdentity(secret, headers, Date.now());
};

/** The EchoService contract (src/gen/tenantmesh/kyb/v1/echo.ts) on grpc-js, refusing calls with an unsigned identity */
export async function startGrpcBackend(secret: Buffer): Promise<GrpcBackend> {
  let cancelled = 0;
  const identities: IdentityCheck[] = [];
  const check = (md: Metadata): IdentityCheck & { ok: true } => {
    const id = identityOf(secret, md);
    identities.push(id);
    if (!id.ok) throw Object.assign(new Error(id.reason), { code: status.UNAUTHENTICATED });
    return id;
  };
  const echoed = (md: Metadata): Metadata => {
    const out = new Metadata();
    for (const [k, v] of Object.entries(md.getMap())) if (k.startsWith("x-echo-")) out.set(k, String(v));
    return out;
  };
  const respond = (message: string, payload: Uint8Array, sequence: number, id: IdentityCheck & { ok: true }): EchoResponse => ({
    message,
    payload: Buffer.from(payload),
    sequence,
    tenantId: id.identity.tenantId,
    principal: id.identity.principal,
    requestId: id.identity.requestId,
  });
  const impl: EchoServiceServer = {
    unary(call, callback) {
      let id: IdentityCheck & { ok: true };
      try {
        id = check(call.metadata);
      } catch (err) {
        callback(err as ServiceError);
        return;
      }
      call.sendMetadata(echoed(call.metadata));
      const req = call.request;
      const timer = setTimeout(() => {
        if (req.failCode !== 0) callback({ code: req.failCode, details: req.failMessage, metadata: echoed(call.metadata) } as ServiceError);
        else callback(null, respond(req.message, req.payload, 0, id), echoed(call.metadata));
      }, req.delayMs);
      call.on("cancelled", () => {
        cancelled++;
        clearTimeout(timer);
      });
    },
    serverStream(call: ServerWritableStream<{ message: string; count: number; intervalMs: number; failCode: number; failMessage: string }, EchoResponse>) {
      let id: IdentityCheck & { ok: true };
      try {
        id = check(call.metadata);
      } catch (err) {
        call.emit("error", err);
        return;
      }
      let i = 0;
      const timer = setInterval(() => {
        if (i < call.request.count) call.write(respond(call.request.message, new Uint8Array(), i++, id));
        else {
          clearInterval(timer);
          if (call.request.failCode !== 0) call.emit("error", { code: call.request.failCode, details: call.request.failMessage });
          else call.end(echoed(call.metadata));
        }
      }, call.request.intervalMs);
      call.on("cancelled", () => {
        cancelled++;
        clearInterval(timer);
      });
    },
    clientStream(call, callback) {
      const id = identityOf(secret, call.metadata);
      identities.push(id);
      let sum = 0;
      let count = 0;
      call.on("data", (m: { value: string | number }) => {
        sum += Number(m.value);
        count++;
      });
      call.on("end", () => callback(null, { sum: String(sum), count, tenantId: id.ok ? id.identity.tenantId : "" }));
      call.on("cancelled", () => cancelled++);
    },
    bidiStream(call) {
      const id = identityOf(secret, call.metadata);
      identities.push(id);
      let seq = 0;
      call.on("data", (m: { message: string; payload: Uint8Array }) => {
        if (id.ok) call.write(respond(m.message, m.payload, seq++, id));
      });
      call.on("end", () => call.end());
      call.on("cancelled", () => cancelled++);
    },
  };
  const server = new GrpcServer();
  server.addService(EchoServiceService, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    cancelled: () => cancelled,
    identities,
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
