import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { permissions, roleGrants, roles, serviceScopes } from "../src/authz/index.js";

/** docs/permissions.md is the reference for people: it must say what src/authz/roles.ts does */
const doc = readFileSync(new URL("../docs/permissions.md", import.meta.url), "utf8");

/** The role-defaults table: permission → the roles ticked in its row, in the header's column order */
function documentedDefaults(): Map<string, string[]> {
  const lines = doc.split("\n").filter((l) => l.startsWith("| "));
  const header = lines.find((l) => l.startsWith("| Permission |"));
  if (header === undefined) throw new Error("docs/permissions.md has no role-defaults table");
  const columns = header.split("|").slice(2, -1).map((c) => c.trim());
  const rows = new Map<string, string[]>();
  for (const line of lines) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    const name = /^`([a-z]+:[a-z]+)`$/.exec(cells[0] ?? "")?.[1];
    if (name === undefined || cells.length !== columns.length + 1) continue;
    rows.set(name, columns.filter((_, i) => cells[i + 1] === "✓"));
  }
  return rows;
}

describe("docs/permissions.md", () => {
  it("lists every permission with exactly the roles that grant it by default", () => {
    const documented = documentedDefaults();
    expect([...documented.keys()].sort()).toEqual([...permissions].sort());
    for (const p of permissions) {
      expect(documented.get(p)?.sort(), p).toEqual(roles.filter((r) => roleGrants[r].has(p)).sort());
    }
  });

  it("describes every permission, every service scope and every principal kind", () => {
    for (const p of permissions) expect(doc, p).toMatch(new RegExp("^- .*`" + p + "`", "m"));
    for (const s of serviceScopes) expect(doc, s).toContain(`\`${s}\``);
    for (const kind of ["operator", "service", "user", "api_key"]) expect(doc, kind).toContain(`| \`${kind}\` |`);
  });
});
