import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboards } from "../../dashboards/definitions.ts";
import { createEngine } from "../../lib/engine.ts";
import { serviceEndpoints } from "../setup/endpoints.ts";
import { startDashboardsApi, type DashboardsApi } from "../support/dashboards-api.ts";
import { helkSmoke } from "../../harness/helk-cli.ts";
import { deployTestStack, pulumiStackWith, statuses, writeEndpoints, type EnrichmentProcess, type TestStack } from "../../harness/smoke-stack.ts";

// `helk smoke` against the real Kafka, OpenSearch and Jupyter of the harness, with the enrichment service
// running as a child process (`tsx enrichment/main.ts`) and ATT&CK loaded: the stack a `pulumi up` deploys,
// minus the dashboards UI, which no server here can provide (a stand-in answers its documented API instead).

const dir = mkdtempSync(join(tmpdir(), "helk-smoke-int-"));
let enrichment: EnrichmentProcess;
let stack: TestStack;

beforeAll(async () => {
  const services = serviceEndpoints();
  ({ stack, enrichment } = await deployTestStack({
    brokers: services.kafkaBrokers,
    engineUrl: services.engineUrl,
    jupyter: { url: services.jupyterUrl, token: services.jupyterToken },
    logDir: dir,
  }));
});

afterAll(async () => {
  await enrichment?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("helk smoke against a running stack", () => {
  it("passes every check but the dashboards UI (skipped: none deployed) in under 60 s, and writes JUnit", async () => {
    const junit = join(dir, "smoke.xml");
    const run = await helkSmoke(["--endpoints", writeEndpoints(join(dir, "endpoints.json"), stack), "--json", "--junit", junit, "--timeout", "60"]);
    console.log(`helk smoke against the harness stack: ${(run.ms / 1000).toFixed(1)} s wall clock (checks ${run.stdout ? (JSON.parse(run.stdout).durationMs / 1000).toFixed(1) : "?"} s)`);
    const report = JSON.parse(run.stdout);
    expect(statuses(report), run.stdout).toEqual({
      "kafka.metadata": "pass",
      "kafka.topics": "pass",
      "kafka.roundtrip": "pass",
      "engine.health": "pass",
      "engine.templates": "pass",
      "engine.attack": "pass",
      "dashboards.status": "skip",
      "dashboards.saved-objects": "skip",
      "enrichment.ready": "pass",
      "enrichment.probe": "pass",
      "jupyter.status": "pass",
    });
    expect(run.code).toBe(0);
    expect(run.ms).toBeLessThan(60_000);
    expect(report.checks.find((c: { id: string }) => c.id === "enrichment.probe").message).toMatch(/^enriched event after [\d.]+s, joined document after [\d.]+s, probe documents deleted$/);
    expect(run.stderr).toContain("[11/11]");

    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", isArray: (n) => ["testsuite", "testcase"].includes(n) }).parse(readFileSync(junit, "utf8"));
    const cases = parsed.testsuites.testsuite.flatMap((s: { testcase: unknown[] }) => s.testcase);
    expect(cases).toHaveLength(11);
    expect(parsed.testsuites).toMatchObject({ tests: "11", failures: "0", skipped: "2" });
  });

  it("leaves none of the probe's documents behind", async () => {
    const engine = createEngine({ kind: "opensearch", url: serviceEndpoints().engineUrl });
    try {
      const { body } = await engine.request<{ count: number }>({
        method: "POST",
        path: "/helk-events-*,helk-process-network-*/_count",
        body: { query: { prefix: { host_name: "helk-smoke-" } } },
        query: { ignore_unavailable: true, allow_no_indices: true },
      });
      expect(body.count).toBe(0);
      // The probe did go through the data path: the service read the two events of each probe run and joined one.
      const metrics = await (await fetch(`${enrichment.url}/metrics`)).text();
      expect(Number(/^helk_enrichment_events_in_total\{[^}]*\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
      expect(Number(/^helk_enrichment_joined_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    } finally {
      await engine.close();
    }
  });

  it("reads the endpoints of a real Pulumi stack with --stack, secret outputs included, and prints no secret", async () => {
    const { projectDir, env } = await pulumiStackWith(stack, dir, "smoke");
    const run = await helkSmoke(["--stack", "smoke", "--pulumi-cwd", projectDir, "--json", "--timeout", "60"], env);
    const report = JSON.parse(run.stdout);
    expect(statuses(report)["jupyter.status"], run.stdout).toBe("pass");
    expect(report.summary).toEqual({ pass: 9, fail: 0, skip: 2 });
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(stack.jupyter!.token);
  });

  it("exits 0 with every check passed when the dashboards UI answers as Kibana does", async () => {
    let kibana: DashboardsApi | undefined;
    try {
      kibana = await startDashboardsApi({ kind: "kibana", health: "available", dashboards: dashboards.map((d) => ({ id: d.id, title: d.title })) });
      const file = writeEndpoints(join(dir, "with-kibana.json"), { ...stack, dashboards: { kind: "kibana", url: kibana.url } });
      const run = await helkSmoke(["--endpoints", file, "--timeout", "60", "--no-progress"]);
      expect(run.stdout).toContain("OK: 11 passed, 0 failed, 0 skipped");
      expect(run.code).toBe(0);
    } finally {
      await kibana?.close();
    }
  });
});
