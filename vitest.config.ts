import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests use their own queue prefixes, so files can run in parallel; the machine
    // has 2 cores, so keep the pool small for the process-spawning e2e tests.
    maxWorkers: 2,
    reporters: ["default"],
  },
});
