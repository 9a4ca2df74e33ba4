/** FNV-1a 32-bit offset basis: the seed to start a fresh hash from */
export const fnvOffsetBasis = 0x811c9dc5;

/**
 * FNV-1a (32-bit) over the UTF-16 code units of `text`, continuing from `seed`, so a pair can be hashed as
 * `fnv1a32(b, fnv1a32(a))` without concatenating strings. Identical to byte-wise FNV-1a for ASCII; for other
 * text it is stable but not interoperable, which is all rendezvous hashing needs.
 */
export function fnv1a32(text: string, seed: number = fnvOffsetBasis): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * murmur3's 32-bit finaliser. FNV's last step only carries differences upwards, so ids that differ in their last
 * character ("tenant-1", "tenant-2") would share low bits; this avalanche spreads every input bit over the output.
 */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The rendezvous (highest-random-weight) score of a backend for a tenant: weighted HRW, -weight / ln(u) with u
 * the pair's hash mapped into (0, 1). With equal weights the order is the hash order; a backend of weight 2 is
 * ranked first for twice as many tenants. `tenantHash` is `fnv1a32(tenantId)`, computed once per tenant.
 */
export function rendezvousScore(tenantHash: number, backendId: string, weight: number): number {
  // A separator keeps ("ab", "c") and ("a", "bc") apart
  const pair = fmix32(fnv1a32(backendId, fnv1a32("\u001f", tenantHash)));
  const u = (pair + 0.5) / 4294967296;
  return -weight / Math.log(u);
}
