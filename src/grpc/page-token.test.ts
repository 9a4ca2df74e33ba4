import { describe, expect, it } from "vitest";
import { z } from "zod";
import { TenantMeshError } from "../errors/index.js";
import { createdAtIdCursor, decodePageToken, encodePageToken } from "./page-token.js";

const cursor = { createdAt: "2026-11-29 10:00:00.123456+00", id: "0b8a0d35-52a5-4a6c-9e67-2f7a1c3e9d10" };

describe("page tokens", () => {
  it("round-trip a keyset position for the same filters", () => {
    expect(decodePageToken(encodePageToken(cursor, ["active", ""]), createdAtIdCursor, ["active", ""])).toEqual(cursor);
  });

  it("refuse a token replayed with other filters, edited, or not matching the position's shape", () => {
    const token = encodePageToken(cursor, ["active"]);
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
        return "accepted";
      } catch (err) {
        return (err as TenantMeshError).code;
      }
    };
    expect(codeOf(() => decodePageToken(token, createdAtIdCursor, ["suspended"]))).toBe("TM_ERR_INVALID_ARGUMENT");
    expect(codeOf(() => decodePageToken(`${token}x`, createdAtIdCursor, ["active"]))).toBe("TM_ERR_INVALID_ARGUMENT");
    expect(codeOf(() => decodePageToken("not a token!", createdAtIdCursor))).toBe("TM_ERR_INVALID_ARGUMENT");
    const forged = encodePageToken({ createdAt: "1; DROP TABLE x", id: cursor.id });
    expect(codeOf(() => decodePageToken(forged, createdAtIdCursor))).toBe("TM_ERR_INVALID_ARGUMENT");
    expect(codeOf(() => decodePageToken(encodePageToken({ after: 3 }), z.object({ after: z.string() })))).toBe("TM_ERR_INVALID_ARGUMENT");
  });
});
