import { errorCatalogue, type ErrorCode } from "./catalogue.js";

/** One offending field of a request, as named on the wire (snake_case) */
export interface FieldViolation {
  field: string;
  description: string;
}

/**
 * The base error of tenantmesh: a stable catalogue code plus a message safe to show to the caller.
 * Expected failures are thrown as (or returned as) this type; anything else reaching an edge is a bug and is
 * reported as TM_ERR_INTERNAL without its message or stack.
 */
/**
 * Builds an expected refusal without capturing a stack trace. A proxy under a flood answers thousands of 429s a
 * second; each is an answer, not a fault, and V8's stack capture was about a third of the cost of answering one.
 */
export function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export class TenantMeshError extends Error {
  readonly code: ErrorCode;
  readonly violations: readonly FieldViolation[];
  /** Seconds a client should wait before retrying, where the error is retryable */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options: { violations?: FieldViolation[]; retryAfterSeconds?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TenantMeshError";
    this.code = code;
    this.violations = options.violations ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get grpcStatus(): number {
    return errorCatalogue[this.code].grpc;
  }

  get httpStatus(): number {
    return errorCatalogue[this.code].http;
  }

  /** The JSON body the HTTP edges answer with */
  toJSON(): { error: { code: ErrorCode; message: string; violations?: FieldViolation[] } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.violations.length > 0 ? { violations: [...this.violations] } : {}),
      },
    };
  }
}

export const invalidArgument = (violations: FieldViolation[]): TenantMeshError =>
  new TenantMeshError(
    "TM_ERR_INVALID_ARGUMENT",
    `invalid request: ${violations.map((v) => `${v.field}: ${v.description}`).join("; ")}`,
    { violations },
  );

export const notFound = (what: string): TenantMeshError => new TenantMeshError("TM_ERR_NOT_FOUND", `${what} not found`);

export const permissionDenied = (message = "permission denied"): TenantMeshError =>
  new TenantMeshError("TM_ERR_PERMISSION_DENIED", message);

export const quotaExceeded = (quota: string, limit: number, used: number): TenantMeshError =>
  new TenantMeshError("TM_ERR_QUOTA_EXCEEDED", `quota ${quota} exhausted: limit ${limit}, used ${used}`);
