import type { Backend } from "../upstream/backend.js";
import { strategyNames, type Balancer, type BalancerFactory, type BalancerOptions, type StrategyName } from "./balancer.js";
import { LeastConnectionsBalancer } from "./least-connections.js";
import { RoundRobinBalancer } from "./round-robin.js";
import { TenantAffinityBalancer } from "./tenant-affinity.js";

export {
  strategyNames,
  type Balancer,
  type BalancerFactory,
  type BalancerOptions,
  type PickRequest,
  type PickResult,
  type PickTenant,
  type StrategyName,
} from "./balancer.js";
export { LeastConnectionsBalancer } from "./least-connections.js";
export { RoundRobinBalancer } from "./round-robin.js";
export { TenantAffinityBalancer } from "./tenant-affinity.js";

/**
 * The strategy registry: an explicit table rather than self-registration at import time, so what exists is
 * readable here and the type checker fails when a name in `strategyNames` has no factory.
 */
const factories: { readonly [name in StrategyName]: BalancerFactory } = {
  "round-robin": (backends) => new RoundRobinBalancer(backends),
  "least-connections": (backends) => new LeastConnectionsBalancer(backends),
  "tenant-affinity": (backends, options) => new TenantAffinityBalancer(backends, options),
};

/** Narrows a configured string to a strategy name, for config validation */
export function isStrategyName(name: string): name is StrategyName {
  return (strategyNames as readonly string[]).includes(name);
}

/**
 * Builds the balancer a cluster names in its configuration over its current backends. Throws (a configuration
 * bug, caught at start-up) on an unknown name, duplicate backend ids or out-of-range options.
 */
export function createBalancer(strategy: StrategyName, backends: readonly Backend[], options: BalancerOptions = {}): Balancer {
  if (!isStrategyName(strategy)) throw new RangeError(`unknown balancing strategy ${String(strategy)}`);
  return factories[strategy](backends, options);
}
