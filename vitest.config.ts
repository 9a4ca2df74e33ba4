import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "proxy/**/*.test.ts", "test/**/*.test.ts"],
    // PGlite starts in ~4 s; integration tests start real servers. Two cores: keep workers few.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});
