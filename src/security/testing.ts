/**
 * Test fixtures of the security slice (tests and benchmarks only, never production code): a keyring over an
 * in-memory keystore, for servers a test builds without a control plane; SecurityService and ComplianceService
 * clients with a promise form of their calls.
 */
import { systemClock, type Clock } from "../auth/clock.js";
import type { Database } from "../db/index.js";
import { fieldCipher, type FieldCipher } from "./fields.js";
import { LocalKeyStore } from "./keystore.js";
import { createSecurityRuntime, type SecurityRuntime } from "./runtime.js";
import { credentials, type CallOptions, type Client, type Metadata, type ServiceError } from "@grpc/grpc-js";
import { ComplianceServiceClient } from "../gen/tenantmesh/v1/compliance.js";
import { SecurityServiceClient } from "../gen/tenantmesh/v1/security.js";

/** A security runtime whose KEKs live in this process's memory only */
export function memorySecurityRuntime(db: Database, clock: Clock = systemClock): SecurityRuntime {
  return createSecurityRuntime({ db, clock, keystore: new LocalKeyStore() });
}

/**
 * One in-memory runtime per database: every test server over the same database must share its KEKs, or keys
 * one made could not be unwrapped by the other.
 */
const shared = new WeakMap<Database, SecurityRuntime>();

/** Column encryption with in-memory KEKs: real encryption, shared by every server of this process on `db` */
export function memoryFieldCipher(db: Database, clock: Clock = systemClock): FieldCipher {
  let runtime = shared.get(db);
  if (runtime === undefined) {
    runtime = memorySecurityRuntime(db, clock);
    shared.set(db, runtime);
  }
  return fieldCipher(runtime.keyring);
}


export const securityClient = (address: string): SecurityServiceClient => new SecurityServiceClient(address, credentials.createInsecure());
export const complianceClient = (address: string): ComplianceServiceClient => new ComplianceServiceClient(address, credentials.createInsecure());

/** Promise form of any ts-proto unary method, bound to its client */
export function unaryCall<C extends Client, Req, Res>(
  client: C,
  method: (req: Req, md: Metadata, options: Partial<CallOptions>, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, {}, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
