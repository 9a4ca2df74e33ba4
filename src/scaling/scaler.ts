/**
 * The seed's TenantScaler and ScalingConfig, as pure functions: given a tenant's scaler state, its utilization
 * and the time, what to do. No I/O and no clock of its own, so every rule is checked table-driven in tests.
 *
 * Rules (the seed's semantics):
 * - utilization above `scaleUpThreshold` (80%) scales up, below `scaleDownThreshold` (20%) down, else nothing;
 * - a scale-up needs `scaleUpCooldown` (2 min) since the last scaling, a scale-down `scaleDownCooldown` (5 min);
 * - the target is the scale that would bring utilization back to the up-threshold, ceil(current × u / 0.8),
 *   clamped to [min, max];
 * - one step moves toward the target by at most +50% (`maxScaleUpRate`) or −25% (`maxScaleDownRate`) of the
 *   current scale, rounded down, but always by at least one unit, and never past min or max.
 */
export interface ScalingConfig {
  readonly scaleUpCooldownMs: number;
  readonly scaleDownCooldownMs: number;
  readonly scaleUpThreshold: number;
  readonly scaleDownThreshold: number;
  readonly maxScaleUpRate: number;
  readonly maxScaleDownRate: number;
}

export const defaultScalingConfig: ScalingConfig = Object.freeze({
  scaleUpCooldownMs: 2 * 60_000,
  scaleDownCooldownMs: 5 * 60_000,
  scaleUpThreshold: 0.8,
  scaleDownThreshold: 0.2,
  maxScaleUpRate: 0.5,
  maxScaleDownRate: 0.25,
});

/** One tenant's scaler: current/min/max from the tenant (min and max by plan), the rest from scaling state */
export interface TenantScaler {
  readonly tenantId: string;
  readonly currentScale: number;
  readonly minScale: number;
  readonly maxScale: number;
  /** Epoch ms of the last scaling, or undefined when it never scaled */
  readonly lastScalingAt: number | undefined;
}

export type ScalingDecision =
  | { readonly action: "none"; readonly target: number; readonly reason: string }
  | { readonly action: "up" | "down"; readonly from: number; readonly to: number; readonly target: number; readonly reason: string };

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const clamp = (n: number, min: number, max: number): number => Math.min(max, Math.max(min, n));

/** The scale that would put utilization `u` (measured at `current`) back at the up-threshold, within bounds */
export function targetScale(s: TenantScaler, utilization: number, config: ScalingConfig = defaultScalingConfig): number {
  const ideal = Math.ceil((s.currentScale * utilization) / config.scaleUpThreshold - 1e-9);
  return clamp(Math.max(1, ideal), s.minScale, s.maxScale);
}

export function decide(s: TenantScaler, utilization: number, now: number, config: ScalingConfig = defaultScalingConfig): ScalingDecision {
  const { currentScale: current, minScale: min, maxScale: max } = s;
  const target = targetScale(s, utilization, config);
  const since = s.lastScalingAt === undefined ? Infinity : now - s.lastScalingAt;
  if (current < min || current > max) {
    // Out of bounds (a plan change moved them): back inside at once, cooldowns do not apply to a correction.
    const to = clamp(current, min, max);
    return { action: to > current ? "up" : "down", from: current, to, target, reason: `scale ${current} is outside the plan's bounds [${min}, ${max}]` };
  }
  if (utilization > config.scaleUpThreshold) {
    if (current >= max) return { action: "none", target, reason: `utilization ${pct(utilization)} is above ${pct(config.scaleUpThreshold)} but scale is at its maximum ${max}` };
    if (since < config.scaleUpCooldownMs) return { action: "none", target, reason: `scale-up cooling down (${Math.ceil((config.scaleUpCooldownMs - since) / 1_000)} s left)` };
    const step = Math.max(1, Math.floor(current * config.maxScaleUpRate));
    const to = Math.min(max, Math.max(current + 1, Math.min(target, current + step)));
    return { action: "up", from: current, to, target, reason: `utilization ${pct(utilization)} is above ${pct(config.scaleUpThreshold)}` };
  }
  if (utilization < config.scaleDownThreshold) {
    if (current <= min) return { action: "none", target, reason: `utilization ${pct(utilization)} is below ${pct(config.scaleDownThreshold)} but scale is at its minimum ${min}` };
    if (since < config.scaleDownCooldownMs) return { action: "none", target, reason: `scale-down cooling down (${Math.ceil((config.scaleDownCooldownMs - since) / 1_000)} s left)` };
    const step = Math.max(1, Math.floor(current * config.maxScaleDownRate));
    const to = Math.max(min, Math.min(current - 1, Math.max(target, current - step)));
    return { action: "down", from: current, to, target, reason: `utilization ${pct(utilization)} is below ${pct(config.scaleDownThreshold)}` };
  }
  return { action: "none", target: current, reason: `utilization ${pct(utilization)} is within ${pct(config.scaleDownThreshold)}–${pct(config.scaleUpThreshold)}` };
}
