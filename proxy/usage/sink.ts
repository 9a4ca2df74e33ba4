import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { QuotaServiceClient, type QuotaStatus, type RecordUsageRequest, type RecordUsageResponse } from "../../src/gen/tenantmesh/v1/quota.js";

/** Where the meter sends usage: the control plane's QuotaService (an in-memory one in tests) */
export interface UsageSink {
  recordUsage(req: RecordUsageRequest): Promise<RecordUsageResponse>;
  checkQuota(tenantId: string, resourceType: string): Promise<QuotaStatus>;
  close(): void;
}

/** QuotaService over gRPC with the proxy's service token (scope usage:write), each call with a deadline */
export class GrpcUsageSink implements UsageSink {
  readonly #client: QuotaServiceClient;
  readonly #metadata = new Metadata();

  constructor(
    address: string,
    serviceToken: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.#client = new QuotaServiceClient(address, credentials.createInsecure());
    this.#metadata.set("authorization", `Bearer ${serviceToken}`);
  }

  recordUsage(req: RecordUsageRequest): Promise<RecordUsageResponse> {
    return new Promise((resolve, reject) => {
      this.#client.recordUsage(req, this.#metadata, { deadline: Date.now() + this.timeoutMs }, (err: ServiceError | null, res) => (err ? reject(err) : resolve(res)));
    });
  }

  checkQuota(tenantId: string, resourceType: string): Promise<QuotaStatus> {
    return new Promise((resolve, reject) => {
      this.#client.checkQuota({ tenantId, resourceType, amount: "0" }, this.#metadata, { deadline: Date.now() + this.timeoutMs }, (err: ServiceError | null, res) =>
        err ? reject(err) : resolve(res),
      );
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** A sink that accepts every batch and caps nothing: for benchmarks and tests without a control plane */
export const nullUsageSink: UsageSink = Object.freeze({
  recordUsage: (req: RecordUsageRequest): Promise<RecordUsageResponse> =>
    Promise.resolve({ batchId: req.batchId, duplicate: false, acceptedEvents: req.events.length, quotas: [] }),
  checkQuota: (tenantId: string, resourceType: string): Promise<QuotaStatus> =>
    Promise.resolve({
      tenantId,
      resourceType,
      quota: "",
      unit: "",
      allowed: true,
      limited: false,
      limit: "0",
      used: "0",
      remaining: "0",
      periodStart: undefined,
      periodEnd: new Date(8.64e15),
    }),
  close: () => undefined,
});
