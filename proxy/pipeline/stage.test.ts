import { describe, expect, it } from "vitest";
import { TenantMeshError } from "../../src/errors/index.js";
import type { ProxyContext } from "../context.js";
import { compose, type Handler, type Stage } from "./stage.js";

const ctx = {} as ProxyContext;
const tracing = (name: string, trace: string[]): Stage => (next) => async (c) => {
  trace.push(`${name}>`);
  const r = await next(c);
  trace.push(`<${name}`);
  return r;
};

describe("compose", () => {
  it("runs stages in list order, each wrapping the rest, ending at the terminal", async () => {
    const trace: string[] = [];
    const terminal: Handler = () => {
      trace.push("terminal");
      return Promise.resolve(undefined);
    };
    const handler = compose([{ name: "a", stage: tracing("a", trace) }, { name: "b", stage: tracing("b", trace) }], terminal);
    await handler(ctx);
    expect(trace).toEqual(["a>", "b>", "terminal", "<b", "<a"]);
  });

  it("lets a stage end the request with a failure value that outer stages see", async () => {
    const refuse: Stage = () => () => Promise.resolve(new TenantMeshError("TM_ERR_UNAUTHENTICATED", "no"));
    const trace: string[] = [];
    const handler = compose([{ name: "outer", stage: tracing("outer", trace) }, { name: "refuse", stage: refuse }], () => Promise.resolve(undefined));
    expect((await handler(ctx))?.code).toBe("TM_ERR_UNAUTHENTICATED");
    expect(trace).toEqual(["outer>", "<outer"]);
  });

  it("checks the list eagerly", () => {
    const noop: Stage = (next) => next;
    expect(() => compose([{ name: "a", stage: noop }, { name: "a", stage: noop }], () => Promise.resolve(undefined))).toThrow(/twice/);
    expect(() => compose([{ name: "bad", stage: (() => 42) as unknown as Stage }], () => Promise.resolve(undefined))).toThrow(/did not return/);
  });
});
