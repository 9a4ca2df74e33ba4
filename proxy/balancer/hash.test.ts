import { describe, expect, it } from "vitest";
import { fmix32, fnv1a32, rendezvousScore } from "./hash.js";

describe("hash", () => {
  it("fnv1a32 matches the published FNV-1a 32-bit test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("fnv1a32 continued from a seed equals hashing the concatenation", () => {
    expect(fnv1a32("bar", fnv1a32("foo"))).toBe(fnv1a32("foobar"));
  });

  it("fmix32 spreads ids that differ only in their last character over the high and low bits", () => {
    const a = fmix32(fnv1a32("tenant-1"));
    const b = fmix32(fnv1a32("tenant-2"));
    const differing = (a ^ b).toString(2).replace(/0/g, "").length;
    expect(differing).toBeGreaterThan(8);
    expect(a & 0xffff).not.toBe(b & 0xffff);
  });

  it("rendezvousScore is deterministic, positive, and scales with weight", () => {
    const t = fnv1a32("acme");
    expect(rendezvousScore(t, "b1", 1)).toBe(rendezvousScore(t, "b1", 1));
    expect(rendezvousScore(t, "b1", 1)).toBeGreaterThan(0);
    expect(rendezvousScore(t, "b1", 2)).toBeCloseTo(2 * rendezvousScore(t, "b1", 1));
  });
});
