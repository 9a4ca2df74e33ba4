export { createAuthenticator, type Authenticator, type CredentialVerifier, type Verifiers } from "./authenticate.js";
export { errorCodeOf, serviceErrorOf, toServiceError } from "./errors.js";
export { RpcKit, type ClientStreamHandler, type Policy, type RpcContext, type RpcKitOptions, type StreamHandler, type UnaryHandler } from "./rpc.js";
export { protoRoot, startGrpcServer, type GrpcServerHandle, type ServiceRegistration } from "./server.js";
export { parseRequest } from "./validate.js";
