import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import type { ExecutorOutcome, ScaleChange, ScalingExecutor } from "./executor.js";

export interface KubernetesExecutorOptions {
  /** e.g. https://kubernetes.default.svc (in cluster) */
  readonly apiServer: string;
  /** A bearer token allowed to `patch` `deployments/scale` in the namespace */
  readonly token: string;
  readonly namespace: string;
  /** The Deployment serving a tenant; default `tenant-<slug>` */
  readonly deploymentName?: (change: ScaleChange) => string;
  /** Replicas per unit of scale (default 1) */
  readonly replicasPerUnit?: number;
  /** PEM of the API server's CA (in cluster: the service account's ca.crt) */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

/**
 * Scales a tenant's Deployment through the `scale` subresource — `PATCH
 * /apis/apps/v1/namespaces/{ns}/deployments/{name}/scale` with `{"spec":{"replicas":n}}` — so a deployment
 * that gives big tenants their own backend pods grows them with the tenant's scale. Runs after the built-in
 * proxy-share executor; docs/observability.md shows the RBAC it needs and how to enable it.
 */
export class KubernetesDeploymentExecutor implements ScalingExecutor {
  readonly name = "kubernetes-deployment";
  readonly #dispatcher: Agent | undefined;

  constructor(private readonly options: KubernetesExecutorOptions) {
    this.#dispatcher = options.ca === undefined ? undefined : new Agent({ connect: { ca: options.ca } });
  }

  /** In-cluster settings from the pod's service account (namespace and deployment naming as given) */
  static inCluster(options: Omit<KubernetesExecutorOptions, "apiServer" | "token" | "ca"> & { serviceAccountDir?: string }): KubernetesDeploymentExecutor {
    const dir = options.serviceAccountDir ?? "/var/run/secrets/kubernetes.io/serviceaccount";
    const host = process.env.KUBERNETES_SERVICE_HOST ?? "kubernetes.default.svc";
    const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
    return new KubernetesDeploymentExecutor({
      ...options,
      apiServer: `https://${host}:${port}`,
      token: readFileSync(`${dir}/token`, "utf8").trim(),
      ca: readFileSync(`${dir}/ca.crt`, "utf8"),
    });
  }

  async apply(change: ScaleChange): Promise<ExecutorOutcome> {
    const name = this.options.deploymentName?.(change) ?? `tenant-${change.slug}`;
    const replicas = change.to * (this.options.replicasPerUnit ?? 1);
    const url = `${this.options.apiServer.replace(/\/+$/, "")}/apis/apps/v1/namespaces/${encodeURIComponent(this.options.namespace)}/deployments/${encodeURIComponent(name)}/scale`;
    const res = await request(url, {
      method: "PATCH",
      headers: { authorization: `Bearer ${this.options.token}`, "content-type": "application/merge-patch+json", accept: "application/json" },
      body: JSON.stringify({ spec: { replicas } }),
      headersTimeout: this.options.timeoutMs ?? 10_000,
      bodyTimeout: this.options.timeoutMs ?? 10_000,
      ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
    });
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return { executor: this.name, ok: true, detail: `deployment ${this.options.namespace}/${name} → ${replicas} replicas` };
    return { executor: this.name, ok: false, detail: `deployment ${this.options.namespace}/${name}: HTTP ${res.statusCode} ${text.slice(0, 200)}` };
  }
}
