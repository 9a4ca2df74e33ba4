import { isIP } from "node:net";

/**
 * A CIDR block in canonical text (`10.0.0.0/8`, `2001:db8::/32`), or null when `value` is none. A bare address
 * is taken as a single host (/32 or /128). Host bits below the prefix are allowed: enforcement masks them
 * (net.BlockList.addSubnet), and refusing `10.1.2.3/8` would only annoy.
 */
export function normalizeCidr(value: string): string | null {
  const text = value.trim();
  const slash = text.indexOf("/");
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return null;
  const maxPrefix = version === 4 ? 32 : 128;
  if (slash === -1) return `${address.toLowerCase()}/${maxPrefix}`;
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > maxPrefix) return null;
  return `${address.toLowerCase()}/${prefix}`;
}
