import type { Classification } from "./classification.js";
import type { Ownership, RiskAssessment } from "./risk.js";

/** The review states of a business (the `businesses.status` CHECK) */
export type BusinessStatus = "pending" | "in_review" | "verified" | "rejected";

/**
 * The free-form `details` of a business. Only the keys below have a meaning (classification reads the
 * description, risk assessment the rest); any other key is stored and returned as given.
 */
export interface BusinessDetails {
  readonly description?: string | null;
  /** Calendar date "YYYY-MM-DD" */
  readonly incorporation_date?: string | null;
  readonly ownership?: Ownership | null;
  readonly [key: string]: unknown;
}

/** A business of one tenant, as the store maps it from its row */
export interface Business {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly registrationNumber: string | null;
  /** ISO 3166-1 alpha-2, upper case */
  readonly country: string;
  /** NAICS code set by classification; null until classified */
  readonly industryCode: string | null;
  readonly status: BusinessStatus;
  /** 0..100 set by risk assessment; null until assessed */
  readonly riskScore: number | null;
  readonly details: BusinessDetails;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What a caller may set when creating a business (validated: see `validation.ts`) */
export interface NewBusiness {
  readonly name: string;
  readonly registrationNumber: string | null;
  readonly country: string;
  readonly details: BusinessDetails;
}

/** One page of a listing; `nextPageToken` is "" on the last page */
export interface BusinessPage {
  readonly businesses: readonly Business[];
  readonly nextPageToken: string;
}

export interface ClassifiedBusiness {
  readonly business: Business;
  readonly classification: Classification;
}

export interface AssessedBusiness {
  readonly business: Business;
  readonly assessment: RiskAssessment;
}

/** The tenant modules that gate KYB operations (values of `tenants.enabled_modules`) */
export type KybModule = "classification" | "risk_assessment";
