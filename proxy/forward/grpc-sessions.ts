import { connect, type ClientHttp2Session } from "node:http2";

export interface SessionPoolOptions {
  /** An upstream session with no streams for this long is closed (default 60 s) */
  readonly idleTimeoutMs: number;
  /** HTTP/2 flow-control window per stream and per connection, so a fast backend is not held to 64 KiB per RTT */
  readonly windowBytes: number;
}

/**
 * One h2c session per backend address, shared by every call to it (HTTP/2 multiplexes; the backend's capacity,
 * enforced by the pick stage, bounds the streams). A session that receives GOAWAY, errors or closes is dropped
 * at once, so the next call reconnects; calls already on it finish or fail on their own.
 */
export class Http2SessionPool {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private closed = false;

  constructor(private readonly options: SessionPoolOptions) {}

  session(address: string): ClientHttp2Session {
    const existing = this.sessions.get(address);
    if (existing !== undefined && !existing.closed && !existing.destroyed) return existing;
    if (this.closed) throw new Error("the session pool is closed");
    const session = connect(`http://${address}`, {
      settings: { enablePush: false, initialWindowSize: this.options.windowBytes },
    });
    const drop = (): void => {
      if (this.sessions.get(address) === session) this.sessions.delete(address);
    };
    // Errors also reach each stream of the session, where the forwarder classifies them; here they only retire it
    session.on("error", drop);
    session.on("goaway", drop);
    session.on("close", drop);
    session.once("connect", () => session.setLocalWindowSize(this.options.windowBytes));
    session.setTimeout(this.options.idleTimeoutMs, () => {
      drop();
      session.close();
    });
    this.sessions.set(address, session);
    return session;
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}
