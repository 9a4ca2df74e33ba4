/** One scaling step to carry out */
export interface ScaleChange {
  readonly tenantId: string;
  readonly slug: string;
  readonly direction: "up" | "down";
  readonly from: number;
  readonly to: number;
}

/** What one executor did with a change */
export interface ExecutorOutcome {
  readonly executor: string;
  readonly ok: boolean;
  readonly detail: string;
}

/**
 * Carries a scaling decision out. The built-in ProxyShareExecutor moves the tenant's scale (its backend subset
 * and concurrency share in every proxy, through WatchTenants); deployments add others — e.g. the
 * KubernetesDeploymentExecutor, which also scales the tenant's Deployment. An executor reports failure as an
 * outcome, never by throwing: one failing executor must not stop the others or lose the scaling event.
 */
export interface ScalingExecutor {
  readonly name: string;
  apply(change: ScaleChange): Promise<ExecutorOutcome>;
}

/** Runs one executor, turning a throw (a bug or an unexpected I/O failure) into a failed outcome */
export async function runExecutor(executor: ScalingExecutor, change: ScaleChange): Promise<ExecutorOutcome> {
  try {
    return await executor.apply(change);
  } catch (err) {
    return { executor: executor.name, ok: false, detail: err instanceof Error ? err.message : String(err) };
  }
}
