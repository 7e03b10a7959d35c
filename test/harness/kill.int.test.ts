import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

it("a server killed mid-run fails the test using it at once, naming the server, and the run goes on", async () => {
  // A child vitest run with the integration setup and its own Kafka (the other endpoints are given), whose
  // fixture kills that Kafka under a consumer that would otherwise wait for its 300 s test timeout.
  const started = Date.now();
  const result = await run("npx", ["vitest", "run", "--config", "test/harness/fixtures/vitest.kill.config.ts", "--reporter", "verbose"], {
    cwd: repoRoot,
    timeout: 240_000,
    env: {
      ...process.env,
      HELK_TEST_KAFKA_BROKERS: "",
      HELK_TEST_ENGINE_URL: "http://127.0.0.1:9",
      HELK_TEST_JUPYTER_URL: "http://127.0.0.1:9",
      HELK_TEST_JUPYTER_TOKEN: "unused",
      NO_COLOR: "1",
    },
  }).then(
    () => ({ code: 0, output: "" }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, output: error.stdout + error.stderr }),
  );
  const seconds = (Date.now() - started) / 1000;

  expect(result.code, result.output).toBe(1);
  expect(result.output).toMatch(/× .*waits for a message while its Kafka is killed/);
  expect(result.output).toMatch(/Kafka \(pid \d+\) was killed by SIGKILL; log tail:/);
  expect(result.output).toMatch(/✓ .*still runs tests that do not use Kafka/);
  expect(result.output).toMatch(/× .*fails a later test that reads Kafka's endpoint/);
  expect(result.output).toContain("Tests  2 failed | 1 passed (3)");
  expect(seconds).toBeLessThan(150);
});
