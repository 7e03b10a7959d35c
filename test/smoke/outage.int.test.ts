import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJupyter, type JupyterServer } from "../../harness/jupyter.ts";
import { startKafka, type KafkaServer } from "../../harness/kafka.ts";
import { startOpenSearch, type OpenSearchServer } from "../../harness/opensearch.ts";
import type { SmokeReport } from "../../smoke/runner.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";
import { helkSmoke } from "../../harness/helk-cli.ts";
import { createTopics, deployTestStack, messageOf, statuses, writeEndpoints, type EnrichmentProcess, type TestStack } from "../../harness/smoke-stack.ts";

// Each service of a running stack is stopped in turn; `helk smoke` must then fail exactly that service's
// checks, with a message naming it, while every other check still reports, and exit non-zero. Services that
// are really stopped are private instances from the harness (and the enrichment child process), so the
// shared servers of the global setup, which other suites use, keep running.

const dir = mkdtempSync(join(tmpdir(), "helk-smoke-outage-"));
let kafka: KafkaServer;
let engine: OpenSearchServer;
let enrichment: EnrichmentProcess;
let stack: TestStack;

const allChecks = [
  "kafka.metadata",
  "kafka.topics",
  "kafka.roundtrip",
  "engine.health",
  "engine.templates",
  "engine.attack",
  "dashboards.status",
  "dashboards.saved-objects",
  "enrichment.ready",
  "enrichment.probe",
  "jupyter.status",
];

/** The expected statuses: everything passes but the dashboards UI (none deployed), with `changes` applied. */
function expected(changes: Record<string, "fail" | "skip">): Record<string, string> {
  const base = Object.fromEntries(allChecks.map((id) => [id, id.startsWith("dashboards.") ? "skip" : "pass"]));
  return { ...base, ...changes };
}

async function smoke(name: string, s: TestStack): Promise<{ report: SmokeReport; code: number }> {
  const run = await helkSmoke(["--endpoints", writeEndpoints(join(dir, `${name}.json`), s), "--json", "--timeout", "60", "--no-progress"]);
  console.log(`helk smoke, ${name}: exit ${run.code} after ${(run.ms / 1000).toFixed(1)} s`);
  return { report: JSON.parse(run.stdout) as SmokeReport, code: run.code };
}

beforeAll(async () => {
  [kafka, engine] = await Promise.all([startKafka({ heap: "384m" }), startOpenSearch({ heap: "512m" })]);
  const shared = serviceEndpoints();
  ({ stack, enrichment } = await deployTestStack({
    brokers: kafka.brokers,
    engineUrl: engine.url,
    jupyter: { url: shared.jupyterUrl, token: shared.jupyterToken },
    logDir: dir,
  }));
});

afterAll(async () => {
  await enrichment?.stop();
  await Promise.all([kafka?.stop(), engine?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe("helk smoke with one service stopped", () => {
  it("passes on the whole private stack first", async () => {
    const { report, code } = await smoke("baseline", stack);
    expect(statuses(report), JSON.stringify(report.checks, null, 1)).toEqual(expected({}));
    expect(code).toBe(0);
  });

  it("Jupyter stopped: only jupyter.status fails, naming jupyter", async () => {
    let jupyter: JupyterServer | undefined = await startJupyter();
    try {
      const withJupyter = { ...stack, jupyter: { url: jupyter.url, token: jupyter.token } };
      expect(statuses((await smoke("private jupyter", withJupyter)).report)["jupyter.status"]).toBe("pass");
      await jupyter.stop();
      jupyter = undefined;
      const { report, code } = await smoke("jupyter stopped", withJupyter);
      expect(statuses(report)).toEqual(expected({ "jupyter.status": "fail" }));
      expect(messageOf(report, "jupyter.status")).toMatch(/^jupyter at http:\/\/127\.0\.0\.1:\d+\/api\/status did not answer: ECONNREFUSED/);
      expect(code).toBe(1);
    } finally {
      await jupyter?.stop();
    }
  });

  it("enrichment stopped: only its checks fail, naming enrichment", async () => {
    await enrichment.stop();
    const { report, code } = await smoke("enrichment stopped", stack);
    expect(statuses(report)).toEqual(expected({ "enrichment.ready": "fail", "enrichment.probe": "fail" }));
    expect(messageOf(report, "enrichment.ready")).toMatch(/^enrichment at http:\/\/127\.0\.0\.1:\d+\/readyz did not answer: ECONNREFUSED$/);
    expect(messageOf(report, "enrichment.probe")).toMatch(/^not run, enrichment\.ready failed: enrichment at /);
    expect(code).toBe(1);
  });

  it("Kafka stopped: the Kafka checks fail naming kafka; the enrichment checks, which need it, are skipped", async () => {
    await kafka.stop();
    const { report, code } = await smoke("kafka stopped", stack);
    expect(statuses(report)).toEqual(
      expected({ "kafka.metadata": "fail", "kafka.topics": "fail", "kafka.roundtrip": "fail", "enrichment.ready": "skip", "enrichment.probe": "skip" }),
    );
    for (const id of ["kafka.metadata", "kafka.topics", "kafka.roundtrip"]) expect(messageOf(report, id)).toMatch(new RegExp(`^kafka at ${kafka.bootstrap} unreachable`));
    expect(messageOf(report, "enrichment.probe")).toContain("kafka.metadata (failed)");
    expect(code).toBe(1);
  });

  it("OpenSearch stopped: the engine checks fail naming opensearch; the enrichment checks are skipped", async () => {
    await engine.stop();
    // Kafka of this scenario: the shared one (the private one is stopped), with the stack's topics.
    const shared = serviceEndpoints();
    await createTopics(shared.kafkaBrokers, stack.topics);
    const { report, code } = await smoke("opensearch stopped", { ...stack, brokers: shared.kafkaBrokers });
    expect(statuses(report)).toEqual(
      expected({ "engine.health": "fail", "engine.templates": "fail", "engine.attack": "fail", "enrichment.ready": "skip", "enrichment.probe": "skip" }),
    );
    for (const id of ["engine.health", "engine.templates", "engine.attack"]) {
      expect(messageOf(report, id)).toMatch(new RegExp(`^opensearch at ${engine.url.replace(/\./g, "\\.")} \\(GET [^)]+\\) did not answer`));
    }
    expect(code).toBe(1);
  });
});
