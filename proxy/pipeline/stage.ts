import type { TenantMeshError } from "../../src/errors/index.js";
import type { ProxyContext } from "../context.js";

/**
 * What a handler resolves to: `undefined` when the exchange was handled (forwarded, or cancelled by the
 * client), or the expected failure that ended it. Failures are values, not throws, so that every stage can see
 * them pass (the throttle releases, the record stage counts) and exactly one place, `respond.ts`, turns them
 * into wire responses. A rejected promise means a bug; the entry point answers it as TM_ERR_INTERNAL.
 */
export type StageResult = TenantMeshError | undefined;

/**
 * Handles one request to its end. The promise settles when the exchange is over (the response has ended or
 * the client went away), so a stage that holds a resource around `next` holds it exactly that long.
 */
export type Handler = (ctx: ProxyContext) => Promise<StageResult>;

/** One feature of the pipeline, wrapping the handler after it (undici's interceptor shape) */
export type Stage = (next: Handler) => Handler;

/** A stage with the name it is listed and logged under */
export interface NamedStage {
  readonly name: string;
  readonly stage: Stage;
}

/**
 * Composes the stages once, at start-up, into one handler: the first listed runs first and wraps all others.
 * The list is checked eagerly (a missing stage or duplicate name is a wiring bug that must not wait for the
 * first request), and `terminal` answers any request that falls through the last stage.
 */
export function compose(stages: readonly NamedStage[], terminal: Handler): Handler {
  const seen = new Set<string>();
  for (const s of stages) {
    if (typeof s.stage !== "function") throw new TypeError(`pipeline stage ${s.name} is not a function`);
    if (seen.has(s.name)) throw new TypeError(`pipeline stage ${s.name} is listed twice`);
    seen.add(s.name);
  }
  let handler = terminal;
  for (let i = stages.length - 1; i >= 0; i--) {
    const next = handler;
    handler = stages[i]!.stage(next);
    if (typeof handler !== "function") throw new TypeError(`pipeline stage ${stages[i]!.name} did not return a handler`);
  }
  return handler;
}
