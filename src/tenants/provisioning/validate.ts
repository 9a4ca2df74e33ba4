import { randomBytes } from "node:crypto";
import { checkPasswordPolicy, hashPassword } from "../../auth/password.js";
import { invalidArgument, type FieldViolation } from "../../errors/index.js";
import { isPlanType, type PlanType, type ValidationRules } from "../../plans/index.js";
import { billingCycles, type BillingCycle } from "../model.js";
import { slugExists, slugTaken } from "../store.js";
import type { ProvisionInput, ProvisioningStep } from "./step.js";

export interface ValidProvisioning {
  planType: PlanType;
  billingCycle: BillingCycle;
}

/**
 * The meaning checks of a ProvisionTenant request, all at once (every violation in one INVALID_ARGUMENT, so a
 * caller fixes the request in one round trip). Pure: the slug's uniqueness is checked by the step.
 */
export function checkProvisionInput(input: ProvisionInput, rules: ValidationRules, defaultPlan: PlanType): ValidProvisioning {
  const violations: FieldViolation[] = [];
  const name = input.name.trim();
  if (name === "") violations.push({ field: "name", description: "is required" });
  else if (name.length > rules.nameMaxLength) violations.push({ field: "name", description: `must be at most ${rules.nameMaxLength} characters` });

  if (!rules.slugPattern.test(input.slug)) {
    violations.push({
      field: "slug",
      description: "must be 3 to 63 characters of a-z, 0-9 and hyphens, starting and ending with a letter or digit",
    });
  } else if (rules.reservedSlugs.has(input.slug)) {
    violations.push({ field: "slug", description: `'${input.slug}' is reserved` });
  }

  const plan = input.planType === "" ? defaultPlan : input.planType;
  if (!isPlanType(plan)) violations.push({ field: "plan_type", description: "must be one of free, basic, professional, enterprise" });

  const email = input.adminEmail.trim();
  if (email.length > rules.emailMaxLength || !rules.emailPattern.test(email)) {
    violations.push({ field: "admin_email", description: "must be an email address" });
  }

  if (input.adminPassword !== "") {
    for (const v of checkPasswordPolicy(input.adminPassword)) violations.push({ field: "admin_password", description: v.description });
  }

  const cycle = input.billingCycle === "" ? "monthly" : input.billingCycle;
  if (!(billingCycles as readonly string[]).includes(cycle)) {
    violations.push({ field: "billing_cycle", description: "must be monthly or annual" });
  }

  if (violations.length > 0) throw invalidArgument(violations);
  return { planType: plan as PlanType, billingCycle: cycle as BillingCycle };
}

/** 24 random base64url characters (~144 bits), redrawn in the rare case the password policy refuses them */
export function generatePassword(): string {
  for (;;) {
    const candidate = randomBytes(18).toString("base64url");
    if (checkPasswordPolicy(candidate).length === 0) return candidate;
  }
}

/**
 * Step 1: the request's meaning, then the slug's uniqueness (the insert's unique index still decides races).
 * Also starts hashing the admin password (generated when absent), see ProvisioningContext.adminPasswordHash.
 */
export const validateStep: ProvisioningStep = {
  name: "validate",
  async run(ctx) {
    const { config, db } = ctx.env;
    const valid = checkProvisionInput(ctx.input, config.validation, config.defaultPlan);
    ctx.planType = valid.planType;
    ctx.billingCycle = valid.billingCycle;
    let password = ctx.input.adminPassword;
    if (password === "") {
      password = generatePassword();
      ctx.generatedPassword = password;
    }
    const hash = hashPassword(password);
    // Handled here so an abandoned hash (the slug check below fails) is no unhandled rejection; awaiting it
    // later still sees a failure.
    hash.catch(() => {});
    ctx.adminPasswordHash = hash;
    if (await db.asPlatform((trx) => slugExists(trx, ctx.input.slug))) throw slugTaken(ctx.input.slug);
  },
};
