/**
 * How a business and the engines' results look on each wire: snake_case JSON with explicit nulls for HTTP, the
 * generated messages (absent optional fields) for gRPC. Both are built from the same domain objects, so the
 * two APIs cannot drift apart field by field.
 */
import type * as pb from "../gen/tenantmesh/kyb/v1/business.js";
import type { Classification } from "./classification.js";
import type { AssessedBusiness, Business, BusinessPage, ClassifiedBusiness } from "./model.js";
import type { RiskAssessment } from "./risk.js";

export function businessJson(b: Business): Record<string, unknown> {
  return {
    id: b.id,
    tenant_id: b.tenantId,
    name: b.name,
    registration_number: b.registrationNumber,
    country: b.country,
    industry_code: b.industryCode,
    status: b.status,
    risk_score: b.riskScore,
    details: b.details,
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
  };
}

export const pageJson = (page: BusinessPage): Record<string, unknown> => ({
  businesses: page.businesses.map(businessJson),
  next_page_token: page.nextPageToken,
});

export const classifiedJson = (r: ClassifiedBusiness): Record<string, unknown> => ({
  business: businessJson(r.business),
  classification: r.classification,
});

export const assessedJson = (r: AssessedBusiness): Record<string, unknown> => ({
  business: businessJson(r.business),
  assessment: r.assessment,
});

export function businessMessage(b: Business): pb.Business {
  return {
    id: b.id,
    tenantId: b.tenantId,
    name: b.name,
    registrationNumber: b.registrationNumber ?? undefined,
    country: b.country,
    industryCode: b.industryCode ?? undefined,
    status: b.status,
    riskScore: b.riskScore ?? undefined,
    details: { ...b.details },
    createdAt: b.createdAt,
    updatedAt: b.updatedAt,
  };
}

export const pageMessage = (page: BusinessPage): pb.ListBusinessesResponse => ({
  businesses: page.businesses.map(businessMessage),
  nextPageToken: page.nextPageToken,
});

const classificationMessage = (c: Classification): pb.Classification => ({
  industryCode: c.industry_code,
  industryTitle: c.industry_title,
  confidence: c.confidence,
  matchedRule: c.matched_rule ?? "",
  matchedTerms: [...c.matched_terms],
});

const assessmentMessage = (a: RiskAssessment): pb.RiskAssessment => ({
  score: a.score,
  level: a.level,
  factors: a.factors.map((f) => ({ factor: f.factor, points: f.points, reason: f.reason })),
});

export const classifiedMessage = (r: ClassifiedBusiness): pb.ClassifyBusinessResponse => ({
  business: businessMessage(r.business),
  classification: classificationMessage(r.classification),
});

export const assessedMessage = (r: AssessedBusiness): pb.AssessRiskResponse => ({
  business: businessMessage(r.business),
  assessment: assessmentMessage(r.assessment),
});
