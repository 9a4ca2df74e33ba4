/**
 * The metering benchmark's load generator, run as its own process (`fork`) so that building and encoding a
 * million events does not compete with the control plane it measures for one event loop — as proxies, the real
 * senders, are other processes. Reads its job from argv (JSON), sends, prints its counts as JSON on stdout.
 */
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import { QuotaServiceClient, type RecordUsageRequest, type RecordUsageResponse } from "../../src/gen/tenantmesh/v1/quota.js";
import { batchEvents, type LoadShape } from "./usage-load.js";

export interface SenderJob {
  address: string;
  token: string;
  shape: LoadShape;
  batchSize: number;
  concurrency: number;
  /** Connections the senders spread over */
  connections: number;
  runId: string;
  /** Batch k is sent again after `replayLag` other sends when k % replayEvery === 0 */
  replayEvery: number;
  replayLag: number;
}

export interface SenderResult {
  seconds: number;
  batches: number;
  replayed: number;
  accepted: number;
  duplicates: number;
  /** Batches not applied exactly once (0: every replay was recognised) */
  wrongAnswers: number;
}

const job = JSON.parse(process.argv[2] ?? "{}") as SenderJob;
// One connection per sender, as separate proxies would have (and each its own HTTP/2 flow-control window).
const clients = Array.from(
  { length: job.connections },
  () => new QuotaServiceClient(job.address, credentials.createInsecure(), { "grpc.max_send_message_length": 8 * 1024 * 1024, "grpc.use_local_subchannel_pool": 1 }),
);
const md = new Metadata();
md.set("authorization", `Bearer ${job.token}`);
const record = (client: QuotaServiceClient, req: RecordUsageRequest): Promise<RecordUsageResponse> =>
  new Promise((resolve, reject) => client.recordUsage(req, md, (err: ServiceError | null, res) => (err ? reject(err) : resolve(res))));

const batches = Math.ceil(job.shape.events / job.batchSize);
const order: Array<{ k: number; replay: boolean }> = [];
for (let k = 0; k < batches + job.replayLag; k++) {
  if (k < batches) order.push({ k, replay: false });
  const r = k - job.replayLag;
  if (r >= 0 && r < batches && r % job.replayEvery === 0) order.push({ k: r, replay: true });
}

const result: SenderResult = { seconds: 0, batches, replayed: order.length - batches, accepted: 0, duplicates: 0, wrongAnswers: 0 };
let next = 0;
/** Batch k → how many of its sends were answered "applied" (not duplicate) */
const applied = new Map<number, number>();
const started = performance.now();
await Promise.all(
  Array.from({ length: job.concurrency }, async (_, w) => {
    const client = clients[w % clients.length] as QuotaServiceClient;
    while (next < order.length) {
      const { k } = order[next++] as { k: number; replay: boolean };
      const events = batchEvents(job.shape, k, job.batchSize);
      const res = await record(client, { batchId: `bench-${job.runId}-${k}`, events, source: "bench", returnQuotas: false });
      result.accepted += res.acceptedEvents;
      if (res.duplicate) result.duplicates++;
      else applied.set(k, (applied.get(k) ?? 0) + 1);
    }
  }),
);
// Each batch must have been applied exactly once, whichever of its sends got there first.
for (let k = 0; k < batches; k++) if (applied.get(k) !== 1) result.wrongAnswers++;
result.seconds = (performance.now() - started) / 1000;
for (const c of clients) c.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
