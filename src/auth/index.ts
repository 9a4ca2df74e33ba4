/** The credential primitives of the control plane; pure functions over node:crypto and an injected Clock */
export { ManualClock, systemClock, type Clock } from "./clock.js";
export {
  generateTotpSecret,
  otpauthUri,
  totpCode,
  totpCounter,
  verifyTotp,
  type TotpOptions,
  type VerifyTotpOptions,
} from "./totp.js";
export {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  checkPasswordPolicy,
  hashPassword,
  needsRehash,
  verifyPassword,
} from "./password.js";
export {
  generateApiKey,
  hashApiKeySecret,
  keyPrefix,
  parseApiKey,
  verifyApiKeySecret,
  type ApiKey,
} from "./api-key.js";
export {
  MAX_CLOCK_SKEW_MS,
  tokenKeyId,
  type TokenFailure,
  type TokenSecrets,
  type TokenVerification,
} from "./signed-token.js";
export {
  SESSION_TOKEN_MAX_TTL_MS,
  signSessionToken,
  verifySessionToken,
  type SessionClaims,
} from "./session-token.js";
export { hasScope, signServiceToken, verifyServiceToken, type ServiceClaims } from "./service-token.js";
export {
  ONE_TIME_TOKEN_TTL_MS,
  checkOneTimeToken,
  generateOneTimeToken,
  hashOneTimeToken,
  isOneTimeTokenExpired,
  oneTimeTokenExpiresAt,
} from "./one-time-token.js";
