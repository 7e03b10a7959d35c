import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { z } from "zod";
import { SIGMA_LEVELS, SIGMA_STATUSES } from "../lib/contract/detections-env.ts";
import { dataDir, projectRoot } from "../lib/data.ts";
import type { EngineKind } from "../lib/engine.ts";
import { ensureVenv } from "../lib/python-venv.ts";
import { LOWER_CASE_FIELDS, sigmaFieldMap, UNINDEXED_FIELDS } from "./fields.ts";

const PYTHON_DIR = join(projectRoot, "detections", "python");

/** The pinned pip requirements of the converter (detections/python/requirements.txt, comments dropped). */
export function converterRequirements(): string[] {
  return readFileSync(join(PYTHON_DIR, "requirements.txt"), "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean);
}

/** Which rules to convert and run: empty lists select everything. */
export const ruleSelectionSchema = z.strictObject({
  levels: z.array(z.enum(SIGMA_LEVELS)).default([]),
  statuses: z.array(z.enum(SIGMA_STATUSES)).default([]),
  /** Sigma tags such as `attack.credential-access` or `attack.t1003.001`; a rule needs one of them. */
  tags: z.array(z.string().min(1)).default([]),
});
export type RuleSelection = z.infer<typeof ruleSelectionSchema>;

/** The SigmaHQ Windows rules of the shared data (`<data>/sigma/sigmahq-rules-windows.tar.gz`). */
export function sharedSigmaArchive(): string {
  return resolve(dataDir(), "sigma", "sigmahq-rules-windows.tar.gz");
}

const fieldSchema = z.object({ sigma: z.string(), helk: z.string() });

/** One line of the converter's report (detections/python/convert.py). */
export const ruleReportSchema = z.object({
  file: z.string(),
  outcome: z.enum(["converted", "unsupported", "not_selected", "invalid"]),
  reason: z.string().optional(),
  id: z.string().nullable().optional(),
  title: z.string().optional(),
  level: z.string().nullable().optional(),
  status: z.string().nullable().optional(),
  tags: z.array(z.string()).optional(),
  author: z.string().nullable().optional(),
  logsource: z.record(z.string(), z.string()).optional(),
  fields: z.array(fieldSchema).optional(),
  unmapped_fields: z.array(z.string()).optional(),
  query: z.string().optional(),
});
export type RuleReport = z.infer<typeof ruleReportSchema>;

export interface ConvertOptions {
  /** Folders of .yml rules and .tar.gz archives of them. */
  sources: readonly string[];
  selection?: Partial<RuleSelection>;
  /** Which pySigma Lucene backend writes the queries. Default opensearch (the same query syntax either way). */
  engineKind?: EngineKind;
}

export interface ConversionSummary {
  rules: number;
  converted: number;
  /** Converted, but naming a field HELK does not index: not enabled. */
  withUnmappedFields: number;
  unsupported: number;
  notSelected: number;
  invalid: number;
}

/** Builds (once) the converter's virtualenv in the cache; returns its directory. */
export function prepareConverter(): Promise<string> {
  return ensureVenv("sigma-venv", converterRequirements());
}

/** Converts the selected rules with pySigma through HELK's field-mapping pipeline; one report per rule. */
export async function convertRules(options: ConvertOptions): Promise<RuleReport[]> {
  const venv = await prepareConverter();
  const request = {
    sources: options.sources.map((source) => resolve(source)),
    selection: ruleSelectionSchema.parse(options.selection ?? {}),
    backend: options.engineKind ?? "opensearch",
    fieldMap: sigmaFieldMap(),
    lowerCaseFields: LOWER_CASE_FIELDS,
    unindexedFields: UNINDEXED_FIELDS,
  };
  const child = spawn(join(venv, "bin", "python"), [join(PYTHON_DIR, "convert.py")], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-8_000)));
  const exited = new Promise<number | null>((resolveExit, reject) => {
    child.on("error", reject);
    child.on("close", resolveExit);
  });
  child.stdin.end(JSON.stringify(request));
  const reports: RuleReport[] = [];
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.trim()) reports.push(ruleReportSchema.parse(JSON.parse(line)));
  }
  const code = await exited;
  if (code !== 0) throw new Error(`the Sigma converter (${join(PYTHON_DIR, "convert.py")}) exited with ${code}: ${stderr.trim()}`);
  return reports;
}

/** A converted rule the scheduler may run: it has a query and no field HELK does not index. */
export function isRunnable(report: RuleReport): report is RuleReport & { id: string; query: string } {
  return report.outcome === "converted" && Boolean(report.id) && Boolean(report.query) && (report.unmapped_fields ?? []).length === 0;
}

export function summarize(reports: readonly RuleReport[]): ConversionSummary {
  const count = (outcome: RuleReport["outcome"]) => reports.filter((r) => r.outcome === outcome).length;
  return {
    rules: reports.length,
    converted: count("converted"),
    withUnmappedFields: reports.filter((r) => r.outcome === "converted" && (r.unmapped_fields ?? []).length > 0).length,
    unsupported: count("unsupported"),
    notSelected: count("not_selected"),
    invalid: count("invalid"),
  };
}
