/**
 * An HTTP/1.1 response parser for the proxy's upstream connections (RFC 9112): status line, header fields,
 * and the body's framing — Content-Length, chunked, or delimited by the connection's close — with the bodiless
 * cases (a HEAD request, 204, 304) and 1xx interim responses skipped. It decodes chunked bodies and hands the
 * body on as it arrives, never buffering more than one head or one chunk-size line.
 *
 * Written for the hot path: a response that arrives in one TCP read is parsed with one `indexOf` for the end of
 * its head, one latin1 decode and a scan of its lines. It is strict where leniency would let a backend smuggle a
 * second response or truncate one unnoticed (conflicting lengths, bad chunk sizes, obsolete line folding, bare
 * LF line ends), and every such case is a `ResponseParseError` that ends the connection.
 */

/** What the parser reports, in order: one head, zero or more body chunks, then completion */
export interface ResponseEvents {
  /**
   * The final (non-1xx) response head. `headers` is a flat list of lowercase name, value pairs in the order
   * received. Called before any body bytes.
   */
  onHead(status: number, headers: string[]): void;
  /** Body bytes, decoded (chunk framing removed); the buffer is only valid during the call */
  onBody(chunk: Buffer): void;
  /** The response is complete */
  onComplete(): void;
}

export class ResponseParseError extends Error {
  readonly code = "TM_UPSTREAM_MALFORMED_RESPONSE";
  constructor(message: string) {
    super(`malformed upstream response: ${message}`);
    this.name = "ResponseParseError";
  }
}

const enum State {
  Idle,
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Done,
}

const CRLF2 = Buffer.from("\r\n\r\n", "latin1");
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?$/;
const DIGITS = /^\d{1,15}$/;
const HEX = /^[0-9A-Fa-f]{1,12}$/;
/**
 * What no head may contain: a control character other than tab/CR/LF, or DEL. Checked once over the whole head;
 * bare CR or LF and folded lines are checked per line. Names and values are checked again when relayed.
 */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
/** Longest chunk-size line (size plus chunk extensions) and trailer section accepted */
const MAX_CHUNK_LINE = 1_024;

export class ResponseParser {
  private state: State = State.Idle;
  private events: ResponseEvents | undefined;
  private headRequest = false;
  /** Bytes of an incomplete head or chunk-size line, kept across reads */
  private pending: Buffer | undefined;
  /** Body bytes still to come (Length) or left in the current chunk (ChunkData) */
  private remaining = 0;
  private trailerBytes = 0;
  /** Whether the connection may carry another exchange after this response (set once the head is read) */
  keepAlive = false;
  /** The backend's `Keep-Alive: timeout=N` in milliseconds, when it sent one */
  keepAliveHintMs: number | undefined = undefined;
  /** Bytes arrived after the response ended: the backend said more than one answer, so the connection is unusable */
  excess = false;
  /** The response ended during this `execute`: `onComplete` is called once the whole read has been looked at */
  private completed = false;

  constructor(private readonly maxHeadBytes = 64 * 1024) {}

  /** Expects the response to one request; `headRequest` when the request was HEAD (its response has no body) */
  start(events: ResponseEvents, headRequest: boolean): void {
    this.events = events;
    this.headRequest = headRequest;
    this.state = State.Head;
    this.pending = undefined;
    this.remaining = 0;
    this.trailerBytes = 0;
    this.keepAlive = false;
    this.keepAliveHintMs = undefined;
    this.excess = false;
    this.completed = false;
  }

  /** True from `start` until the response is complete (or the parser is reset) */
  get busy(): boolean {
    return this.state !== State.Idle && this.state !== State.Done;
  }

  /** True once the response head has been parsed (body bytes may follow) */
  get headReceived(): boolean {
    return this.state !== State.Idle && this.state !== State.Head;
  }

  /** Feeds bytes read from the connection; throws ResponseParseError on a malformed response */
  execute(data: Buffer): void {
    let at = 0;
    const end = data.length;
    while (at < end) {
      switch (this.state) {
        case State.Head:
          at = this.readHead(data, at);
          break;
        case State.Length:
          at = this.readBody(data, at);
          if (this.remaining === 0) this.complete();
          break;
        case State.ChunkSize:
          at = this.readChunkSize(data, at);
          break;
        case State.ChunkData:
          at = this.readBody(data, at);
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        case State.ChunkDataEnd:
          at = this.readChunkDataEnd(data, at);
          break;
        case State.Trailers:
          at = this.readTrailers(data, at);
          break;
        case State.UntilClose: {
          const chunk = at === 0 ? data : data.subarray(at);
          at = end;
          this.events!.onBody(chunk);
          break;
        }
        case State.Done:
        case State.Idle:
          // Nothing was asked, or the answer is complete: whatever else the backend says poisons the connection
          this.excess = true;
          this.keepAlive = false;
          at = end;
          break;
      }
    }
    // Completion is reported after the whole read was seen, so that the connection is never given to the next
    // exchange with a stray answer of this one still in its read: that answer would become the next response
    if (this.completed) {
      this.completed = false;
      this.events!.onComplete();
    }
  }

  /**
   * The connection ended (the backend closed it). Completes a body delimited by the close and returns true;
   * returns false when the response was cut short (the caller reports the connection failure).
   */
  finish(): boolean {
    if (this.state === State.UntilClose) {
      this.complete();
      this.completed = false;
      this.events!.onComplete();
      return true;
    }
    return this.state === State.Done || this.state === State.Idle;
  }

  /** Up to `remaining` body bytes from `data` at `at`, handed on; returns where reading goes on */
  private readBody(data: Buffer, at: number): number {
    const n = Math.min(this.remaining, data.length - at);
    this.remaining -= n;
    this.events!.onBody(at === 0 && n === data.length ? data : data.subarray(at, at + n));
    return at + n;
  }

  private complete(): void {
    this.state = State.Done;
    this.pending = undefined;
    this.completed = true;
  }

  /** Head bytes up to the blank line; returns where the body starts (or `data.length` when it needs more) */
  private readHead(data: Buffer, at: number): number {
    let buffer: Buffer;
    let from: number;
    if (this.pending === undefined) {
      buffer = at === 0 ? data : data.subarray(at);
      from = 0;
    } else {
      from = Math.max(0, this.pending.length - 3);
      buffer = Buffer.concat([this.pending, at === 0 ? data : data.subarray(at)]);
    }
    const blank = buffer.indexOf(CRLF2, from);
    if (blank === -1) {
      if (buffer.length > this.maxHeadBytes) throw new ResponseParseError(`response head larger than ${this.maxHeadBytes} bytes`);
      this.pending = this.pending === undefined ? Buffer.from(buffer) : buffer; // a copy: the read buffer is reused
      return data.length;
    }
    if (blank > this.maxHeadBytes) throw new ResponseParseError(`response head larger than ${this.maxHeadBytes} bytes`);
    // Where the head ended in `data`: the body (or the next head) starts right after the blank line
    const consumedFromData = blank + 4 - (this.pending?.length ?? 0);
    this.pending = undefined;
    this.parseHead(buffer.toString("latin1", 0, blank));
    return at + consumedFromData;
  }

  private parseHead(head: string): void {
    if (CONTROL.test(head)) throw new ResponseParseError("control character in the head");
    const lines = head.split("\r\n");
    if (lines[0]!.indexOf("\n") !== -1) throw new ResponseParseError("bare LF in the head");
    const statusLine = STATUS_LINE.exec(lines[0]!);
    if (statusLine === null) throw new ResponseParseError(`bad status line ${JSON.stringify(lines[0]!.slice(0, 64))}`);
    const http10 = statusLine[1] === "0";
    const status = Number(statusLine[2]);

    const headers: string[] = [];
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let close = http10;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new ResponseParseError(`header line without a name: ${JSON.stringify(line.slice(0, 64))}`);
      if (line.indexOf("\n") !== -1 || line.indexOf("\r") !== -1) throw new ResponseParseError("bare CR or LF in the head");
      const first = line.charCodeAt(0);
      if (first === 32 || first === 9) throw new ResponseParseError("folded header line");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      // Only the fields that frame the message are read here. Other names are not checked: Node refuses to relay
      // a name that is not a token, so a "Content-Length " (with a space) fails the exchange rather than pass
      switch (name) {
        case "content-length": {
          for (const part of value.split(",")) {
            const v = part.trim();
            if (!DIGITS.test(v)) throw new ResponseParseError(`bad content-length ${JSON.stringify(value.slice(0, 32))}`);
            const n = Number(v);
            if (contentLength !== -1 && contentLength !== n) throw new ResponseParseError("conflicting content-length values");
            contentLength = n;
          }
          break;
        }
        case "transfer-encoding": {
          transferEncoding = true;
          const codings = value.toLowerCase().split(",");
          chunked = codings[codings.length - 1]!.trim() === "chunked";
          break;
        }
        case "connection": {
          const tokens = value.toLowerCase();
          if (tokens.includes("close")) close = true;
          else if (http10 && tokens.includes("keep-alive")) close = false;
          break;
        }
        case "keep-alive": {
          const timeout = /(?:^|[,;\s])timeout=(\d{1,6})/i.exec(value);
          if (timeout !== null) this.keepAliveHintMs = Number(timeout[1]) * 1000;
          break;
        }
      }
      headers.push(name, value);
    }

    if (status < 200) {
      // 101 would switch protocols, which no request of this forwarder asks for; other 1xx are interim
      if (status === 101) throw new ResponseParseError("unexpected 101 Switching Protocols");
      this.keepAliveHintMs = undefined;
      return; // stay in Head: the final response follows
    }

    this.keepAlive = !close;
    this.events!.onHead(status, headers);
    if (this.headRequest || status === 204 || status === 304) {
      this.complete();
      return;
    }
    if (transferEncoding) {
      // RFC 9112 §6.1: with both, Transfer-Encoding wins and the connection must not be reused
      if (contentLength !== -1) this.keepAlive = false;
      if (chunked) {
        this.state = State.ChunkSize;
        return;
      }
      this.keepAlive = false;
      this.state = State.UntilClose;
      return;
    }
    if (contentLength === -1) {
      this.keepAlive = false;
      this.state = State.UntilClose;
      return;
    }
    if (contentLength === 0) {
      this.complete();
      return;
    }
    this.remaining = contentLength;
    this.state = State.Length;
  }

  /** A line from `data` (joined with any partial line kept), or undefined when it is not complete yet */
  private readLine(data: Buffer, at: number): { line: string; next: number } | undefined {
    const lf = data.indexOf(10, at);
    if (lf === -1) {
      const rest = data.subarray(at);
      this.pending = this.pending === undefined ? Buffer.from(rest) : Buffer.concat([this.pending, rest]);
      if (this.pending.length > MAX_CHUNK_LINE) throw new ResponseParseError("chunk-size line or trailer too long");
      return undefined;
    }
    let bytes = data.subarray(at, lf + 1);
    if (this.pending !== undefined) {
      bytes = Buffer.concat([this.pending, bytes]);
      this.pending = undefined;
    }
    if (bytes.length > MAX_CHUNK_LINE) throw new ResponseParseError("chunk-size line or trailer too long");
    if (bytes.length < 2 || bytes[bytes.length - 2] !== 13) throw new ResponseParseError("bare LF in chunked framing");
    return { line: bytes.toString("latin1", 0, bytes.length - 2), next: lf + 1 };
  }

  private readChunkSize(data: Buffer, at: number): number {
    const read = this.readLine(data, at);
    if (read === undefined) return data.length;
    const semicolon = read.line.indexOf(";");
    const hex = (semicolon === -1 ? read.line : read.line.slice(0, semicolon)).trimEnd();
    if (!HEX.test(hex)) throw new ResponseParseError(`bad chunk size ${JSON.stringify(hex.slice(0, 16))}`);
    const size = parseInt(hex, 16);
    if (size === 0) {
      this.state = State.Trailers;
      this.trailerBytes = 0;
    } else {
      this.remaining = size;
      this.state = State.ChunkData;
    }
    return read.next;
  }

  /** The CRLF after a chunk's data; it may arrive split across reads */
  private readChunkDataEnd(data: Buffer, at: number): number {
    const read = this.readLine(data, at);
    if (read === undefined) return data.length;
    if (read.line !== "") throw new ResponseParseError("chunk data longer than its declared size");
    this.state = State.ChunkSize;
    return read.next;
  }

  /** Trailer fields after the last chunk, up to the blank line; they are read and dropped */
  private readTrailers(data: Buffer, at: number): number {
    const read = this.readLine(data, at);
    if (read === undefined) return data.length;
    this.trailerBytes += read.line.length + 2;
    if (this.trailerBytes > this.maxHeadBytes) throw new ResponseParseError("trailer section too large");
    if (read.line === "") this.complete();
    return read.next;
  }
}
