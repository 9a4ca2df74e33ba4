/**
 * The KYB operations, protocol-free: HTTP and gRPC both call these with a tenant id taken only from a verified
 * forwarded identity and with input already validated at their edge. Each operation is one `withTenant`
 * transaction, so every decision (module gate, quota) reads the tenant's row in the same snapshot as the data.
 * Expected failures are thrown as TenantMeshError; the edges turn them into wire responses.
 */
import type { Clock } from "../auth/clock.js";
import type { Database, Tx } from "../db/index.js";
import { invalidArgument, notFound, TenantMeshError } from "../errors/index.js";
import { businessCreatedUsage, recordInTransaction, storedBytes } from "../metering/index.js";
import { requireQuota } from "../quotas/index.js";
import { classifyBusiness } from "./classification.js";
import type { AssessedBusiness, Business, BusinessPage, ClassifiedBusiness, KybModule, NewBusiness } from "./model.js";
import { createdAtIdCursor, decodePageToken, encodePageToken } from "../grpc/page-token.js";
import { assessRisk } from "./risk.js";
import * as store from "./store.js";
import type { FieldCipher, FieldKeys } from "../security/fields.js";

/** The KYB business operations of one tenant at a time */
export interface KybService {
  /** Fails TM_ERR_QUOTA_EXCEEDED when the tenant has `max_businesses` live businesses or the business would pass storage_quota_gb */
  createBusiness(tenantId: string, input: NewBusiness): Promise<Business>;
  /** Fails TM_ERR_NOT_FOUND for an unknown id and for another tenant's business alike */
  getBusiness(tenantId: string, id: string): Promise<Business>;
  /** Oldest first; `pageToken` "" for the first page */
  listBusinesses(tenantId: string, page: { pageSize: number; pageToken: string }): Promise<BusinessPage>;
  /** Needs module `classification`; stores the industry code */
  classifyBusiness(tenantId: string, id: string): Promise<ClassifiedBusiness>;
  /** Needs module `risk_assessment`; stores the score */
  assessRisk(tenantId: string, id: string): Promise<AssessedBusiness>;
}

/**
 * The tenant's row, which must exist and be active. The proxy already refuses inactive tenants; writes check
 * again because a suspension can land between the proxy's admission and this transaction.
 */
async function activeTenant(trx: Tx, tenantId: string, lock: boolean): Promise<store.TenantLimits> {
  const limits = await store.readTenantLimits(trx, tenantId, { lock });
  if (limits === undefined || limits.status !== "active") {
    throw new TenantMeshError("TM_ERR_TENANT_INACTIVE", "the tenant does not exist or is not active");
  }
  return limits;
}

function requireModule(limits: store.TenantLimits, module: KybModule): void {
  if (!limits.enabledModules.includes(module)) {
    throw new TenantMeshError("TM_ERR_MODULE_DISABLED", `module ${module} is not enabled for this tenant`);
  }
}

async function existing(trx: Tx, id: string, keys: FieldKeys): Promise<Business> {
  const business = await store.findBusiness(trx, id, keys);
  if (business === undefined) throw notFound(`business ${id}`);
  return business;
}

/**
 * `fields` seals the registration number and the sensitive details with the tenant's own key
 * (sealed-fields.ts); every operation opens the tenant's keys inside its own transaction.
 */
export function createKybService(options: { db: Database; clock: Clock; fields: FieldCipher }): KybService {
  const { db, clock, fields } = options;
  const keysOf = (tenantId: string, trx: Tx): Promise<FieldKeys> => fields.forTenant(tenantId, trx);
  return {
    createBusiness(tenantId, input) {
      return db.withTenant(tenantId, async (trx) => {
        await activeTenant(trx, tenantId, true);
        // Both limits through the one CheckQuota, under the tenant-row lock activeTenant took: parallel creates
        // queue, so neither max_businesses nor storage_quota_gb can be overshot; the usage commits with the row.
        const now = clock.now();
        const bytes = storedBytes(input);
        await requireQuota(trx, tenantId, "businesses", 1, now);
        await requireQuota(trx, tenantId, "storage", bytes, now);
        const business = await store.insertBusiness(trx, tenantId, input, await keysOf(tenantId, trx));
        await recordInTransaction(trx, businessCreatedUsage(tenantId, bytes, now));
        return business;
      });
    },

    async getBusiness(tenantId, id) {
      // A single read needs no transaction of its own: one round trip. The keys come from the keyring's cache.
      const business = await store.readBusiness(db, tenantId, id, await fields.forTenant(tenantId));
      if (business === undefined) throw notFound(`business ${id}`);
      return business;
    },

    listBusinesses(tenantId, page) {
      const after = page.pageToken === "" ? undefined : decodePageToken(page.pageToken, createdAtIdCursor);
      return db.withTenant(tenantId, async (trx) => {
        // One row more than asked tells whether another page follows, without a second query.
        const rows = await store.listBusinesses(trx, tenantId, { after, limit: page.pageSize + 1 }, await keysOf(tenantId, trx));
        const shown = rows.slice(0, page.pageSize);
        const last = rows.length > page.pageSize ? shown.at(-1) : undefined;
        return { businesses: shown.map((r) => r.business), nextPageToken: last === undefined ? "" : encodePageToken(last.cursor) };
      });
    },

    classifyBusiness(tenantId, id) {
      return db.withTenant(tenantId, async (trx) => {
        requireModule(await activeTenant(trx, tenantId, false), "classification");
        const keys = await keysOf(tenantId, trx);
        const business = await existing(trx, id, keys);
        const classification = classifyBusiness({ name: business.name, description: business.details.description ?? null });
        const stored = await store.updateBusiness(trx, id, { industry_code: classification.industry_code }, keys);
        if (stored === undefined) throw notFound(`business ${id}`);
        return { business: stored, classification };
      });
    },

    assessRisk(tenantId, id) {
      return db.withTenant(tenantId, async (trx) => {
        requireModule(await activeTenant(trx, tenantId, false), "risk_assessment");
        const keys = await keysOf(tenantId, trx);
        const business = await existing(trx, id, keys);
        const result = assessRisk({
          country: business.country,
          industry_code: business.industryCode,
          incorporation_date: business.details.incorporation_date ?? null,
          ownership: business.details.ownership ?? null,
          now: new Date(clock.now()),
        });
        // Details are checked at creation with the same engine; this only trips on rows written around the API.
        if (!result.ok) throw invalidArgument(result.violations.map((v) => ({ field: `details.${v.field}`, description: v.description })));
        const stored = await store.updateBusiness(trx, id, { risk_score: result.value.score }, keys);
        if (stored === undefined) throw notFound(`business ${id}`);
        return { business: stored, assessment: result.value };
      });
    },
  };
}
