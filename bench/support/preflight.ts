import { connect } from "node:http2";

/** One request through a variant before measuring: a variant that fails is a broken setup, not a data point */
export async function httpPreflight(url: string, headers: Record<string, string>, name: string): Promise<void> {
  const res = await fetch(url, { headers });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`${name}: preflight GET answered ${res.status}: ${body.slice(0, 300)}`);
}

/** One gRPC call on a raw h2c session with the benchmark's exact headers and message; needs grpc-status 0 */
export async function grpcPreflight(origin: string, path: string, headers: Record<string, string>, message: Buffer, name: string): Promise<void> {
  const session = connect(origin);
  try {
    const status = await new Promise<string | undefined>((resolve, reject) => {
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(message.length, 1);
      const stream = session.request({ ":method": "POST", ":path": path, ...headers });
      let grpcStatus: string | undefined;
      let grpcMessage: string | undefined;
      const take = (h: Record<string, unknown>): void => {
        if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
        if (h["grpc-message"] !== undefined) grpcMessage = String(h["grpc-message"]);
      };
      stream.on("response", take);
      stream.on("trailers", take);
      stream.on("data", () => undefined);
      stream.on("close", () => resolve(grpcStatus === "0" ? "0" : `${grpcStatus} ${grpcMessage ?? ""}`));
      stream.on("error", reject);
      stream.end(Buffer.concat([frame, message]));
    });
    if (status !== "0") throw new Error(`${name}: preflight gRPC call ended with status ${status}`);
  } finally {
    session.destroy();
  }
}
