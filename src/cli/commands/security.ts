import { credentials } from "@grpc/grpc-js";
import type { Command } from "commander";
import { TenantMeshError } from "../../errors/index.js";
import { SecurityPolicy, SecurityServiceClient, type KeyInfo } from "../../gen/tenantmesh/v1/security.js";
import { resolveTenantId, unary, type ClientOptions, type Clients } from "../client.js";
import { printObject, snakeKeys } from "../output.js";
import { clientOptions, optsOf, withClients } from "./common.js";

/** Runs `fn` with a SecurityService client beside the usual ones */
async function withSecurity<T>(o: ClientOptions, fn: (c: Clients, sec: SecurityServiceClient) => Promise<T>): Promise<T> {
  return withClients(o, async (c) => {
    const sec = new SecurityServiceClient(o.addr, credentials.createInsecure());
    try {
      return await fn(c, sec);
    } finally {
      sec.close();
    }
  });
}

const list = (v: string | undefined): string[] => (v === undefined || v.trim() === "" ? [] : v.split(",").map((s) => s.trim()).filter((s) => s !== ""));
function onOff(v: string, flag: string): boolean {
  if (v === "on" || v === "true") return true;
  if (v === "off" || v === "false") return false;
  throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", `${flag} must be on or off`);
}
function int(v: string, flag: string): number {
  if (!/^\d{1,9}$/.test(v)) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", `${flag} must be a whole number`);
  return Number(v);
}

function printPolicy(p: SecurityPolicy, json: boolean | undefined): void {
  printObject({ ...snakeKeys(p), not_enforced: p.notEnforced.length === 0 ? undefined : p.notEnforced.join("; ") }, json);
}

function printKeys(k: KeyInfo, json: boolean | undefined): void {
  printObject({ ...snakeKeys(k), versions: k.versions.map((v) => `v${v.version}@${v.createdAt?.toISOString() ?? ""}`) }, json);
}

interface SetOptions extends ClientOptions {
  encryptionLevel?: string;
  accessControlLevel?: string;
  auditLevel?: string;
  retentionDays?: string;
  standards?: string;
  mfa?: string;
  sso?: string;
  networks?: string;
  countries?: string;
  keyRotationDays?: string;
}

/** The policy and update mask for the options given; only named options change */
function policyUpdate(o: SetOptions): { policy: SecurityPolicy; mask: string[] } {
  const p = SecurityPolicy.fromPartial({});
  const mask: string[] = [];
  const set = (path: string, apply: () => void): void => {
    apply();
    mask.push(path);
  };
  if (o.encryptionLevel !== undefined) set("encryption_level", () => void (p.encryptionLevel = o.encryptionLevel ?? ""));
  if (o.accessControlLevel !== undefined) set("access_control_level", () => void (p.accessControlLevel = o.accessControlLevel ?? ""));
  if (o.auditLevel !== undefined) set("audit_level", () => void (p.auditLevel = o.auditLevel ?? ""));
  if (o.retentionDays !== undefined) set("data_retention_days", () => void (p.dataRetentionDays = int(o.retentionDays ?? "", "--retention-days")));
  if (o.standards !== undefined) set("compliance_standards", () => void (p.complianceStandards = list(o.standards)));
  if (o.mfa !== undefined) set("security_features.mfa", () => void (p.securityFeatures.mfa = onOff(o.mfa ?? "", "--mfa")));
  if (o.sso !== undefined) set("security_features.sso", () => void (p.securityFeatures.sso = onOff(o.sso ?? "", "--sso")));
  if (o.networks !== undefined) set("network_restrictions", () => void (p.networkRestrictions = list(o.networks)));
  if (o.countries !== undefined) set("country_restrictions", () => void (p.countryRestrictions = list(o.countries)));
  if (o.keyRotationDays !== undefined) set("key_rotation_days", () => void (p.keyRotationDays = int(o.keyRotationDays ?? "", "--key-rotation-days")));
  if (mask.length === 0) throw new TenantMeshError("TM_ERR_INVALID_ARGUMENT", "name at least one setting to change (see --help)");
  return { policy: p, mask };
}

/** `tenantmesh security policy get|set <tenant>`, `security keys rotate|info|retire <tenant>`, `security purge`, `security master-key rotate` */
export function registerSecurityCommands(program: Command): void {
  const security = program.command("security").description("a tenant's security policy, encryption keys and purge");
  const policy = security.command("policy").description("the tenant's security policy");

  clientOptions(policy.command("get <tenant>").description("show the effective policy (plan defaults included)")).action(async (tenant: string, _o, cmd: Command) => {
    const o = optsOf<ClientOptions>(cmd);
    await withSecurity(o, async (c, sec) => printPolicy(await unary(sec, sec.getSecurityPolicy, { tenantId: await resolveTenantId(c, tenant) }, c.metadata), o.json));
  });

  clientOptions(policy.command("set <tenant>").description("change the named settings (validated as a whole; audited)"))
    .option("--encryption-level <level>", "standard | enhanced | military")
    .option("--access-control-level <level>", "basic | role_based | attribute_based")
    .option("--audit-level <level>", "basic | detailed | comprehensive")
    .option("--retention-days <n>", "data_retention_days (operators)")
    .option("--standards <list>", "compliance standards, comma-separated: SOC2,PCI-DSS,GDPR,HIPAA")
    .option("--mfa <on|off>", "require MFA of every user")
    .option("--sso <on|off>", "single sign-on (stored, not enforced)")
    .option("--networks <cidrs>", "comma-separated CIDR blocks the proxy admits; empty string for any")
    .option("--countries <codes>", "ISO country codes (stored, not enforced)")
    .option("--key-rotation-days <n>", "automatic key rotation period")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<SetOptions>(cmd);
      const { policy: p, mask } = policyUpdate(o);
      await withSecurity(o, async (c, sec) => {
        const tenantId = await resolveTenantId(c, tenant);
        printPolicy(await unary(sec, sec.updateSecurityPolicy, { tenantId, policy: p, updateMask: mask }, c.metadata), o.json);
      });
    });

  const keys = security.command("keys").description("the tenant's data keys");
  clientOptions(keys.command("rotate <tenant>").description("add a key version: new data uses it, old data still decrypts")).action(async (tenant: string, _o, cmd: Command) => {
    const o = optsOf<ClientOptions>(cmd);
    await withSecurity(o, async (c, sec) => printKeys(await unary(sec, sec.rotateKey, { tenantId: await resolveTenantId(c, tenant) }, c.metadata), o.json));
  });
  clientOptions(keys.command("info <tenant>").description("key versions, minimum decryption version, keystore")).action(async (tenant: string, _o, cmd: Command) => {
    const o = optsOf<ClientOptions>(cmd);
    await withSecurity(o, async (c, sec) => printKeys(await unary(sec, sec.getKeyInfo, { tenantId: await resolveTenantId(c, tenant) }, c.metadata), o.json));
  });
  clientOptions(keys.command("retire <tenant>").description("set the minimum decryption version"))
    .requiredOption("--below <version>", "versions below this one no longer decrypt")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { below: string }>(cmd);
      await withSecurity(o, async (c, sec) => {
        const tenantId = await resolveTenantId(c, tenant);
        printKeys(await unary(sec, sec.updateKeyConfig, { tenantId, minDecryptionVersion: int(o.below, "--below") }, c.metadata), o.json);
      });
    });

  clientOptions(security.command("purge <tenant>").description("crypto-shred a cancelled tenant: its keys are destroyed for good"))
    .requiredOption("--confirm <slug>", "the tenant's slug, repeated")
    .option("--reason <text>", "", "")
    .action(async (tenant: string, _o, cmd: Command) => {
      const o = optsOf<ClientOptions & { confirm: string; reason: string }>(cmd);
      await withSecurity(o, async (c, sec) => {
        const tenantId = await resolveTenantId(c, tenant);
        const receipt = await unary(sec, sec.purgeTenant, { tenantId, confirmSlug: o.confirm, reason: o.reason }, c.metadata, 60_000);
        printObject(snakeKeys(receipt), o.json);
      });
    });

  clientOptions(security.command("master-key").command("rotate").description("fresh master key and KEKs; every data key re-wrapped")).action(async (_o, cmd: Command) => {
    const o = optsOf<ClientOptions>(cmd);
    await withSecurity(o, async (c, sec) => printObject(snakeKeys(await unary(sec, sec.rotateMasterKey, {}, c.metadata, 300_000)), o.json));
  });
}

