import { credentials, Metadata, type Client, type ServiceError } from "@grpc/grpc-js";
import { loadConfig, readAdminToken } from "../config/index.js";
import { TenantMeshError } from "../errors/index.js";
import { TenantServiceClient } from "../gen/tenantmesh/v1/tenant.js";
import { UserServiceClient } from "../gen/tenantmesh/v1/user.js";

/** Options every client verb takes */
export interface ClientOptions {
  addr: string;
  token?: string;
  json?: boolean;
}

export interface Clients {
  tenants: TenantServiceClient;
  users: UserServiceClient;
  metadata: Metadata;
  close(): void;
}

/** Connects to the control plane with the given token, else the operator token (env, then the data dir) */
export function connect(opts: ClientOptions): Clients {
  const token = opts.token ?? readAdminToken(loadConfig().dataDir);
  const metadata = new Metadata();
  if (token) metadata.set("authorization", `Bearer ${token}`);
  const creds = credentials.createInsecure();
  const tenants = new TenantServiceClient(opts.addr, creds);
  const users = new UserServiceClient(opts.addr, creds);
  return {
    tenants,
    users,
    metadata,
    close() {
      tenants.close();
      users.close();
    },
  };
}

/** One unary call as a promise, with a deadline; a failure becomes a one-line TenantMeshError-like message */
export function unary<Req, Res>(
  client: Client,
  method: (req: Req, md: Metadata, options: { deadline: number }, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata,
  timeoutMs = 15_000,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (!err) return resolve(res);
      const code = err.metadata?.get("tm-error-code")[0];
      reject(new TenantMeshError("TM_ERR_UNAVAILABLE", `${err.details || err.message}${code ? ` (${String(code)})` : ""}`));
    });
  });
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A tenant argument may be an id or a slug: slugs are resolved with GetTenant */
export async function resolveTenantId(c: Clients, idOrSlug: string): Promise<string> {
  if (uuid.test(idOrSlug)) return idOrSlug;
  const tenant = await unary(c.tenants, c.tenants.getTenant, { slug: idOrSlug }, c.metadata);
  return tenant.id;
}
