import { TenantMeshError, withoutStack } from "../../src/errors/index.js";
import { isAddressAllowed } from "../directory/static.js";
import type { Handler, Stage } from "./stage.js";

/**
 * Admit: may this tenant send this request at all? Refuses, in this order (cheapest and most telling first):
 * a tenant that is not `active` (TM_ERR_TENANT_INACTIVE), a route whose module the tenant has not enabled
 * (TM_ERR_MODULE_DISABLED), and a caller address outside the tenant's network restrictions
 * (TM_ERR_NETWORK_RESTRICTED; IPv4-mapped IPv6 addresses from a dual-stack listener match IPv4 blocks).
 *
 * Every answer is read from the tenant entry the directory holds now, so a suspension or restriction change
 * from the feed applies to the next request.
 */
export function admit(): Stage {
  return (next: Handler): Handler =>
    (ctx) => {
      const tenant = ctx.tenant;
      if (tenant === undefined) throw new Error("admit runs after identify: the context has no tenant");
      if (tenant.status !== "active") {
        return Promise.resolve(withoutStack(() => new TenantMeshError("TM_ERR_TENANT_INACTIVE", `tenant ${tenant.slug} is ${tenant.status}`)));
      }
      const module = ctx.route?.module;
      if (module !== undefined && !tenant.enabledModules.has(module)) {
        return Promise.resolve(withoutStack(() => new TenantMeshError("TM_ERR_MODULE_DISABLED", `module ${module} is not enabled for tenant ${tenant.slug}`)));
      }
      if (tenant.allowedNetworks !== undefined && !isAddressAllowed(tenant, ctx.clientAddress)) {
        return Promise.resolve(withoutStack(() => new TenantMeshError("TM_ERR_NETWORK_RESTRICTED", `address ${ctx.clientAddress} is outside tenant ${tenant.slug}'s network restrictions`)));
      }
      return next(ctx);
    };
}
