import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { startServices, stopServices } from "../harness/services.ts";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../lib/data.ts";
import { listRecordings, recordingLines } from "../lib/datasets.ts";
import { SERVICE_NODE_FLAGS } from "../enrichment/config.ts";
import { DEFAULT_JOIN_OPTIONS, Enricher } from "../enrichment/transforms/index.ts";
import { replayRecordings } from "../lib/replay.ts";
import { createTopics, ServiceProcess, serviceEnv, sleep, testNames, waitFor } from "../harness/enrichment-process.ts";
import type { BenchResult } from "./run.ts";

/**
 * Enrichment benchmarks, each measured in a fresh child process:
 * - transform rate over the Security-Datasets mix (every recording, up to SAMPLE_PER_RECORDING events each),
 *   from Kafka message bytes to enriched documents (shape, normalize, kv, ATT&CK, join, ids), as events per
 *   CPU-second of the (single-threaded) process: the machine is shared, so wall-clock rates are also shown;
 * - the same plus bulk-request serialization, as the service's hot path does per event;
 * - peak RSS with the join cache full (default bound) while every recording streams through the chain and is
 *   serialized into bulk requests of the service's default size.
 */
const SAMPLE_PER_RECORDING = 3000;
const PASSES = 3;
const BULK_DOCS = 2000;
const SERVICE_EVENTS_PER_RECORDING = 2000;
const CHILD_FLAG = "HELK_ENRICHMENT_BENCH_CHILD";

interface RateReport {
  events: number;
  transformPerCpuSecond: number;
  transformPerWallSecond: number;
  withSerializationPerCpuSecond: number;
}

interface MemoryReport {
  events: number;
  cacheEntries: number;
  peakRssMiB: number;
}

export async function run(): Promise<BenchResult[]> {
  const rate = await runChild<RateReport>("rate");
  const memory = await runChild<MemoryReport>("memory");
  const service = await measureService();
  return [
    { name: "enrichment transform rate (events per CPU-second, 1 core)", value: Math.round(rate.transformPerCpuSecond), unit: "events/s", target: ">= 50,000", ok: rate.transformPerCpuSecond >= 50_000 },
    { name: "enrichment transform rate, wall clock (shared machine)", value: Math.round(rate.transformPerWallSecond), unit: "events/s" },
    { name: "enrichment transform + bulk serialization (per CPU-s)", value: Math.round(rate.withSerializationPerCpuSecond), unit: "events/s" },
    { name: `transform chain peak RSS, cache ${memory.cacheEntries}, ${memory.events} events`, value: Math.round(memory.peakRssMiB), unit: "MiB", target: "<= 256", ok: memory.peakRssMiB <= 256 },
    { name: `service peak RSS, cache ${service.cacheEntries}, ${service.events} events`, value: Math.round(service.peakRssMiB), unit: "MiB", target: "<= 256", ok: service.peakRssMiB <= 256 },
    { name: "service end-to-end rate, replay to index (shared machine)", value: Math.round(service.events / service.seconds), unit: "events/s" },
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
  const transform = rate(sample, () => undefined);
  const withSerialization = rate(sample, (outcome) => (outcome.ok ? bulkLines(outcome).length : 0));
  return {
    events: sample.length,
    transformPerCpuSecond: transform.perCpuSecond,
    transformPerWallSecond: transform.perWallSecond,
    withSerializationPerCpuSecond: withSerialization.perCpuSecond,
  };
}

type Outcome = ReturnType<Enricher<undefined>["enrich"]>;

/** The bulk request lines of an outcome, as the service's sink writes them. */
function bulkLines(outcome: Outcome & { ok: true }): string {
  let body = `{"index":{"_index":"${outcome.event.index}","_id":"${outcome.event.id}"}}\n${JSON.stringify(outcome.event.doc)}\n`;
  for (const j of outcome.joined) body += `{"index":{"_index":"${j.index}","_id":"${j.id}"}}\n${JSON.stringify(j.doc)}\n`;
  return body;
}

/** Events per CPU-second and per wall-second over PASSES passes (after a warm-up pass), a fresh enricher per pass. */
function rate(sample: Buffer[], sink: (outcome: Outcome) => unknown): { perCpuSecond: number; perWallSecond: number } {
  const pass = () => {
    const enricher = new Enricher<undefined>();
    for (const raw of sample) sink(enricher.enrich(raw, { tag: undefined, now: 0 }));
  };
  pass();
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  for (let i = 0; i < PASSES; i++) pass();
  const used = process.cpuUsage(cpu);
  const events = sample.length * PASSES;
  return { perCpuSecond: events / ((used.user + used.system) / 1e6), perWallSecond: events / (Number(process.hrtime.bigint() - wall) / 1e9) };
}

async function measureMemory(): Promise<MemoryReport> {
  const enricher = new Enricher<undefined>();
  // Fill the join cache to its default bound with distinct processes: the dataset's process-create events
  // (790, cycled) under new GUIDs.
  const processCreates = await datasetProcessCreates();
  for (let i = 0; enricher.join.size < DEFAULT_JOIN_OPTIONS.maxEntries; i++) {
    const e = processCreates[i % processCreates.length]!;
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

/** The Security-Datasets' Sysmon process-create events (790). */
async function datasetProcessCreates(): Promise<Record<string, unknown>[]> {
  const found: Record<string, unknown>[] = [];
  for (const r of listRecordings()) {
    for await (const line of recordingLines(r.path)) {
      if (!line.includes('"EventID":1,')) continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      if (e.EventID === 1 && e.Channel === "Microsoft-Windows-Sysmon/Operational") found.push(e);
    }
  }
  return found;
}

/**
 * The real service (child process, its own V8 flags) against real Kafka and OpenSearch from the harness: the join
 * cache is filled to its bound with distinct processes, then SERVICE_EVENTS_PER_RECORDING events of every recording
 * flow through; the kernel's high-water mark of its resident set (VmHWM) is the figure.
 */
async function measureService(): Promise<{ peakRssMiB: number; events: number; cacheEntries: number; seconds: number }> {
  const running = await startServices({ only: ["kafka", "engine"] });
  try {
    const brokers = running.kafka!.brokers;
    const names = testNames("bench");
    await createTopics(brokers, names);
    const service = await ServiceProcess.start(serviceEnv(brokers, running.engine!.url, names, { HELK_LOG_LEVEL: "warn" }));
    const started = Date.now();
    try {
      const processCreates = await datasetProcessCreates();
      const producer = new Kafka({ clientId: "helk-bench", brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      let filled = 0;
      try {
        for (; filled < DEFAULT_JOIN_OPTIONS.maxEntries; filled += 200) {
          const messages = Array.from({ length: 200 }, (_, k) => ({ key: "bench", value: JSON.stringify(syntheticProcess(processCreates[(filled + k) % processCreates.length]!, filled + k)) }));
          await producer.send({ topic: names.input, messages });
        }
      } finally {
        await producer.disconnect();
      }
      const replay = await replayRecordings({ brokers, topic: names.input, recordings: listRecordings().map((r) => r.path), limit: SERVICE_EVENTS_PER_RECORDING });
      const events = filled + replay.produced;
      await waitFor(async () => (await service.metric("helk_enrichment_events_in_total")) >= events, 900_000, () => service.logTail());
      await sleep(2000); // the join timer reports the cache size every 500 ms
      const cacheEntries = await service.metric("helk_enrichment_join_cache_entries");
      const status = readFileSync(`/proc/${service.child.pid}/status`, "utf8");
      const peakKiB = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
      return { peakRssMiB: peakKiB / 1024, events, cacheEntries, seconds: (Date.now() - started) / 1000 };
    } finally {
      await service.stop();
    }
  } finally {
    await stopServices(running);
  }
}

/**
 * A process-create event as a new process: fresh GUID and record number, dated after every recording, so the
 * dataset streaming through later never ages it out of the cache (only the entry bound evicts).
 */
function syntheticProcess(event: Record<string, unknown>, i: number): Record<string, unknown> {
  return { ...event, ProcessGuid: `{bench-${i}}`, RecordNumber: 1e9 + i, UtcTime: "2030-01-01 00:00:00.000" };
}

const mode = process.env[CHILD_FLAG];
if (mode) process.stdout.write(JSON.stringify(mode === "rate" ? await measureRate() : await measureMemory()));
