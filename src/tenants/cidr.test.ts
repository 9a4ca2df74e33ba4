import { describe, expect, it } from "vitest";
import { normalizeCidr } from "./cidr.js";

describe("normalizeCidr", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    [" 192.168.1.0/24 ", "192.168.1.0/24"],
    ["192.0.2.7", "192.0.2.7/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:DB8::/32", "2001:db8::/32"],
    ["::1", "::1/128"],
    ["::/0", "::/0"],
    ["::ffff:192.0.2.1/128", "::ffff:192.0.2.1/128"],
  ])("takes %s as %s", (input, expected) => expect(normalizeCidr(input)).toBe(expected));

  it.each(["", "10.0.0.0/33", "10.0.0/8", "256.0.0.0/8", "10.0.0.0/", "10.0.0.0/8/8", "10.0.0.0/ 8", "2001:db8::/129", "::1/-1", "example.com", "10.0.0.0/08x"])(
    "refuses %s",
    (input) => expect(normalizeCidr(input)).toBeNull(),
  );
});
