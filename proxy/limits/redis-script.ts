import type { Redis } from "ioredis";

/**
 * The shared token buckets as one Lua script, so a decision is atomic across every proxy replica: read both
 * buckets, refill, and take a token from each or from neither, in one round trip. The same arithmetic as
 * token-bucket.ts. Time comes from Redis (`TIME`), not from the replicas, so clock skew between replicas
 * cannot mint tokens. A bucket's key expires once it would be full again (a missing key reads as full), so
 * idle tenants cost Redis nothing. Both keys share the `{tenant}` hash tag: one slot on a Redis Cluster.
 *
 * KEYS: minute bucket, second bucket. ARGV: minute rate per ms, minute capacity, second rate per ms, second
 * capacity (a rate of 0 means the tenant has no such limit).
 * Returns { allowed (1|0), refusing bucket (0 none, 1 minute, 2 second), tokens left, ms until a token }.
 */
const lua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function level(key, rate, cap)
  if rate <= 0 then return nil end
  local v = redis.call('HMGET', key, 't', 'a')
  local tokens, at = tonumber(v[1]), tonumber(v[2])
  if tokens == nil or at == nil then return cap end
  if now > at then tokens = tokens + (now - at) * rate end
  if tokens > cap then tokens = cap end
  return tokens
end
local mr, mc, sr, sc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local m = level(KEYS[1], mr, mc)
local s = level(KEYS[2], sr, sc)
if m ~= nil and m < 1 then return {0, 1, tostring(m), tostring((1 - m) / mr)} end
if s ~= nil and s < 1 then return {0, 2, tostring(s), tostring((1 - s) / sr)} end
local left = -1
if m ~= nil then
  redis.call('HSET', KEYS[1], 't', tostring(m - 1), 'a', now)
  redis.call('PEXPIRE', KEYS[1], math.ceil(mc / mr) + 1000)
  left = m - 1
end
if s ~= nil then
  redis.call('HSET', KEYS[2], 't', tostring(s - 1), 'a', now)
  redis.call('PEXPIRE', KEYS[2], math.ceil(sc / sr) + 1000)
  if left < 0 then left = s - 1 end
end
return {1, 0, tostring(left), '0'}
`;

/** A tenant's buckets as the script takes them: rate per ms and capacity, a rate of 0 for a limit it lacks */
export interface SharedBuckets {
  readonly minuteRate: number;
  readonly minuteCap: number;
  readonly secondRate: number;
  readonly secondCap: number;
}

/** The script's answer, parsed */
export interface BucketAnswer {
  readonly allowed: boolean;
  readonly refusedBy: "minute" | "second" | undefined;
  readonly tokens: number;
  readonly waitMs: number;
}

type ScriptReply = [number, number, string, string];
type WithThrottleCommand = Redis & {
  tenantmeshThrottle(minuteKey: string, secondKey: string, mr: number, mc: number, sr: number, sc: number): Promise<ScriptReply>;
};

/**
 * Registers the script on `redis` (EVALSHA, falling back to EVAL once after a Redis restart flushed its script
 * cache; ioredis handles NOSCRIPT) and returns the function that runs it for one tenant.
 */
export function bucketScript(redis: Redis, keyPrefix: string) {
  if (!("tenantmeshThrottle" in redis)) redis.defineCommand("tenantmeshThrottle", { numberOfKeys: 2, lua });
  const command = redis as WithThrottleCommand;
  return async (tenantId: string, b: SharedBuckets): Promise<BucketAnswer> => {
    const base = `${keyPrefix}{${tenantId}}`;
    const [allowed, refused, tokens, wait] = await command.tenantmeshThrottle(`${base}:m`, `${base}:s`, b.minuteRate, b.minuteCap, b.secondRate, b.secondCap);
    return {
      allowed: allowed === 1,
      refusedBy: refused === 1 ? "minute" : refused === 2 ? "second" : undefined,
      tokens: Number(tokens),
      waitMs: Number(wait),
    };
  };
}
