/**
 * The portal's settings, from the environment like the rest of tenantmesh's (docs/portal.md). A bad value
 * stops start-up with one message naming every bad field.
 */
import { z } from "zod";
import { TenantMeshError } from "../errors/index.js";

const schema = z.object({
  TENANTMESH_PORTAL_HOST: z.string().min(1).default("127.0.0.1"),
  TENANTMESH_PORTAL_PORT: z
    .string()
    .regex(/^\d{1,5}$/, "must be a port number")
    .transform(Number)
    .pipe(z.number().int().min(0).max(65_535))
    .default(3000),
  TENANTMESH_PORTAL_SECURE_COOKIES: z.enum(["true", "false"], "must be true or false").default("false"),
  TENANTMESH_PORTAL_ORIGIN: z
    .string()
    .regex(/^https?:\/\/[^/\s]+$/, "must be an origin such as https://portal.example.com")
    .optional(),
});

export interface PortalConfig {
  host: string;
  port: number;
  secureCookies: boolean;
  publicOrigin: string | undefined;
}

export function loadPortalConfig(env: Record<string, string | undefined> = process.env): PortalConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("TENANTMESH_PORTAL_") && v !== undefined && v.trim() !== ""));
  const result = schema.safeParse(present);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new TenantMeshError("TM_ERR_INVALID_CONFIG", `invalid configuration: ${fields.join("; ")}`);
  }
  const c = result.data;
  return { host: c.TENANTMESH_PORTAL_HOST, port: c.TENANTMESH_PORTAL_PORT, secureCookies: c.TENANTMESH_PORTAL_SECURE_COOKIES === "true", publicOrigin: c.TENANTMESH_PORTAL_ORIGIN };
}
