export { identityHeaders, signIdentity, verifyIdentity, type ForwardedIdentity, type IdentityCheck } from "./forwarded-identity.js";
