/** The KYB business service: what other parts of tenantmesh (the `up` command, tests, benchmarks) may use */
export { startKybService, KYB_PROTO_FILES, type KybServiceHandle, type KybServiceOptions } from "./server.js";
export { createKybService, type KybService } from "./service.js";
export { Capacity, type Release } from "./capacity.js";
export { MAX_BODY_BYTES } from "./http-io.js";
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_DETAILS_BYTES } from "./validation.js";
export { UNAUTHENTICATED_MESSAGE } from "./identity.js";
export { classifyBusiness, UNCLASSIFIED, type Classification, type ClassificationInput } from "./classification.js";
export { assessRisk, riskLevel, type RiskAssessment, type RiskFactor, type RiskInput, type RiskLevel } from "./risk.js";
export type { Business, BusinessDetails, BusinessPage, BusinessStatus, KybModule, NewBusiness } from "./model.js";
export type { EchoStats } from "./runtime.js";
