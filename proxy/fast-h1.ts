import { EventEmitter } from "node:events";
import { STATUS_CODES, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";

/**
 * The proxy's fast path for plain HTTP/1.1 requests: a request head parsed straight from the socket and a
 * response written straight to it, without Node's IncomingMessage/ServerResponse pair and their stream
 * machinery. Measured (bench/overhead.bench.ts): Node's HTTP server was about a fifth of the proxy's CPU per
 * forwarded request.
 *
 * It serves only what is simple and common: HTTP/1.1 requests without a body (no Content-Length above 0, no
 * Transfer-Encoding) in origin form, with token methods and names, no repeated header, no Expect and no
 * Upgrade. The first request that is anything else — a body, HTTP/1.0, an upgrade, a malformed or oversized
 * head — is put back on the socket with everything after it and the connection is handed to Node's HTTP/1.1
 * server for the rest of its life, so every limit and error of the general path (413, 431, 400, 100-continue,
 * WebSocket) applies unchanged. The fast path keeps the same timeouts: a head must arrive within the headers
 * timeout (408), an idle keep-alive connection is closed after the keep-alive timeout.
 */

export interface FastH1Limits {
  readonly maxHeaderBytes: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

export interface FastH1Handlers {
  /** A request the fast path serves: answer it through `res` */
  request(req: FastRequest, res: FastResponse): void;
  /** A connection the fast path gives up: its unread bytes are back on the socket, Node's server takes it */
  handOff(socket: Socket): void;
  /** A client too slow to send its head: answer on the raw socket (a 408) and close */
  timeout(socket: Socket): void;
}

const CRLF2 = Buffer.from("\r\n\r\n", "latin1");
/** Request line of the fast path: an upper-case method, an origin-form target, HTTP/1.1 */
const REQUEST_LINE = /^([A-Z]{1,20}) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** A control character (other than tab, CR and LF) or DEL anywhere in a head */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
/** Bodies up to this size go out in the same write as their head */
const SINGLE_WRITE_BYTES = 16 * 1024;

interface HeadBuilder {
  text: string;
  length: boolean;
  date: boolean;
  close: boolean;
}

/** One response header into the head, checked as Node's ServerResponse checks it (same errors) */
function addHeader(h: HeadBuilder, name: string, value: string): void {
  if (!TOKEN.test(name)) throw Object.assign(new TypeError(`Header name must be a valid HTTP token ["${name}"]`), { code: "ERR_INVALID_HTTP_TOKEN" });
  if (INVALID_VALUE.test(value)) throw Object.assign(new TypeError(`Invalid character in header content ["${name}"]`), { code: "ERR_INVALID_CHAR" });
  switch (name.length) {
    case 4:
      if (name.toLowerCase() === "date") h.date = true;
      break;
    case 10:
      // The connection's persistence is the proxy's to say, once, at the end of the head
      if (name.toLowerCase() === "connection") {
        if (value.toLowerCase().includes("close")) h.close = true;
        return;
      }
      break;
    case 14:
      if (name.toLowerCase() === "content-length") h.length = true;
      break;
  }
  h.text += `${name}: ${value}\r\n`;
}

/** The request of a fast-path exchange: what the pipeline and the forwarder read of an IncomingMessage */
export class FastRequest extends EventEmitter {
  /** The fast path only serves requests without a body: the request is complete once its head is read */
  readonly complete = true;
  readonly readableDidRead = false;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly headers: IncomingHttpHeaders,
    readonly socket: Socket,
  ) {
    super();
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  pause(): this {
    return this;
  }

  resume(): this {
    return this;
  }
}

/** Cached `Date` header value, remade at most once a second (as Node's server does) */
let dateSecond = 0;
let dateValue = "";
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

/**
 * The response of a fast-path exchange: the part of ServerResponse the forwarder and respond.ts use. The head
 * is held until the first body bytes or the end, so a small response leaves in one write. Without a
 * Content-Length the body is sent chunked. It emits 'drain' when the socket drains, 'finish' when the response
 * is written, and 'close' after that or when the connection closes first, as ServerResponse does.
 */
export class FastResponse extends EventEmitter {
  headersSent = false;
  writableFinished = false;
  private head: string | undefined;
  private chunked = false;
  private noBody = false;

  constructor(
    private readonly conn: FastH1Connection,
    private readonly headRequest: boolean,
    /** The client asked to close after this response (`Connection: close`) */
    readonly closeAfter: boolean,
  ) {
    super();
  }

  get destroyed(): boolean {
    return this.conn.socket.destroyed;
  }

  writeHead(status: number, headers?: OutgoingHttpHeaders | readonly string[]): this {
    if (this.headersSent || this.head !== undefined) throw new Error("response head already written");
    const h: HeadBuilder = { text: `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`, length: false, date: false, close: this.closeAfter };
    if (Array.isArray(headers)) {
      for (let i = 0; i < headers.length; i += 2) addHeader(h, headers[i]!, headers[i + 1]!);
    } else if (headers !== undefined) {
      const record = headers as OutgoingHttpHeaders;
      for (const name in record) {
        const value = record[name];
        if (value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) addHeader(h, name, v);
        else addHeader(h, name, String(value));
      }
    }
    if (!h.date) h.text += `date: ${httpDate()}\r\n`;
    this.noBody = this.headRequest || status === 204 || status === 304 || (status >= 100 && status < 200);
    if (!h.length && !this.noBody) {
      this.chunked = true;
      h.text += "transfer-encoding: chunked\r\n";
    }
    if (h.close) this.conn.closeAfterResponse = true;
    this.head = h.text + (h.close ? "connection: close\r\n\r\n" : this.conn.keepAliveField);
    return this;
  }

  write(chunk: Buffer | string): boolean {
    if (this.writableFinished) return false;
    const socket = this.conn.socket;
    if (this.head === undefined) this.writeHead(200);
    if (!this.headersSent) socket.cork();
    this.flushHead();
    if (!this.noBody && chunk.length > 0) {
      if (this.chunked) {
        socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n`, "latin1");
        socket.write(chunk);
        socket.write("\r\n", "latin1");
      } else socket.write(chunk);
    }
    if (socket.writableCorked > 0) socket.uncork();
    return !socket.writableNeedDrain;
  }

  end(chunk?: Buffer | string): this {
    if (this.writableFinished) return this;
    const socket = this.conn.socket;
    if (this.head === undefined) this.writeHead(200);
    if (!this.headersSent && !this.chunked && !this.noBody && chunk !== undefined && typeof chunk !== "string" && chunk.length <= SINGLE_WRITE_BYTES) {
      // The common case, a whole small response: head and body in one write of one string
      this.headersSent = true;
      socket.write(this.head + chunk.toString("latin1"), "latin1");
      this.finished();
      return this;
    }
    socket.cork();
    this.flushHead();
    if (chunk !== undefined && chunk.length > 0 && !this.noBody) {
      if (this.chunked) socket.write(`${Buffer.byteLength(chunk).toString(16)}\r\n`, "latin1");
      socket.write(chunk);
      if (this.chunked) socket.write("\r\n0\r\n\r\n", "latin1");
    } else if (this.chunked && !this.noBody) socket.write("0\r\n\r\n", "latin1");
    socket.uncork();
    this.finished();
    return this;
  }

  private finished(): void {
    this.writableFinished = true;
    this.emit("finish");
    this.conn.responseDone(this);
    this.emit("close");
  }

  destroy(): this {
    this.conn.socket.destroy();
    return this;
  }

  private flushHead(): void {
    if (this.headersSent) return;
    this.headersSent = true;
    this.conn.socket.write(this.head!, "latin1");
  }
}

/** One client connection on the fast path, from its first request until it closes or is handed off */
export class FastH1Connection {
  /** Bytes read and not yet consumed: the start of the next request */
  private buffer: Buffer | undefined;
  private current: FastResponse | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() by which the awaited head or next request must arrive (Infinity: nothing awaited) */
  private deadline = Number.POSITIVE_INFINITY;
  /** The end of every keep-alive response head */
  readonly keepAliveField: string;
  /** What the timer is waiting for: a complete head (408 when late) or the next request (silent close) */
  private waitingFor: "head" | "idle" = "head";
  private handedOff = false;
  closeAfterResponse = false;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onDrain = (): void => {
    this.current?.emit("drain");
  };
  private readonly onClose = (): void => this.closed();

  constructor(
    readonly socket: Socket,
    private readonly handlers: FastH1Handlers,
    readonly limits: FastH1Limits,
  ) {
    socket.on("data", this.onData);
    socket.on("drain", this.onDrain);
    socket.on("close", this.onClose);
    this.keepAliveField = `keep-alive: timeout=${Math.max(1, Math.floor(limits.keepAliveTimeoutMs / 1000))}\r\n\r\n`;
    this.arm("head");
  }

  /** True while no request is being answered (a graceful shutdown closes such connections at once) */
  get idle(): boolean {
    return this.current === undefined && this.buffer === undefined;
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer === undefined ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.current !== undefined) {
      // A pipelined request while one is answered: kept for later, within the head limit
      if (this.buffer.length > this.limits.maxHeaderBytes) this.socket.pause();
      return;
    }
    this.next();
  }

  /** Parses and dispatches the buffered request, if its head is complete */
  private next(): void {
    const buffer = this.buffer;
    if (buffer === undefined || this.handedOff) return;
    if (this.waitingFor === "idle") this.arm("head");
    const end = buffer.indexOf(CRLF2);
    if (end === -1) {
      if (buffer.length > this.limits.maxHeaderBytes) this.handOff(); // Node's parser answers 431
      return;
    }
    if (end + 4 > this.limits.maxHeaderBytes) {
      this.handOff();
      return;
    }
    const parsed = parseRequestHead(buffer.toString("latin1", 0, end));
    if (parsed === undefined) {
      this.handOff();
      return;
    }
    this.buffer = end + 4 === buffer.length ? undefined : buffer.subarray(end + 4);
    this.disarm();
    const req = new FastRequest(parsed.method, parsed.url, parsed.headers, this.socket);
    const res = new FastResponse(this, parsed.method === "HEAD", parsed.close);
    this.current = res;
    this.handlers.request(req, res);
  }

  /** The response was written: next request, or close */
  responseDone(res: FastResponse): void {
    if (this.current !== res) return;
    this.current = undefined;
    if (this.closeAfterResponse) {
      this.buffer = undefined;
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    this.arm("idle");
    // A pipelined request waits for the next turn of the event loop: a client's flood of them is served
    // between other connections' I/O, and a synchronous answer cannot recurse
    if (this.buffer !== undefined) setImmediate(this.onPipelined);
  }

  private readonly onPipelined = (): void => {
    if (this.current === undefined && !this.socket.destroyed) this.next();
  };

  /** Closes the connection if it is between requests (graceful shutdown); true when it did */
  closeIfIdle(): boolean {
    if (!this.idle || this.handedOff) return false;
    this.socket.end();
    return true;
  }

  private handOff(): void {
    this.handedOff = true;
    this.disarm();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    socket.removeListener("data", this.onData);
    socket.removeListener("drain", this.onDrain);
    socket.removeListener("close", this.onClose);
    socket.pause();
    if (this.buffer !== undefined) socket.unshift(this.buffer);
    this.buffer = undefined;
    this.handlers.handOff(socket);
  }

  private closed(): void {
    this.disarm();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const res = this.current;
    this.current = undefined;
    if (res !== undefined && !res.writableFinished) res.emit("close");
  }

  /**
   * Waits for `what` until its timeout. Per request this only moves a deadline: the one timer of the connection
   * is created when none runs and, when it fires early (the deadline moved), sets itself for the rest.
   */
  private arm(what: "head" | "idle"): void {
    this.waitingFor = what;
    const ms = what === "head" ? this.limits.headersTimeoutMs : this.limits.keepAliveTimeoutMs;
    this.deadline = performance.now() + ms;
    if (this.timer === undefined) {
      this.timer = setTimeout(this.onTimer, ms);
      this.timer.unref();
    }
  }

  private disarm(): void {
    this.deadline = Number.POSITIVE_INFINITY;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.handedOff || this.socket.destroyed || this.deadline === Number.POSITIVE_INFINITY) return;
    const left = this.deadline - performance.now();
    if (left > 0) {
      this.timer = setTimeout(this.onTimer, Math.ceil(left));
      this.timer.unref();
      return;
    }
    if (this.current !== undefined) return;
    if (this.waitingFor === "idle" && this.buffer === undefined) {
      this.socket.destroy();
      return;
    }
    // Part of a head and no more in time: a slow (or slowloris) client
    this.buffer = undefined;
    this.socket.removeListener("data", this.onData);
    this.handlers.timeout(this.socket);
  };
}

interface ParsedHead {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  close: boolean;
}

/** The head of a request the fast path serves, or undefined when the general path must judge it */
function parseRequestHead(head: string): ParsedHead | undefined {
  // Control characters, bare CR or LF, folded lines: Node's parser judges those (the lines are checked below)
  if (CONTROL.test(head)) return undefined;
  const lines = head.split("\r\n");
  if (lines[0]!.indexOf("\n") !== -1 || lines[0]!.indexOf("\r") !== -1) return undefined;
  const requestLine = REQUEST_LINE.exec(lines[0]!);
  if (requestLine === null) return undefined;
  const method = requestLine[1]!;
  if (method === "CONNECT") return undefined;
  const headers = Object.create(null) as IncomingHttpHeaders;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0 || line.indexOf("\n") !== -1 || line.indexOf("\r") !== -1) return undefined;
    const raw = line.slice(0, colon);
    if (!TOKEN.test(raw)) return undefined;
    const name = raw.toLowerCase();
    if (headers[name] !== undefined) return undefined; // repeated: Node's rules for joining or refusing apply
    const value = line.slice(colon + 1).trim();
    switch (name) {
      case "content-length":
        if (value !== "0") return undefined;
        break;
      case "transfer-encoding":
      case "expect":
      case "upgrade":
        return undefined;
      case "connection": {
        const tokens = value.toLowerCase();
        if (tokens.includes("upgrade")) return undefined;
        if (tokens.includes("close")) close = true;
        break;
      }
      case "__proto__":
        return undefined;
    }
    headers[name] = value;
  }
  if (headers.host === undefined) return undefined; // HTTP/1.1 requires Host; Node answers the malformed case
  return { method, url: requestLine[2]!, headers, close };
}
