import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { credentials, Metadata } from "@grpc/grpc-js";
import type { Command } from "commander";
import { loadConfig, type Config } from "../../config/index.js";
import { issueServiceToken, startControlPlane, type ControlPlane } from "../../control-plane/index.js";
import { openDatabase } from "../../db/index.js";
import { TenantServiceClient } from "../../gen/tenantmesh/v1/tenant.js";
import { startKybService, type KybServiceHandle } from "../../kyb/index.js";
import { createLogger, type Logger } from "../../log/index.js";
import { loadPortalConfig, startPortal, type Portal } from "../../portal/index.js";
import { unary } from "../client.js";
import { defaultProxyConfigFile, packageRoot } from "../mesh-files.js";
import { onShutdown } from "../shutdown.js";
import { startTracing, tracingConfigFromEnv } from "../../telemetry/index.js";
import { fieldCipher } from "../../security/index.js";

/** The three KYB backends of the embedded mesh: HTTP on 7001–7003, gRPC on 8001–8003 (examples/proxy.yaml) */
const kybBackends = [7001, 7002, 7003].map((http) => ({ http, grpc: http + 1000 }));

interface DemoTenant {
  id: string;
  slug: string;
  plan: string;
  api_key: string;
  /** The admin's generated password, kept so the demo admin can sign in to the portal (absent in older data dirs) */
  admin_email?: string;
  admin_password?: string;
}

const demoTenants = [
  { name: "Acme Corp", slug: "acme", plan: "professional", adminEmail: "admin@acme.example" },
  { name: "Globex", slug: "globex", plan: "free", adminEmail: "admin@globex.example" },
];

/** Provisions the demo tenants once and keeps their keys in `<data dir>/demo-tenants.json` (mode 0600) */
async function ensureDemoTenants(config: Config, cp: ControlPlane): Promise<DemoTenant[]> {
  const file = path.join(config.dataDir, "demo-tenants.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as DemoTenant[];
  const client = new TenantServiceClient(`127.0.0.1:${cp.port}`, credentials.createInsecure());
  const md = new Metadata();
  md.set("authorization", `Bearer ${cp.secrets.adminToken}`);
  try {
    const made: DemoTenant[] = [];
    for (const t of demoTenants) {
      const res = await unary(client, client.provisionTenant, {
        name: t.name,
        slug: t.slug,
        planType: t.plan,
        adminEmail: t.adminEmail,
        adminPassword: "",
        billingInfo: undefined,
        billingCycle: "",
        idempotencyKey: `demo-${t.slug}`,
      }, md, 60_000);
      made.push({ id: res.tenant!.id, slug: t.slug, plan: t.plan, api_key: res.apiKey, admin_email: t.adminEmail, admin_password: res.adminPassword });
    }
    writeFileSync(file, `${JSON.stringify(made, null, 2)}\n`, { mode: 0o600 });
    return made;
  } finally {
    client.close();
  }
}

/** Runs `tenantmesh proxy` as its own process, as in production, with its output passed through */
function spawnProxy(config: Config, cp: ControlPlane, logger: Logger): ChildProcess {
  const serviceToken = issueServiceToken(cp.secrets, "proxy-embedded", ["tenants:watch", "sessions:verify", "usage:write", "metrics:write"]);
  const child = spawn(process.execPath, [path.join(packageRoot, "bin", "tenantmesh.js"), "proxy", "--config", defaultProxyConfigFile(config.dataDir)], {
    env: { ...process.env, TENANTMESH_SERVICE_TOKEN: serviceToken, TENANTMESH_DATA_DIR: config.dataDir },
    stdio: ["ignore", "inherit", "inherit"],
  });
  child.on("exit", (code, signal) => {
    if (signal !== "SIGTERM") logger.error({ code, signal }, "the proxy process exited");
  });
  return child;
}

function banner(config: Config, cp: ControlPlane, tenants: DemoTenant[], portal: Portal): string {
  const acme = tenants.find((t) => t.slug === "acme") ?? tenants[0];
  return [
    "",
    "tenantmesh is up",
    `  portal (web)                  ${portal.url}   operators: the operator token · tenant admins:`,
    ...tenants.map((t) => `    ${t.slug.padEnd(8)} ${t.admin_email ?? "(admin email not recorded)"}  ${t.admin_password ?? "(password not recorded in this data dir)"}`),
    `  proxy (HTTP/1.1 + gRPC h2c)   localhost:8080      admin: http://127.0.0.1:9901/metrics`,
    `  control plane (gRPC)          localhost:${cp.port}     health + reflection`,
    `  KYB backends                  HTTP ${kybBackends.map((b) => b.http).join(", ")} · gRPC ${kybBackends.map((b) => b.grpc).join(", ")}`,
    `  database                      ${config.database.kind === "pglite" ? `embedded PGlite in ${config.database.dataDir}` : "PostgreSQL (DATABASE_URL)"}`,
    cp.secrets.adminTokenGenerated
      ? `  operator token (shown once; kept in ${cp.secrets.adminTokenFile}):\n    ${cp.secrets.adminToken}`
      : `  operator token                ${config.adminToken ? "from TENANTMESH_ADMIN_TOKEN" : `in ${cp.secrets.adminTokenFile}`}`,
    "",
    "  demo tenants (keys also in data/demo-tenants.json):",
    ...tenants.map((t) => `    ${t.slug.padEnd(8)} ${t.plan.padEnd(13)} ${t.api_key}`),
    "",
    "  try it through the proxy:",
    `    curl -s -X POST localhost:8080/v1/businesses -H 'authorization: Bearer ${acme?.api_key}' \\`,
    `      -H 'content-type: application/json' -d '{"name":"Northwind Software Ltd","country":"GB"}'`,
    `    curl -s localhost:8080/v1/businesses -H 'authorization: Bearer ${acme?.api_key}'`,
    `    grpcurl -plaintext -import-path proto -proto tenantmesh/kyb/v1/business.proto \\`,
    `      -H 'authorization: Bearer ${acme?.api_key}' -d '{"page_size":5}' localhost:8080 tenantmesh.kyb.v1.BusinessService/ListBusinesses`,
    `    npx tenantmesh tenants list`,
    "",
    "Ctrl-C stops everything.",
    "",
  ].join("\n");
}

/** `tenantmesh up` (npm start): the whole mesh on the configured, by default embedded, database */
export function registerUpCommand(program: Command): void {
  program
    .command("up")
    .description("run the whole mesh (control plane, 3 KYB backends, proxy) and print where to look")
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger({ level: config.logLevel, name: "tenantmesh" });
      const tracing = startTracing(tracingConfigFromEnv(process.env, "tenantmesh"));
      const db = openDatabase(config.database);
      const cp = await startControlPlane(config, { logger, db });
      await cp.ready;
      const kyb: KybServiceHandle[] = [];
      const proxyHolder: { child?: ChildProcess; portal?: Portal } = {};
      onShutdown(logger, async () => {
        await proxyHolder.portal?.close();
        proxyHolder.child?.kill("SIGTERM");
        for (const k of kyb) await k.close();
        await cp.close();
        await db.close();
        await tracing?.shutdown();
      });
      const identitySecret = Buffer.from(cp.secrets.identitySecret);
      for (const ports of kybBackends) {
        kyb.push(await startKybService({ db, identitySecret, host: "127.0.0.1", httpPort: ports.http, grpcPort: ports.grpc, capacity: 64, serviceTimeMs: 0, logger: logger.child({ component: "kyb", port: ports.http }), fields: fieldCipher(cp.security.keyring) }));
      }
      const tenants = await ensureDemoTenants(config, cp);
      // The portal starts before the proxy child: a busy port 3000 then stops `up` before any child process runs.
      const portal = await startPortal({ ...loadPortalConfig(), controlPlaneAddress: `127.0.0.1:${cp.port}`, logger: logger.child({ component: "portal" }) });
      proxyHolder.portal = portal;
      proxyHolder.child = spawnProxy(config, cp, logger);
      process.stdout.write(banner(config, cp, tenants, portal));
    });
}
