/**
 * The whole mesh for the portal's browser tests: a real control plane (PGlite, or PostgreSQL with
 * DATABASE_URL), one KYB backend, the proxy process fed by WatchTenants, and the portal — all on ephemeral
 * ports in this process — plus tenants provisioned through the real RPCs.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { credentials } from "@grpc/grpc-js";
import { issueServiceToken } from "../src/control-plane/index.js";
import { TenantServiceClient } from "../src/gen/tenantmesh/v1/tenant.js";
import { startKybService, type KybServiceHandle } from "../src/kyb/index.js";
import { silentLogger } from "../src/log/index.js";
import { bearer, callUnary, startPortal, type Portal } from "../src/portal/index.js";
import { startProxyProcess, type ProxyProcess } from "../proxy/main.js";
import { startTestControlPlane, type TestControlPlane } from "./support/control-plane.js";
import { fieldCipher } from "../src/security/index.js";

export const PASSWORD = "Portal-browser-password-1";

export interface MeshTenant {
  id: string;
  slug: string;
  name: string;
  adminEmail: string;
  apiKey: string;
}

export interface PortalMesh {
  tcp: TestControlPlane;
  kyb: KybServiceHandle;
  proxy: ProxyProcess;
  portal: Portal;
  /** http://127.0.0.1:<proxy port> */
  proxyUrl: string;
  provision(slug: string, name: string, plan?: string): Promise<MeshTenant>;
  /** Calls the proxy with a tenant's API key; resolves with the HTTP status */
  through(tenant: MeshTenant, method: string, urlPath: string, body?: unknown): Promise<number>;
  /** Waits until the proxy's directory (fed by WatchTenants) knows the tenant */
  proxyKnows(tenant: MeshTenant): Promise<void>;
  close(): Promise<void>;
}

export async function startPortalMesh(options: { refreshMs?: number } = {}): Promise<PortalMesh> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tm-portal-mesh-"));
  const tcp = await startTestControlPlane();
  const { secrets } = tcp.cp;
  const kyb = await startKybService({
    db: tcp.cp.db, identitySecret: Buffer.from(secrets.identitySecret), host: "127.0.0.1", httpPort: 0, grpcPort: 0,
    capacity: 64, serviceTimeMs: 0, logger: silentLogger, fields: fieldCipher(tcp.cp.security.keyring),
  });
  const configFile = path.join(dir, "proxy.yaml");
  writeFileSync(configFile, [
    "listen: 127.0.0.1:0",
    "admin: 127.0.0.1:0",
    `control_plane: { address: "${tcp.address}" }`,
    "clusters:",
    "  - name: kyb-http",
    "    strategy: round_robin",
    "    protocol: http",
    `    backends: [{ id: kyb-1, address: "127.0.0.1:${kyb.httpPort}", capacity: 64 }]`,
    // Lenient probes: on a busy test machine a slow /health must not take the only backend out of rotation.
    "    health_check: { path: /health, interval_ms: 1000, timeout_ms: 1000, unhealthy_threshold: 10 }",
    "routes:",
    "  - { name: businesses, match: { http_path_prefix: /v1/businesses }, cluster: kyb-http }",
    "",
  ].join("\n"));
  const proxy = await startProxyProcess({
    configFile, dataDir: dir, logger: silentLogger,
    serviceToken: issueServiceToken(secrets, "proxy-portal-test", ["tenants:watch", "sessions:verify", "usage:write", "metrics:write"]),
    apiKeyPepper: Buffer.from(secrets.apiKeyPepper), identitySecret: Buffer.from(secrets.identitySecret), operatorToken: secrets.adminToken,
    listen: { host: "127.0.0.1", port: 0 }, admin: { host: "127.0.0.1", port: 0 },
    // One-second windows: the monitor sees the scripted traffic within a second or two, not ten.
    telemetry: { windowMs: 1_000 },
    // Usage batches every quarter second: the API-call count reaches QuotaService while the test waits.
    usage: { flushIntervalMs: 250 },
  });
  const portal = await startPortal({
    controlPlaneAddress: tcp.address, host: "127.0.0.1", port: 0, logger: silentLogger, refreshMs: options.refreshMs ?? 1_000, signInFailuresPerMinute: 1_000,
  });
  const tenants = new TenantServiceClient(tcp.address, credentials.createInsecure());
  const proxyUrl = `http://127.0.0.1:${proxy.port}`;

  const through = async (tenant: MeshTenant, method: string, urlPath: string, body?: unknown): Promise<number> => {
    const res = await fetch(`${proxyUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${tenant.apiKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    await res.arrayBuffer();
    return res.status;
  };

  return {
    tcp, kyb, proxy, portal, proxyUrl, through,
    async provision(slug, name, plan = "professional") {
      const res = await callUnary(tenants, tenants.provisionTenant, {
        name, slug, planType: plan, adminEmail: `admin@${slug}.example`, adminPassword: PASSWORD, billingInfo: undefined, billingCycle: "", idempotencyKey: "",
      }, bearer(tcp.adminToken), 60_000);
      return { id: res.tenant!.id, slug, name, adminEmail: `admin@${slug}.example`, apiKey: res.apiKey };
    },
    async proxyKnows(tenant) {
      for (let i = 0; i < 200; i++) {
        if ((await through(tenant, "GET", "/v1/businesses")) === 200) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the proxy never learned tenant ${tenant.slug}`);
    },
    async close() {
      tenants.close();
      await portal.close();
      await proxy.close();
      await kyb.close();
      await tcp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
