export { errorCatalogue, errorCodes, type ErrorCode } from "./catalogue.js";
export {
  TenantMeshError,
  invalidArgument,
  notFound,
  permissionDenied,
  quotaExceeded,
  type FieldViolation,
} from "./tenantmesh-error.js";
export { toTenantMeshError } from "./classify.js";
