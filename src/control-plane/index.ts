export { startControlPlane, type ControlPlane, type StartOptions } from "./start.js";
export { loadSecrets, readAdminToken, type Secrets } from "../config/secrets.js";
export type { ControlPlaneDeps, Slice, SliceFactory } from "./deps.js";
export { issueServiceToken, serviceTokenVerifier } from "./service-tokens.js";
