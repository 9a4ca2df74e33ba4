/**
 * Calling the control plane's gRPC services from the portal (its web server and the dashboard's loopback
 * calls): one unary call as a promise with a deadline, the caller's credential as metadata, and a failure
 * turned back into the catalogue error the server raised, so the portal answers with the same code.
 */
import { Metadata, status, type Client, type ServiceError } from "@grpc/grpc-js";
import { errorCatalogue, TenantMeshError, type ErrorCode, type FieldViolation } from "../errors/index.js";

/** A failed control-plane call: the server's catalogue code (or one derived from the gRPC status) */
export class RpcError extends TenantMeshError {
  constructor(
    code: ErrorCode,
    message: string,
    /** The gRPC status the call ended with; UNIMPLEMENTED means the service is not in this deployment */
    readonly grpcCode: number,
    violations: FieldViolation[] = [],
  ) {
    super(code, message, { violations });
    this.name = "RpcError";
  }

  /** True when the server does not know the method: its service is not part of this deployment */
  get unimplemented(): boolean {
    return this.grpcCode === status.UNIMPLEMENTED;
  }
}

const isErrorCode = (v: unknown): v is ErrorCode => typeof v === "string" && Object.hasOwn(errorCatalogue, v);

/** Codes for failures that carry no catalogue code (transport errors, a server from another build) */
function codeForStatus(code: number): ErrorCode {
  switch (code) {
    case status.UNAUTHENTICATED:
      return "TM_ERR_UNAUTHENTICATED";
    case status.PERMISSION_DENIED:
      return "TM_ERR_PERMISSION_DENIED";
    case status.NOT_FOUND:
      return "TM_ERR_NOT_FOUND";
    case status.INVALID_ARGUMENT:
      return "TM_ERR_INVALID_ARGUMENT";
    case status.DEADLINE_EXCEEDED:
      return "TM_ERR_DEADLINE_EXCEEDED";
    case status.UNAVAILABLE:
    case status.UNIMPLEMENTED:
      return "TM_ERR_UNAVAILABLE";
    default:
      return "TM_ERR_INTERNAL";
  }
}

function violationsOf(md: Metadata | undefined): FieldViolation[] {
  const raw = md?.get("tm-violations")[0];
  if (typeof raw !== "string") return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((v): v is FieldViolation => typeof v?.field === "string" && typeof v?.description === "string") : [];
  } catch {
    return [];
  }
}

/** The catalogue error behind a grpc-js ServiceError */
export function fromServiceError(err: ServiceError): RpcError {
  const tm = err.metadata?.get("tm-error-code")[0];
  const code = isErrorCode(tm) ? tm : codeForStatus(err.code);
  const message = err.code === status.UNIMPLEMENTED && !isErrorCode(tm) ? "not available in this deployment" : err.details || err.message;
  return new RpcError(code, message, err.code, violationsOf(err.metadata));
}

/** Metadata carrying `authorization: Bearer <credential>` (and the request id, so logs on both sides join) */
export function bearer(credential: string, requestId?: string): Metadata {
  const md = new Metadata();
  md.set("authorization", `Bearer ${credential}`);
  if (requestId !== undefined) md.set("x-request-id", requestId);
  return md;
}

type UnaryMethod<Req, Res> = (req: Req, md: Metadata, options: { deadline: number }, cb: (err: ServiceError | null, res: Res) => void) => unknown;

/** One unary call as a promise; a failure rejects with an RpcError */
export function callUnary<Req, Res>(client: Client, method: UnaryMethod<Req, Res>, req: Req, md: Metadata, timeoutMs = 10_000): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(fromServiceError(err)) : resolve(res)));
  });
}
