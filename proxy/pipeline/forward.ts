import type { GrpcForwarder } from "../forward/grpc.js";
import type { HttpForwarder } from "../forward/http.js";
import type { WebSocketForwarder } from "../forward/websocket.js";
import type { Handler, Stage } from "./stage.js";

export interface Forwarders {
  readonly http: HttpForwarder;
  readonly grpc: GrpcForwarder;
  readonly websocket: WebSocketForwarder;
}

/**
 * Forward: the last stage, handing the request to the forwarder of its exchange (HTTP/1.1 over undici pools,
 * gRPC over h2c sessions, WebSocket upgrades through http-proxy). It never calls `next`: nothing runs after the
 * backend has the request. Its promise settles when the exchange is over, which is when the stages around it
 * release what they hold.
 */
export function forward(forwarders: Forwarders): Stage {
  return (_next: Handler): Handler =>
    (ctx) => {
      switch (ctx.exchange.kind) {
        case "http":
          return forwarders.http.forward(ctx);
        case "grpc":
          return forwarders.grpc.forward(ctx);
        case "upgrade":
          return forwarders.websocket.forward(ctx);
      }
    };
}
