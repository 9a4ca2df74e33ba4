import type { z } from "zod";
import { invalidArgument } from "../errors/index.js";

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * Validates a decoded request at the edge. Violations name fields as they are on the wire (snake_case, dotted
 * paths), so a caller can find them in the .proto. Everything after this trusts the parsed value.
 */
export function parseRequest<S extends z.ZodType>(schema: S, request: unknown): z.infer<S> {
  const result = schema.safeParse(request);
  if (result.success) return result.data;
  throw invalidArgument(
    result.error.issues.map((issue) => ({
      field: issue.path.map((p) => snake(String(p))).join(".") || "(request)",
      description: issue.message,
    })),
  );
}
