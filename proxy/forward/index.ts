/** The forwarders the forward stage hands requests to, one per exchange kind */
export { HttpForwarder, type HttpForwarderOptions } from "./http.js";
export { GrpcForwarder, type GrpcForwarderOptions } from "./grpc.js";
export { WebSocketForwarder } from "./websocket.js";
export { upstreamGrpcHeaders, upstreamHttpHeaders, withTenantBaggage, type IdentitySigning } from "./headers.js";
export { GrpcFrameReader, parseGrpcTimeout } from "./grpc-frames.js";
