/**
 * Test fixtures of the KYB slice (imported by test/kyb*.test.ts and benchmarks, never by production code):
 * tenants inserted straight into `tenants`, a KYB backend on ephemeral ports, and the headers/metadata a proxy
 * would forward, signed with the backend's identity secret.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import type { Clock } from "../auth/clock.js";
import type { Database } from "../db/index.js";
import * as pb from "../gen/tenantmesh/kyb/v1/business.js";
import { EchoServiceClient } from "../gen/tenantmesh/kyb/v1/echo.js";
import { errorCodeOf } from "../grpc/index.js";
import { identityHeaders, signIdentity } from "../identity/index.js";
import { silentLogger } from "../log/index.js";
import { startKybService, type KybServiceHandle } from "./server.js";
import type { FieldCipher } from "../security/fields.js";
import { memoryFieldCipher } from "../security/testing.js";

/** Inserts an active tenant with the given KYB modules and business limit */
export async function insertKybTenant(
  db: Database,
  options: { modules?: string[]; maxBusinesses?: number | null; status?: string } = {},
): Promise<string> {
  const slug = `kyb-${randomBytes(5).toString("hex")}`;
  const [row] = (await db.asPlatform((trx) =>
    trx("tenants")
      .insert({
        name: `Tenant ${slug}`,
        slug,
        plan_type: "professional",
        status: options.status ?? "active",
        enabled_modules: JSON.stringify(options.modules ?? ["classification", "risk_assessment"]),
        max_businesses: options.maxBusinesses === undefined ? 1000 : options.maxBusinesses,
      })
      .returning(["id"]),
  )) as Array<{ id: string }>;
  if (row === undefined) throw new Error("tenant insert returned nothing");
  return row.id;
}

/** The four identity headers a proxy forwards for `tenantId`, signed now (or at `atMs`) */
export function signedHeaders(secret: Buffer, tenantId: string, options: { atMs?: number; principal?: string } = {}): Record<string, string> {
  const identity = { tenantId, principal: options.principal ?? "api_key:test", requestId: randomUUID() };
  return {
    [identityHeaders.tenantId]: identity.tenantId,
    [identityHeaders.principal]: identity.principal,
    [identityHeaders.requestId]: identity.requestId,
    [identityHeaders.signature]: signIdentity(secret, identity, options.atMs ?? Date.now()),
  };
}

/** The same as gRPC metadata */
export function signedMetadata(secret: Buffer, tenantId: string, options: { atMs?: number; principal?: string } = {}): Metadata {
  const md = new Metadata();
  for (const [key, value] of Object.entries(signedHeaders(secret, tenantId, options))) md.set(key, value);
  return md;
}

/** A running test backend with its secret and clients; `close` stops the clients and the servers */
export interface TestKyb {
  handle: KybServiceHandle;
  secret: Buffer;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  grpcAddress: string;
  business: pb.BusinessServiceClient;
  /** The BusinessService methods as promises; `md` is the call's metadata (the signed identity) */
  rpc: BusinessRpc;
  echo: EchoServiceClient;
  close(): Promise<void>;
}

/** A KYB backend on 127.0.0.1, ephemeral ports, a fresh identity secret, and gRPC clients for it */
export async function startTestKyb(
  db: Database,
  options: { capacity?: number; serviceTimeMs?: number; clock?: Clock; fields?: FieldCipher } = {},
): Promise<TestKyb> {
  const secret = randomBytes(32);
  const handle = await startKybService({
    db,
    // Real encryption with in-memory KEKs, unless the test shares a control plane's keyring
    fields: options.fields ?? memoryFieldCipher(db),
    identitySecret: secret,
    host: "127.0.0.1",
    httpPort: 0,
    grpcPort: 0,
    capacity: options.capacity ?? 8,
    serviceTimeMs: options.serviceTimeMs ?? 0,
    logger: silentLogger,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const grpcAddress = `127.0.0.1:${handle.grpcPort}`;
  const business = new pb.BusinessServiceClient(grpcAddress, credentials.createInsecure());
  const echo = new EchoServiceClient(grpcAddress, credentials.createInsecure());
  return {
    handle,
    secret,
    baseUrl: `http://127.0.0.1:${handle.httpPort}`,
    grpcAddress,
    business,
    rpc: businessRpc(business),
    echo,
    async close() {
      business.close();
      echo.close();
      await handle.close();
    },
  };
}

type Rpc<Req, Res> = (req: Req, md: Metadata) => Promise<Res>;

/** BusinessService as promise-returning functions (the generated client's overloads defeat inference) */
export interface BusinessRpc {
  createBusiness: Rpc<pb.CreateBusinessRequest, pb.Business>;
  getBusiness: Rpc<pb.GetBusinessRequest, pb.Business>;
  listBusinesses: Rpc<pb.ListBusinessesRequest, pb.ListBusinessesResponse>;
  classifyBusiness: Rpc<pb.ClassifyBusinessRequest, pb.ClassifyBusinessResponse>;
  assessRisk: Rpc<pb.AssessRiskRequest, pb.AssessRiskResponse>;
}

export function businessRpc(client: pb.BusinessServiceClient): BusinessRpc {
  return {
    createBusiness: (req, md) => unaryCall(client.createBusiness, client, req, md),
    getBusiness: (req, md) => unaryCall(client.getBusiness, client, req, md),
    listBusinesses: (req, md) => unaryCall(client.listBusinesses, client, req, md),
    classifyBusiness: (req, md) => unaryCall(client.classifyBusiness, client, req, md),
    assessRisk: (req, md) => unaryCall(client.assessRisk, client, req, md),
  };
}

/** A unary call of a generated client as a promise */
export function unaryCall<Req, Res>(
  method: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  client: object,
  req: Req,
  md: Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** A failed call's gRPC status and catalogue code */
export async function grpcFailure(promise: Promise<unknown>): Promise<{ code: number; tmCode: string | undefined; details: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, tmCode: errorCodeOf(e), details: e.details };
  }
  throw new Error("the call succeeded; a failure was expected");
}
