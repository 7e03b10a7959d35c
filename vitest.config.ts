import { defineConfig } from "vitest/config";

// Two projects: `unit` needs nothing running; `integration` (`*.int.test.ts`) gets real Kafka,
// OpenSearch and Jupyter from the service harness's global setup (or from HELK_* env endpoints).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.int.test.ts", "node_modules/**"],
          testTimeout: 60_000,
          // Some suites build a whole Pulumi program in beforeAll; the 10 s default fails on a loaded machine.
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.int.test.ts"],
          globalSetup: ["test/setup/services.ts"],
          // Fails a running test at once, naming the server, when one of the run's servers dies.
          setupFiles: ["test/setup/watch.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // The servers are shared; suites run one file at a time so they do not starve 2 cores.
          fileParallelism: false,
        },
      },
    ],
  },
});
