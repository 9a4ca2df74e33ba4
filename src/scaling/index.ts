/** Per-tenant autoscaling: the seed's TenantScaler rules, the manager that applies them, and executors */
export { decide, defaultScalingConfig, targetScale, type ScalingConfig, type ScalingDecision, type TenantScaler } from "./scaler.js";
export { runExecutor, type ExecutorOutcome, type ScaleChange, type ScalingExecutor } from "./executor.js";
export { ProxyShareExecutor } from "./proxy-share-executor.js";
export { KubernetesDeploymentExecutor, type KubernetesExecutorOptions } from "./kubernetes-executor.js";
export { measure, ScalingManager, type Evaluation, type ScalingManagerOptions, type Utilization } from "./manager.js";
export { activeScalers, listScalingEvents, scalerOf, type ScalerRow, type ScalingEventRow } from "./store.js";
