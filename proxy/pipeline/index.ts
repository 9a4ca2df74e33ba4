/** The request pipeline: one stage per file, composed once by proxy/proxy.ts */
export { compose, type Handler, type NamedStage, type Stage, type StageResult } from "./stage.js";
export { identify, type IdentifyOptions } from "./identify.js";
export { route } from "./route.js";
export { admit } from "./admit.js";
export { throttle, ConcurrencyThrottle, unlimitedThrottle, type InFlightObserver, type Throttle, type ThrottleDecision } from "./throttle.js";
export { pick, type PickStageOptions } from "./pick.js";
export { FifoDispatchQueue, type DispatchQueue, type FifoQueueOptions, type QueueOutcome, type QueueTicket, type QueueWaiter } from "./dispatch-queue.js";
export { forward, type Forwarders } from "./forward.js";
export { record, type RequestHook, type RequestMetrics } from "./record.js";
export { entryPoints, type EntryOptions } from "./entry.js";
