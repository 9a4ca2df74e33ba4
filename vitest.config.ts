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
    // Some integration tests assert timings (a suspension seen within 100 ms, capacity rounds); on a shared
    // 2-core CI machine one retry separates a real failure from a scheduling hiccup. Locally: no retry.
    retry: process.env.CI ? 1 : 0,
  },
});
