import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../lib/data.ts";
import { listRecordings, recordingLines } from "../lib/datasets.ts";
import { SERVICE_NODE_FLAGS } from "../enrichment/config.ts";
import { bulkLine } from "../enrichment/sink.ts";
import { DEFAULT_JOIN_OPTIONS, Enricher } from "../enrichment/transforms/index.ts";
import { processCreates, syntheticProcess } from "./corpus.ts";
import type { BenchResult } from "./run.ts";

/**
 * Enrichment benchmarks, each measured in a fresh child process:
 * - transform rate over the Security-Datasets mix (every recording, up to SAMPLE_PER_RECORDING events each),
 *   from Kafka message bytes to enriched documents (shape, normalize, kv, ATT&CK, join, ids), as events per
 *   CPU-second of the (single-threaded) process: the machine is shared, so wall-clock rates are also shown;
 * - bare `JSON.parse` + `JSON.stringify` of the same messages in the same process, the limit of any JavaScript
 *   transform: the transform must keep at least 0.8 of its rate (absolute rates differ threefold between machines);
 * - the same plus bulk-request serialization, as the service's hot path does per event;
 * - peak RSS with the join cache full (default bound) while every recording streams through the chain and is
 *   serialized into bulk requests of the service's default size.
 * The running service (Kafka → index, ATT&CK loaded) is measured beside the engine's own ceiling in
 * `pipeline.bench.ts`.
 */
const SAMPLE_PER_RECORDING = 3000;
const PASSES = 3;
const BULK_DOCS = 2000;
const CHILD_FLAG = "HELK_ENRICHMENT_BENCH_CHILD";

interface RateReport {
  events: number;
  transformPerCpuSecond: number;
  transformPerWallSecond: number;
  withSerializationPerCpuSecond: number;
  bareJsonPerCpuSecond: number;
}

interface MemoryReport {
  events: number;
  cacheEntries: number;
  peakRssMiB: number;
}

export async function run(): Promise<BenchResult[]> {
  const rate = await runChild<RateReport>("rate");
  const memory = await runChild<MemoryReport>("memory");
  return [
    { name: "enrichment transform rate (events per CPU-second, 1 core)", value: Math.round(rate.transformPerCpuSecond), unit: "events/s", target: ">= 50,000", ok: rate.transformPerCpuSecond >= 50_000 },
    { name: "enrichment transform rate, wall clock (shared machine)", value: Math.round(rate.transformPerWallSecond), unit: "events/s" },
    { name: "enrichment transform + bulk serialization (per CPU-s)", value: Math.round(rate.withSerializationPerCpuSecond), unit: "events/s" },
    { name: "bare JSON.parse + JSON.stringify of the same messages (per CPU-s)", value: Math.round(rate.bareJsonPerCpuSecond), unit: "events/s" },
    { name: "transform rate / bare JSON rate", value: Number((rate.transformPerCpuSecond / rate.bareJsonPerCpuSecond).toFixed(3)), unit: "ratio", target: ">= 0.8", ok: rate.transformPerCpuSecond / rate.bareJsonPerCpuSecond >= 0.8 },
    { name: `transform chain peak RSS, cache ${memory.cacheEntries}, ${memory.events} events`, value: Math.round(memory.peakRssMiB), unit: "MiB", target: "<= 256", ok: memory.peakRssMiB <= 256 },
  ];
}

function runChild<T>(mode: "rate" | "memory"): Promise<T> {
  return new Promise((resolve, reject) => {
    // The memory run uses the service's own V8 flags, the rate run plain node.
    const flags = mode === "memory" ? SERVICE_NODE_FLAGS : [];
    const child = spawn(process.execPath, [...flags, "--import", "tsx", fileURLToPath(import.meta.url)], {
      cwd: projectRoot,
      env: { ...process.env, [CHILD_FLAG]: mode },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`enrichment bench (${mode}) exited ${code}`))));
  });
}

async function measureRate(): Promise<RateReport> {
  const sample: Buffer[] = [];
  for (const r of listRecordings()) {
    let n = 0;
    // Read each recording to its end (leaving the zip stream early breaks node-stream-zip), keep the first lines.
    for await (const line of recordingLines(r.path)) if (n++ < SAMPLE_PER_RECORDING) sample.push(Buffer.from(line));
  }
  const [bareJson, transform, withSerialization] = rates(sample, [
    bareJsonPass,
    enrichPass(() => undefined),
    enrichPass((outcome) => (outcome.ok ? bulkLines(outcome).length : 0)),
  ]) as [Rate, Rate, Rate];
  return {
    events: sample.length,
    transformPerCpuSecond: transform.perCpuSecond,
    transformPerWallSecond: transform.perWallSecond,
    withSerializationPerCpuSecond: withSerialization.perCpuSecond,
    bareJsonPerCpuSecond: bareJson.perCpuSecond,
  };
}

type Outcome = ReturnType<Enricher<undefined>["enrich"]>;

/** The bulk request lines of an outcome, as the service's sink writes them. */
function bulkLines(outcome: Outcome & { ok: true }): string {
  let body = bulkLine(outcome.event);
  for (const j of outcome.joined) body += bulkLine(j);
  return body;
}

/** One pass of the transform over the sample, a fresh enricher per pass. */
const enrichPass = (sink: (outcome: Outcome) => unknown) => (sample: Buffer[]) => {
  const enricher = new Enricher<undefined>();
  for (const raw of sample) sink(enricher.enrich(raw, { tag: undefined, now: 0 }));
};

const utf8 = new TextDecoder("utf-8", { fatal: true });
let bareJsonBytes = 0;
/** The same messages decoded, parsed and serialized again, nothing else (the output length is kept so no step is optimized away). */
function bareJsonPass(sample: Buffer[]): void {
  for (const raw of sample) bareJsonBytes += JSON.stringify(JSON.parse(utf8.decode(raw))).length;
}

/**
 * Events per CPU-second and per wall-second of each pass kind over PASSES rounds (after a warm-up round).
 * The kinds take turns within each round, so a busy spell of the shared machine weighs on all of them alike.
 */
interface Rate {
  perCpuSecond: number;
  perWallSecond: number;
}

function rates(sample: Buffer[], passes: ((sample: Buffer[]) => void)[]): Rate[] {
  for (const pass of passes) pass(sample);
  const cpuMicros = passes.map(() => 0);
  const wallNanos = passes.map(() => 0n);
  for (let i = 0; i < PASSES; i++) {
    passes.forEach((pass, k) => {
      const cpu = process.cpuUsage();
      const wall = process.hrtime.bigint();
      pass(sample);
      const used = process.cpuUsage(cpu);
      cpuMicros[k]! += used.user + used.system;
      wallNanos[k]! += process.hrtime.bigint() - wall;
    });
  }
  const events = sample.length * PASSES;
  return passes.map((_, k) => ({ perCpuSecond: events / (cpuMicros[k]! / 1e6), perWallSecond: events / (Number(wallNanos[k]!) / 1e9) }));
}

async function measureMemory(): Promise<MemoryReport> {
  const enricher = new Enricher<undefined>();
  // Fill the join cache to its default bound with distinct processes: the dataset's process-create events
  // (790, cycled) under new GUIDs.
  const creates = await processCreates();
  for (let i = 0; enricher.join.size < DEFAULT_JOIN_OPTIONS.maxEntries; i++) {
    const e = creates[i % creates.length]!;
    enricher.enrich(JSON.stringify(syntheticProcess(e, i)), { tag: undefined });
  }
  // Then every recording streams through, in bulk-sized batches, as the service handles a Kafka batch.
  let events = 0;
  let batch: string[] = [];
  for (const r of listRecordings()) {
    for await (const line of recordingLines(r.path)) {
      const outcome = enricher.enrich(Buffer.from(line), { tag: undefined, now: 0 });
      if (outcome.ok) batch.push(bulkLines(outcome));
      // The sink joins a batch into one request body, then lets it go.
      if (batch.length >= BULK_DOCS && batch.join("").length > 0) batch = [];
      events++;
    }
  }
  return { events, cacheEntries: enricher.join.size, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

const mode = process.env[CHILD_FLAG];
if (mode) process.stdout.write(JSON.stringify(mode === "rate" ? await measureRate() : await measureMemory()));
