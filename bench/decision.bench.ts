/**
 * What the isolation layer costs per request: `npx tsx bench/decision.bench.ts`.
 *
 * - uncontended (the goal, < 5 µs): the throttle's decision for a tenant under all its limits — concurrency
 *   slot, per-minute bucket, per-second bucket — plus the fair queue's part when the cluster has room (the pick
 *   stage only reads its depth), and the release at the end of the request;
 * - the adaptive cluster's gate in front of the balancer (its in-flight sums and light-tenant check), measured
 *   as adaptive pick minus plain pick over 4 backends, and added to the uncontended figure;
 * - contended, for scale: a request that must wait — enqueue, dispatch on a freed slot (virtual-time tag, heap
 *   update), settle — with 100 tenants waiting.
 * 1,000 tenants with plan-like quotas take turns, so the per-tenant maps are warm and realistic in size. Each
 * figure is the median of several timed rounds after a warm-up (JIT tiering and GC pauses stay out of it).
 * Last line: `decision: X.XX µs` (the uncontended throttle + queue cost plus the adaptive gate).
 */
import { ManualClock } from "../src/auth/clock.js";
import { queueAllFull } from "../proxy/balancer/balancer.js";
import type { PickResult } from "../proxy/balancer/index.js";
import { tenantEntryFromConfig } from "../proxy/directory/entry.js";
import { tenantConfig } from "../proxy/directory/testing.js";
import type { TenantEntry } from "../proxy/directory/types.js";
import { AdaptiveCluster } from "../proxy/limits/adaptive.js";
import { FairDispatchQueue } from "../proxy/limits/fair-queue.js";
import { LocalThrottle } from "../proxy/limits/local-throttle.js";
import { Backend } from "../proxy/upstream/backend.js";
import { UpstreamCluster } from "../proxy/upstream/cluster.js";

const rounds = 7;
const perRound = 1_000_000;
const tenantCount = 1_000;

const tenants: TenantEntry[] = Array.from({ length: tenantCount }, (_, i) => {
  const config = tenantConfig(`tenant-${i}`, {
    apiRateLimit: 600_000_000,
    burst: 1_000_000,
    priorityLevel: 1 + (i % 10),
    performanceQuota: { maxResponseTimeMs: 5_000, maxThroughputRps: 10_000_000, maxConcurrentReqs: 100, cpuQuotaMillicores: 0, memoryQuotaMb: 0, databaseConnections: 0, cacheEntries: 0 },
  });
  return tenantEntryFromConfig(config)!.entry;
});

function medianOf(run: (n: number) => void, n: number): number {
  run(n); // warm-up
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    run(n);
    samples.push(Number(process.hrtime.bigint() - start) / n / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[rounds >> 1]!;
}

// Uncontended: admit, the pick stage's look at the queue, release — the clock moving 1 µs per request
const clock = new ManualClock(1_000);
const throttle = new LocalThrottle({ clock });
const idle = new FairDispatchQueue({ clock, maxLength: 1_000, maxWaitMs: 1_000 });
let admitted = 0;
const uncontended = medianOf((n) => {
  for (let i = 0, t = 0; i < n; i++, t = t + 1 === tenantCount ? 0 : t + 1) {
    clock.advance(0.001);
    const decision = throttle.admit(tenants[t]!);
    if (decision.kind !== "allow") continue;
    if (idle.depth > 0) idle.onRelease();
    admitted++;
    decision.release();
  }
}, perRound);
if (admitted !== perRound * (rounds + 1)) throw new Error(`only ${admitted} of ${perRound * (rounds + 1)} admitted: the limits bound the benchmark`);

// Contended: 100 tenants keep one waiter each in the queue; each step enqueues one and frees one slot
const backend = new Backend({ id: "b", address: "127.0.0.1:1", capacity: 1_000_000_000 });
const picked: PickResult = { kind: "pick", backend };
let free = 0;
const busy = new FairDispatchQueue({ clock, maxLength: 10_000, maxWaitMs: 60_000, expireEveryMs: 60_000 });
const waiterOf = (t: TenantEntry) => ({
  tenant: t,
  tryAcquire: (): PickResult => {
    if (free === 0) return queueAllFull;
    free--;
    return picked;
  },
});
for (let t = 0; t < 100; t++) busy.enqueue(waiterOf(tenants[t]!));
const contended = medianOf((n) => {
  for (let i = 0, t = 0; i < n; i++, t = t + 1 === 100 ? 0 : t + 1) {
    busy.enqueue(waiterOf(tenants[t]!));
    free = 1;
    busy.onRelease();
  }
}, perRound / 10);
if (busy.depth !== 100) throw new Error(`queue depth drifted to ${busy.depth}`);

// The adaptive gate: the same round-robin pick with and without the AdaptiveCluster in front
const plain = new UpstreamCluster({ name: "c", strategy: "round_robin", protocol: "http", backends: [0, 1, 2, 3].map((i) => ({ id: `b${i}`, address: `127.0.0.1:${7000 + i}`, capacity: 8 })) });
for (const b of plain.backends()) for (let j = 0; j < 3; j++) b.acquire(`filler-${j}`);
const gated = new AdaptiveCluster(plain, clock);
const who = tenants.map((t) => ({ id: t.id, priority: t.priority, scale: 1 }));
let picks = 0;
const pickWith = (c: { pick: UpstreamCluster["pick"] }) => (n: number) => {
  for (let i = 0, t = 0; i < n; i++, t = t + 1 === tenantCount ? 0 : t + 1) if (c.pick(who[t]!, 1_000).kind === "pick") picks++;
};
const plainPick = medianOf(pickWith(plain), perRound);
const gatedPick = medianOf(pickWith(gated), perRound);
if (picks !== 2 * perRound * (rounds + 1)) throw new Error("a pick failed");
const gate = Math.max(0, gatedPick - plainPick);

console.log(`adaptive cluster gate (in front of a 4-backend round-robin pick)  ${gate.toFixed(3)} µs/request`);
console.log(`throttle + queue, uncontended (admit, queue check, release)   ${uncontended.toFixed(3)} µs/request`);
console.log(`fair queue, contended (enqueue, dispatch, settle; 100 waiting)  ${contended.toFixed(3)} µs/request`);
console.log(`decision: ${(uncontended + gate).toFixed(2)} µs`);
process.exit(0);
