import type { IncomingMessage, ServerResponse } from "node:http";
import { TenantMeshError, toTenantMeshError } from "../errors/index.js";
import type { Logger } from "../log/index.js";

/** Request bodies above this are refused with 413 before they are buffered */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The catalogue has no code for an oversized body; it is an invalid request (TM_ERR_INVALID_ARGUMENT) whose
 * HTTP status is the more precise 413. Only the HTTP edge ever raises it.
 */
class PayloadTooLargeError extends TenantMeshError {
  constructor() {
    super("TM_ERR_INVALID_ARGUMENT", `request body exceeds ${MAX_BODY_BYTES} bytes`, {
      violations: [{ field: "(body)", description: `must be at most ${MAX_BODY_BYTES} bytes` }],
    });
  }

  override get httpStatus(): number {
    return 413;
  }
}

const badBody = (description: string): TenantMeshError =>
  new TenantMeshError("TM_ERR_INVALID_ARGUMENT", `invalid request: (body): ${description}`, {
    violations: [{ field: "(body)", description }],
  });

/** The whole body as text, refusing (413) a declared or an actual length above MAX_BODY_BYTES */
export function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) return Promise.reject(new PayloadTooLargeError());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off("data", onData);
        // Keep draining without buffering, so the 413 can be written on this connection.
        req.resume();
        reject(new PayloadTooLargeError());
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.once("error", reject);
  });
}

/** The body parsed as JSON: empty or malformed is 400 */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === "") throw badBody("a JSON object is required");
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badBody("is not valid JSON");
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * The HTTP edge's one place where errors become responses: catalogue errors keep their code, status and
 * message; anything else is logged with its stack and answered as TM_ERR_INTERNAL without detail.
 */
export function sendError(res: ServerResponse, err: unknown, log: Logger): void {
  const error = toTenantMeshError(err);
  if (error.code === "TM_ERR_INTERNAL") log.error({ err }, "internal error");
  else if (error.code === "TM_ERR_DATABASE_UNAVAILABLE") log.warn({ err: (err as Error).message }, "database unavailable");
  const headers: Record<string, string> = {};
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(error.retryAfterSeconds);
  // A refused oversized body is still arriving: close the connection rather than read the rest.
  if (error.httpStatus === 413) headers.connection = "close";
  sendJson(res, error.httpStatus, error.toJSON(), headers);
}
