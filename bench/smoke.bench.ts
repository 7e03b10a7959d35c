import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServices, stopServices } from "../harness/services.ts";
import type { SmokeReport } from "../smoke/runner.ts";
import { helkSmoke } from "../harness/helk-cli.ts";
import { deployTestStack, writeEndpoints } from "../harness/smoke-stack.ts";
import type { BenchResult } from "./run.ts";

/**
 * `helk smoke` against a running stack (the harness's Kafka, OpenSearch and Jupyter, the enrichment service
 * as a child process, ATT&CK loaded), run three times as a user runs it: wall-clock time of the command,
 * and how long the enrichment probe took to come out enriched and joined.
 */
export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "helk-smoke-bench-"));
  const running = await startServices();
  try {
    const { stack, enrichment } = await deployTestStack({
      brokers: running.kafka!.brokers,
      engineUrl: running.engine!.url,
      jupyter: { url: running.jupyter!.url, token: running.jupyter!.token },
      logDir: dir,
    });
    try {
      const file = writeEndpoints(join(dir, "endpoints.json"), stack);
      const wall: number[] = [];
      const probe: number[] = [];
      for (let i = 0; i < 3; i++) {
        const result = await helkSmoke(["--endpoints", file, "--json", "--no-progress"]);
        const report = JSON.parse(result.stdout) as SmokeReport;
        if (result.code !== 0) throw new Error(`helk smoke failed: ${report.checks.filter((c) => c.status === "fail").map((c) => `${c.id}: ${c.message}`).join("; ")}`);
        wall.push(result.ms / 1000);
        probe.push(report.checks.find((c) => c.id === "enrichment.probe")!.durationMs / 1000);
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[1]!;
      return [
        { name: "helk smoke, all checks (median of 3, wall clock)", value: round(median(wall)), unit: "s", target: "< 60 s", ok: median(wall) < 60 },
        { name: "enrichment probe: produced → enriched + joined", value: round(median(probe)), unit: "s" },
      ];
    } finally {
      await enrichment.stop();
    }
  } finally {
    await stopServices(running);
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}
