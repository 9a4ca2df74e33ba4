export { errorCatalogue, errorCodes, type ErrorCode } from "./catalogue.js";
export {
  TenantMeshError,
  invalidArgument,
  notFound,
  permissionDenied,
  quotaExceeded,
  withoutStack,
  type FieldViolation,
} from "./tenantmesh-error.js";
export { toTenantMeshError } from "./classify.js";
