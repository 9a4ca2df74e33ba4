import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/** The absolute path of an executable on PATH (or in the extra directories), or undefined */
export function findBinary(name: string, extraDirs: string[] = []): string | undefined {
  for (const dir of extraDirs) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * For tests that need a binary the machine may lack: returns a skip reason when it is missing — so the test is
 * skipped visibly with that reason — but throws when CI is set, where a missing binary is a broken pipeline.
 */
export function missingBinaryReason(name: string, extraDirs: string[] = []): string | undefined {
  if (findBinary(name, extraDirs)) return undefined;
  const reason = `${name} is not installed on this machine`;
  if (process.env.CI) throw new Error(`${reason}, and CI must run every test`);
  return reason;
}
