import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import pino from "pino";
import { Registry } from "prom-client";
import { loadAttackBundle, loadDefaultAttackBundle } from "../attack/bundle.ts";
import { computeCoverage, eventSourceCountsFromEngine } from "../attack/coverage.ts";
import { coverageLayer } from "../attack/layer.ts";
import { AttackLookup } from "../attack/lookup.ts";
import { serviceFromEnv } from "../lib/contract/detections-env.ts";
import * as engineEnv from "../lib/contract/engine-env.ts";
import { createEngine } from "../lib/engine.ts";
import { startHttp } from "../enrichment/http.ts";
import { convertRules, prepareConverter, ruleReportSchema, ruleSelectionSchema, sharedSigmaArchive, summarize, type RuleReport } from "./convert.ts";
import { detectionGapLayer, detectionsLayer, rulesByTechnique } from "./layer.ts";
import { detectionRules, installRules, readRules } from "./rules.ts";
import { DetectionScheduler } from "./scheduler.ts";

interface ConvertFlags {
  rules?: string[];
  shared: boolean;
  level?: string[];
  status?: string[];
  tag?: string[];
  report: string;
  install: boolean;
  bundle?: string;
}

/** `helk detections convert|run`. */
export function registerDetectionsCommands(program: Command): void {
  const detections = program.command("detections").description("Sigma rules: convert to engine queries, deploy, run and alert");

  detections
    .command("prepare")
    .description("build the converter's Python environment (pinned pySigma, detections/python/requirements.txt) into the cache")
    .action(async () => {
      console.log(`converter environment ready: ${await prepareConverter()}`);
    });

  detections
    .command("convert")
    .description("convert Sigma rules with pySigma through HELK's field mapping; write a per-rule report; optionally deploy the runnable ones")
    .option("--rules <path...>", "extra rule folders or .tar.gz archives (your own rules)")
    .option("--no-shared", "leave out the SigmaHQ Windows rules of the shared data")
    .option("--level <level...>", "only these levels (informational low medium high critical)")
    .option("--status <status...>", "only these statuses (stable test experimental deprecated unsupported)")
    .option("--tag <tag...>", "only rules with one of these tags (attack.credential-access, attack.t1003.001)")
    .option("--report <file>", "where the per-rule report goes (JSON lines)", "detections-report.jsonl")
    .option("--install", "deploy the runnable rules to helk-detection-rules (engine from HELK_ENGINE_*)", false)
    .option("--bundle <path|url>", "ATT&CK bundle for the rules' technique context (default as for helk attack)")
    .action(async (flags: ConvertFlags) => {
      const selection = ruleSelectionSchema.parse({ levels: flags.level ?? [], statuses: flags.status ?? [], tags: flags.tag ?? [] });
      const sources = [...(flags.shared ? [sharedSigmaArchive()] : []), ...(flags.rules ?? [])];
      if (sources.length === 0) throw new Error("no rules: give --rules or drop --no-shared");
      const engineOptions = flags.install ? engineEnv.fromEnv() : undefined;
      const reports = await convertRules({ sources, selection, engineKind: engineOptions?.kind });
      await writeReport(flags.report, reports);
      const summary = summarize(reports);
      console.log(
        `${summary.rules} rules: ${summary.converted} converted (${summary.withUnmappedFields} of them with fields HELK does not index, ` +
          `not enabled), ${summary.unsupported} unsupported, ${summary.notSelected} not selected, ${summary.invalid} invalid; report: ${flags.report}`,
      );
      if (!engineOptions) return;
      const model = flags.bundle ? await loadAttackBundle(flags.bundle) : await loadDefaultAttackBundle();
      const rules = detectionRules(reports, AttackLookup.fromModel(model));
      const engine = createEngine(engineOptions);
      try {
        const result = await installRules(engine, rules);
        console.log(`deployed ${result.count} rules to helk-detection-rules (${result.index})`);
      } finally {
        await engine.close();
      }
    });

  detections
    .command("layer")
    .description("ATT&CK Navigator layers of the deployed rules and of collected vs detected, beside the data-source coverage layer")
    .option("--report <file>", "rules from a conversion report instead of the deployed ones in helk-detection-rules")
    .option("--events <pattern>", "event index pattern for the data-source coverage", "helk-events-*")
    .option("--out <dir>", "folder for the layer files", ".")
    .option("--bundle <path|url>", "ATT&CK bundle (default as for helk attack)")
    .action(async (flags: { report?: string; events: string; out: string; bundle?: string }) => {
      const model = flags.bundle ? await loadAttackBundle(flags.bundle) : await loadDefaultAttackBundle();
      const lookup = AttackLookup.fromModel(model);
      const engine = createEngine(engineEnv.fromEnv());
      try {
        const rules = flags.report ? detectionRules(await readReport(flags.report), lookup) : await readRules(engine);
        const coverage = computeCoverage(model, lookup, await eventSourceCountsFromEngine(engine, flags.events));
        const files = {
          "attack-coverage-layer.json": coverageLayer(coverage),
          "attack-detections-layer.json": detectionsLayer(coverage, rules),
          "attack-detection-gap-layer.json": detectionGapLayer(coverage, rules),
        };
        await mkdir(resolve(flags.out), { recursive: true });
        for (const [name, layer] of Object.entries(files)) await writeFile(join(resolve(flags.out), name), JSON.stringify(layer, null, 2));
        const { byTechnique, unknown } = rulesByTechnique(rules);
        console.log(`${rules.length} rules cover ${byTechnique.size} techniques${unknown.size ? ` (tags ATT&CK does not know: ${[...unknown].join(", ")})` : ""}`);
        console.log(`wrote ${Object.keys(files).map((f) => join(resolve(flags.out), f)).join(", ")}`);
      } finally {
        await engine.close();
      }
    });

  detections
    .command("run")
    .description("run the deployed rules over newly indexed events and write alerts to helk-alerts-* (engine from HELK_ENGINE_*)")
    .option("--interval <ms>", "time between runs", (v) => Number(v), 10_000)
    .option("--once", "one run, then exit", false)
    .option("--http-port <port>", "port of /healthz and /metrics on HELK_HTTP_HOST (127.0.0.1)", (v) => Number(v), 8081)
    .action(async (flags: { interval: number; once: boolean; httpPort: number }) => {
      const log = pino({ name: "helk-detections" });
      const settings = serviceFromEnv();
      const engine = createEngine(settings.engine);
      const registry = new Registry();
      const scheduler = new DetectionScheduler(engine, { intervalMs: flags.interval, log, registry });
      if (flags.once) {
        const result = await scheduler.runOnce();
        console.log(JSON.stringify(result));
        await engine.close();
        return;
      }
      const http = await startHttp(settings.httpHost, flags.httpPort, { readiness: async () => ({ ready: true }) }, registry, log);
      scheduler.start();
      await new Promise<void>((resolveStop) => process.once("SIGTERM", resolveStop).once("SIGINT", resolveStop));
      await scheduler.stop();
      http.close();
      await engine.close();
    });
}

async function readReport(file: string): Promise<RuleReport[]> {
  const lines = (await readFile(file, "utf8")).split("\n").filter((line) => line.trim());
  return lines.map((line, i) => {
    try {
      return ruleReportSchema.parse(JSON.parse(line));
    } catch (error) {
      throw new Error(`${file}:${i + 1} is not a conversion report line: ${(error as Error).message}`);
    }
  });
}

async function writeReport(file: string, reports: readonly RuleReport[]): Promise<void> {
  await mkdir(dirname(resolve(file)), { recursive: true });
  await writeFile(file, reports.map((report) => JSON.stringify(report)).join("\n") + "\n");
}
