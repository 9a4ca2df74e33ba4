import { ONE_TIME_TOKEN_TTL_MS } from "../auth/index.js";
import type { SliceFactory } from "../control-plane/deps.js";
import type { UsersDeps } from "./context.js";
import { userServiceImplementation, UserServiceService } from "./grpc.js";
import { createSessionChecker, sessionVerifier } from "./sessions.js";
import { fieldCipher } from "../security/fields.js";

/** Tunables of the users slice; the defaults are what `usersSlice` uses */
export interface UsersSliceOptions {
  /** Lifetime of a session (token and row); default 1 h, at most 24 h (the token format's cap) */
  sessionTtlMs?: number;
  /** Lifetime of a password-reset token; default 30 min */
  resetTtlMs?: number;
}

export const DEFAULT_SESSION_TTL_MS = 60 * 60_000;

/** Builds the users slice: tenantmesh.v1.UserService (with VerifySession for proxies) and the `tms_…` verifier */
export function createUsersSlice(options: UsersSliceOptions = {}): SliceFactory {
  return ({ db, kit, secrets, clock, logger, security }) => {
    if (security === undefined) throw new Error("the users slice needs deps.security: MFA secrets are stored encrypted");
    const deps: UsersDeps = {
      db,
      clock,
      tokenSecrets: Buffer.from(secrets.tokenSecret),
      logger,
      sessionTtlMs: options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
      resetTtlMs: options.resetTtlMs ?? ONE_TIME_TOKEN_TTL_MS,
      fields: fieldCipher(security.keyring),
    };
    const sessions = createSessionChecker({ db, clock, secrets: deps.tokenSecrets });
    return {
      services: [
        {
          name: "tenantmesh.v1.UserService",
          definition: UserServiceService,
          implementation: userServiceImplementation(kit, deps, sessions),
        },
      ],
      protoFiles: ["tenantmesh/v1/user.proto"],
      verifiers: { session: sessionVerifier(sessions) },
    };
  };
}

/** The users slice with default settings, as listed in control-plane/slices.ts */
export const usersSlice: SliceFactory = createUsersSlice();
