import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { type Admin, Kafka, logLevel, Partitioners } from "kafkajs";
import { loadAttackBundle } from "../attack/bundle.ts";
import { AttackLookup } from "../attack/lookup.ts";
import { bulkLine } from "../enrichment/sink.ts";
import { installTemplates } from "../enrichment/templates.ts";
import { DEFAULT_JOIN_OPTIONS, Enricher } from "../enrichment/transforms/index.ts";
import { startServices, stopServices } from "../harness/services.ts";
import { attackBundlePath } from "../lib/data.ts";
import { recordingLines } from "../lib/datasets.ts";
import { createEngine, type Engine, EngineError } from "../lib/engine.ts";
import { replayRecordings } from "../lib/replay.ts";
import { retry } from "../lib/retry.ts";
import { countDocs, createTopics, resetIndices, ServiceProcess, serviceEnv, sleep, testNames } from "../harness/enrichment-process.ts";
import { processCreates, recordingsUnusedByTests, syntheticProcess } from "./corpus.ts";
import type { BenchResult } from "./run.ts";

/**
 * The enrichment pipeline against the engine's own ceiling, all in one run on the harness's Kafka and OpenSearch,
 * over the Security-Datasets recordings no test uses (first EVENTS_PER_RECORDING events of each), after as many
 * synthetic process creations as the join cache holds (so the service runs with its cache full):
 * (a) ceiling: the documents the service produces for these events, enriched here with the same chain and the
 *     ATT&CK bundle, bulk-indexed straight into the engine at several request sizes and concurrencies, best kept;
 * (b) the service (child process, ATT&CK bundle as production loads it) from a pre-filled topic of 3 partitions,
 *     1 and 2 replicas: from spawn to consumer lag 0, and from its first indexed document to lag 0;
 * (c) (b)/(a);
 * (d) peer: the engine's own ingest pipeline (json + kv on RuleName) over the same raw events;
 * (e) the service's peak RSS (VmHWM), CPU-seconds per 1,000 events; the load average beside every figure.
 *
 * Settings (env): HELK_BENCH_EVENTS_PER_RECORDING (default 1500), HELK_BENCH_CEILING ("docsxrequests,...",
 * default below), HELK_BENCH_CACHE_FILL (synthetic process creations first; default the join cache bound),
 * HELK_BENCH_CPU_PROF (folder: the 1-replica service runs under `node --cpu-prof` there; its
 * figures then include the profiler's cost), HELK_BENCH_JSON (file the JSON report is written to).
 */
const EVENTS_PER_RECORDING = Number(process.env.HELK_BENCH_EVENTS_PER_RECORDING ?? 1500);
const CEILING_SHAPES = (process.env.HELK_BENCH_CEILING ?? "2000x1,2000x3,2000x4")
  .split(",")
  .map((s) => {
    const [docs, inFlight] = s.split("x").map(Number);
    if (!docs || !inFlight) throw new Error(`HELK_BENCH_CEILING: "${s}" is not <docs per request>x<requests in flight>`);
    return { docs, inFlight };
  });
/** Synthetic process creations sent first, to fill the join cache (default: its bound, the memory worst case). */
const CACHE_FILL = Number(process.env.HELK_BENCH_CACHE_FILL ?? DEFAULT_JOIN_OPTIONS.maxEntries);
const PEER_PIPELINE = "helk-bench-peer";
const PEER_INDEX = "helk-bench-peer";
const SERVICE_TIMEOUT_MS = 20 * 60_000;
const RSS_TARGET_MIB = 200;
const RATIO_TARGET = 0.9;

interface Load {
  /** 1-, 5- and 15-minute load averages at the end of the measurement. */
  loadavg: number[];
}

interface BulkRun extends Load {
  docsPerRequest: number;
  inFlight: number;
  docs: number;
  seconds: number;
  docsPerSecond: number;
  rejected: number;
}

interface ServiceRun extends Load {
  replicas: number;
  events: number;
  docs: number;
  deadLettered: number;
  indexedInEngine: number;
  secondsFromStart: number;
  secondsFromFirstIndexed: number;
  docsPerSecondFromStart: number;
  docsPerSecondFromFirstIndexed: number;
  eventsPerSecondFromFirstIndexed: number;
  /** Per replica. */
  peakRssMiB: number[];
  /** From spawn to lag 0 (start-up included: module loading, ATT&CK bundle), all replicas. */
  cpuSeconds: number;
  cpuSecondsPer1000Events: number;
  /** From the first indexed document to lag 0: the steady state. */
  cpuSecondsPer1000EventsFromFirstIndexed: number;
}

export async function run(): Promise<BenchResult[]> {
  const recordings = recordingsUnusedByTests();
  const filler = (await processCreates(recordings)).slice(0, 2000);
  const fillerMessages = Array.from({ length: CACHE_FILL }, (_, i) => {
    const event = syntheticProcess(filler[i % filler.length]!, i);
    return { key: String(event.Hostname ?? "").toLowerCase(), value: JSON.stringify(event) };
  });
  const raw = [...fillerMessages.map((m) => m.value)];
  for (const r of recordings) {
    let n = 0;
    // Read each recording to its end (leaving the zip stream early breaks node-stream-zip), keep the first lines.
    for await (const line of recordingLines(r.path)) if (n++ < EVENTS_PER_RECORDING) raw.push(line);
  }
  const lines = await enrichedLines(raw);
  const bytes = lines.reduce((sum, l) => sum + Buffer.byteLength(l), 0);
  console.log(`pipeline bench: ${recordings.length} recordings, ${raw.length} events (${fillerMessages.length} cache fillers), ${lines.length} documents, ${(bytes / lines.length).toFixed(0)} bytes each`);

  const running = await startServices({ only: ["kafka", "engine"] });
  try {
    const brokers = running.kafka!.brokers;
    const engineUrl = running.engine!.url;
    // A starved engine on a shared machine can take longer than the default 30 s to answer a large request.
    const engine = createEngine({ kind: "opensearch", url: engineUrl, requestTimeoutMs: 180_000 });
    const names = testNames("bench-pipeline");
    await createTopics(brokers, names, 3);
    await produce(brokers, names.input, fillerMessages);
    const replayed = await replayRecordings({ brokers, topic: names.input, recordings: recordings.map((r) => r.path), limit: EVENTS_PER_RECORDING });
    if (replayed.produced + fillerMessages.length !== raw.length) throw new Error(`produced ${replayed.produced + fillerMessages.length} messages, read ${raw.length}`);

    const ceiling: BulkRun[] = [];
    for (const shape of CEILING_SHAPES) {
      await patiently("emptying the indices", () => resetIndices(engine));
      await patiently("installing the index templates", () => installTemplates(engine));
      const result = await bulkAll(engine, "/_bulk", lines, shape.docs, shape.inFlight);
      ceiling.push(result);
      console.log(`ceiling ${shape.docs} docs x ${shape.inFlight} in flight: ${result.docsPerSecond.toFixed(0)} docs/s (load ${result.loadavg[0]})`);
    }
    const best = ceiling.reduce((a, b) => (b.docsPerSecond > a.docsPerSecond ? b : a));

    const admin = new Kafka({ clientId: "helk-bench", brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const services: ServiceRun[] = [];
    try {
      for (const replicas of [1, 2]) {
        const result = await measureService({ admin, engine, brokers, engineUrl, names, replicas, expectedEvents: raw.length });
        services.push(result);
        console.log(`service, ${replicas} replica(s): ${result.docsPerSecondFromFirstIndexed.toFixed(0)} docs/s from first indexed, ${result.docsPerSecondFromStart.toFixed(0)} from start (load ${result.loadavg[0]})`);
      }
    } finally {
      await admin.disconnect();
    }

    const peer = await measurePeer(engine, raw, best);
    console.log(`ingest pipeline peer: ${peer.docsPerSecond.toFixed(0)} events/s (load ${peer.loadavg[0]})`);
    await engine.close();
    return report({ recordings: recordings.length, events: raw.length, fillers: fillerMessages.length, docs: lines.length, bytesPerDoc: bytes / lines.length }, ceiling, best, services, peer);
  } finally {
    await stopServices(running);
  }
}

/** The bulk lines the service writes for these events: the same chain, the same ATT&CK lookup, in topic order. */
async function enrichedLines(raw: string[]): Promise<string[]> {
  const enricher = new Enricher<undefined>({ attack: AttackLookup.fromModel(await loadAttackBundle(attackBundlePath())) });
  const lines: string[] = [];
  for (const value of raw) {
    const outcome = enricher.enrich(value, { tag: undefined });
    if (!outcome.ok) continue;
    lines.push(bulkLine(outcome.event));
    for (const joined of outcome.joined) lines.push(bulkLine(joined));
  }
  return lines;
}

async function produce(brokers: string[], topic: string, messages: { key: string; value: string }[]): Promise<void> {
  const producer = new Kafka({ clientId: "helk-bench", brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 200) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 200) });
  } finally {
    await producer.disconnect();
  }
}

interface BulkAnswer {
  items: Record<string, { status: number; error?: unknown }>[];
}

/**
 * Sends every line (one document each) in requests of `docsPerRequest`, `inFlight` requests at a time; requests
 * without an answer and items the engine refuses for now (429) are sent again (ids are fixed, so nothing doubles),
 * other refusals counted as rejected. Timed from the first request to the last answer.
 */
async function bulkAll(engine: Engine, path: string, lines: string[], docsPerRequest: number, inFlight: number): Promise<BulkRun> {
  let next = 0;
  let rejected = 0;
  const send = async (chunk: string[]): Promise<void> => {
    for (let pending = chunk; pending.length > 0; ) {
      const res = await engine.request<BulkAnswer>({ method: "POST", path, bulk: pending.join("") }).catch((err: unknown) => {
        if (err instanceof EngineError && err.retryable) return undefined;
        throw err;
      });
      if (res === undefined) continue;
      const again = pending.filter((_, i) => Object.values(res.body.items[i]!)[0]!.status === 429);
      rejected += res.body.items.filter((item) => Object.values(item)[0]!.status >= 300).length - again.length;
      if (again.length > 0) await sleep(100);
      pending = again;
    }
  };
  const worker = async () => {
    while (next < lines.length) {
      const start = next;
      next += docsPerRequest;
      await send(lines.slice(start, start + docsPerRequest));
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { docsPerRequest, inFlight, docs: lines.length, seconds, docsPerSecond: lines.length / seconds, rejected, loadavg: load() };
}

/** The service from a pre-filled topic, in a fresh consumer group, until every partition is committed to its end. */
async function measureService(options: {
  admin: Admin;
  engine: Engine;
  brokers: string[];
  engineUrl: string;
  names: ReturnType<typeof testNames>;
  replicas: number;
  expectedEvents: number;
}): Promise<ServiceRun> {
  const { admin, engine, names, replicas } = options;
  await patiently("emptying the indices", () => resetIndices(engine));
  const group = `bench-pipeline-${replicas}-${randomBytes(4).toString("hex")}`;
  const env = serviceEnv(options.brokers, options.engineUrl, { ...names, group }, { HELK_ATTACK_BUNDLE: attackBundlePath() });
  const profile = process.env.HELK_BENCH_CPU_PROF && replicas === 1 ? ["--cpu-prof", `--cpu-prof-dir=${process.env.HELK_BENCH_CPU_PROF}`] : [];
  const started = performance.now();
  const services = await Promise.all(Array.from({ length: replicas }, () => ServiceProcess.spawn(env, profile)));
  try {
    let firstIndexedAt: number | undefined;
    let cpuAtFirstIndexed = 0;
    for (let polls = 0; ; polls++) {
      await sleep(200);
      for (const s of services) if (s.child.exitCode !== null) throw new Error(`enrichment service exited ${s.child.exitCode}:\n${s.logTail()}`);
      if (performance.now() - started > SERVICE_TIMEOUT_MS) throw new Error(`service not at lag 0 after ${SERVICE_TIMEOUT_MS} ms:\n${services[0]!.logTail()}`);
      if (firstIndexedAt === undefined && (await sum(services, "helk_enrichment_indexed_total")) > 0) {
        firstIndexedAt = performance.now();
        cpuAtFirstIndexed = services.reduce((total, s) => total + cpuSecondsOf(s.child.pid!), 0);
      }
      if (firstIndexedAt !== undefined && polls % 2 === 0 && (await consumerLag(admin, group, names.input)) === 0) break;
    }
    const ended = performance.now();
    const cpuSeconds = services.reduce((total, s) => total + cpuSecondsOf(s.child.pid!), 0);
    const peakRssMiB = services.map((s) => peakRssOf(s.child.pid!));
    const events = await sum(services, "helk_enrichment_events_in_total");
    const docs = await sum(services, "helk_enrichment_indexed_total");
    const secondsFromStart = (ended - started) / 1000;
    const secondsFromFirstIndexed = (ended - firstIndexedAt) / 1000;
    return {
      replicas,
      events,
      docs,
      deadLettered: await sum(services, "helk_enrichment_dead_lettered_total"),
      indexedInEngine: await patiently("counting documents", async () => (await countDocs(engine, "helk-events-*")) + (await countDocs(engine, "helk-process-network-*"))),
      secondsFromStart,
      secondsFromFirstIndexed,
      docsPerSecondFromStart: docs / secondsFromStart,
      docsPerSecondFromFirstIndexed: docs / secondsFromFirstIndexed,
      eventsPerSecondFromFirstIndexed: events / secondsFromFirstIndexed,
      peakRssMiB,
      cpuSeconds,
      cpuSecondsPer1000Events: (cpuSeconds / events) * 1000,
      cpuSecondsPer1000EventsFromFirstIndexed: ((cpuSeconds - cpuAtFirstIndexed) / events) * 1000,
      loadavg: load(),
    };
  } finally {
    await Promise.all(services.map((s) => s.stop()));
  }
}

/** An engine call retried while the engine is too busy to answer (a shared machine under load), for up to 10 minutes. */
function patiently<T>(what: string, call: () => Promise<T>): Promise<T> {
  return retry(what, call, { maxDelayMs: 5000, maxElapsedMs: 600_000 }, { isRetryable: (err) => err instanceof EngineError && err.retryable });
}

async function sum(services: ServiceProcess[], metric: string): Promise<number> {
  const values = await Promise.all(services.map((s) => s.metric(metric).catch(() => 0)));
  return values.reduce((a, b) => a + b, 0);
}

/** Messages of `topic` the group has not committed yet (a partition without a commit counts from its start). */
async function consumerLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  let lag = 0;
  for (const end of ends) {
    const offset = Number(committed!.partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
    lag += Number(end.high) - (offset < 0 ? Number(end.low) : offset);
  }
  return lag;
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** User + system CPU of a process so far (`/proc/PID/stat` fields 14 and 15). */
function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** The kernel's high-water mark of a process's resident set. */
function peakRssOf(pid: number): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;
}

const load = () => loadavg().map((l) => Math.round(l * 100) / 100);

/**
 * The peer: raw events through the engine's own ingest pipeline (json, then kv on RuleName as HELK's Logstash
 * did), into one index whose every scalar is a keyword (no mapping conflict between recordings), with the best
 * request shape of the ceiling.
 */
async function measurePeer(engine: Engine, raw: string[], shape: { docsPerRequest: number; inFlight: number }): Promise<BulkRun> {
  await patiently("deleting the peer index", () => engine.request({ method: "DELETE", path: `/${PEER_INDEX}`, ignore: [404] }));
  await patiently("emptying the indices", () => resetIndices(engine));
  await patiently("creating the peer pipeline", () => engine.request({
    method: "PUT",
    path: `/_ingest/pipeline/${PEER_PIPELINE}`,
    body: {
      processors: [
        { json: { field: "event", add_to_root: true } },
        { kv: { field: "RuleName", field_split: ",", value_split: "=", target_field: "mitre", trim_key: " ", trim_value: " ", ignore_missing: true, ignore_failure: true } },
      ],
    },
  }));
  const keyword = { type: "keyword", ignore_above: 8191 };
  await patiently("creating the peer index", () => engine.request({
    method: "PUT",
    path: `/${PEER_INDEX}`,
    body: {
      settings: { "index.default_pipeline": PEER_PIPELINE, "index.mapping.total_fields.limit": 10000, "index.auto_expand_replicas": "0-1" },
      mappings: {
        date_detection: false,
        numeric_detection: false,
        dynamic_templates: ["string", "long", "double", "boolean"].map((type) => ({ [`${type}s`]: { match_mapping_type: type, mapping: keyword } })),
        properties: { event: { type: "keyword", index: false, doc_values: false } },
      },
    },
  }));
  const lines = raw.map((value) => `{"index":{}}\n${JSON.stringify({ event: value })}\n`);
  const result = await bulkAll(engine, `/${PEER_INDEX}/_bulk`, lines, shape.docsPerRequest, shape.inFlight);
  await patiently("deleting the peer index", () => engine.request({ method: "DELETE", path: `/${PEER_INDEX}`, ignore: [404] }));
  return result;
}

function report(input: { recordings: number; events: number; fillers: number; docs: number; bytesPerDoc: number }, ceiling: BulkRun[], best: BulkRun, services: ServiceRun[], peer: BulkRun): BenchResult[] {
  const [one, two] = services as [ServiceRun, ServiceRun];
  const ratio = (s: ServiceRun) => s.docsPerSecondFromFirstIndexed / best.docsPerSecond;
  const ratioFromStart = (s: ServiceRun) => s.docsPerSecondFromStart / best.docsPerSecond;
  const peakRss = Math.max(...services.flatMap((s) => s.peakRssMiB));
  const json = { at: new Date().toISOString(), input, ceiling, ceilingBest: best, services, peer, ratios: services.map((s) => ({ replicas: s.replicas, fromFirstIndexed: ratio(s), fromStart: ratioFromStart(s), eventsVsPeer: s.eventsPerSecondFromFirstIndexed / peer.docsPerSecond })) };
  if (process.env.HELK_BENCH_JSON) writeFileSync(process.env.HELK_BENCH_JSON, JSON.stringify(json, null, 2));

  const rows: [string, string, string, string, string][] = [["figure", "value", "reference", "ratio", "load avg 1/5/15"]];
  const f = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const l = (r: Load) => r.loadavg.join(" ");
  for (const c of ceiling) rows.push([`(a) engine _bulk, ${c.docsPerRequest} docs x ${c.inFlight} in flight`, `${f(c.docsPerSecond)} docs/s`, "", c === best ? "best" : f(c.docsPerSecond / best.docsPerSecond, 2), l(c)]);
  for (const s of services) {
    const who = `(b) service, ${s.replicas} replica${s.replicas > 1 ? "s" : ""}, 3 partitions`;
    rows.push([`${who}, first indexed → lag 0`, `${f(s.docsPerSecondFromFirstIndexed)} docs/s`, `${f(best.docsPerSecond)} docs/s (a)`, f(ratio(s), 2), l(s)]);
    rows.push([`${who}, start → lag 0`, `${f(s.docsPerSecondFromStart)} docs/s`, `${f(best.docsPerSecond)} docs/s (a)`, f(ratioFromStart(s), 2), l(s)]);
    rows.push([`${who}, events first indexed → lag 0`, `${f(s.eventsPerSecondFromFirstIndexed)} events/s`, `${f(peer.docsPerSecond)} events/s (d)`, f(s.eventsPerSecondFromFirstIndexed / peer.docsPerSecond, 2), l(s)]);
    rows.push([`${who}, peak RSS (VmHWM) per replica`, s.peakRssMiB.map((m) => `${f(m)} MiB`).join(", "), `${RSS_TARGET_MIB} MiB target`, f(Math.max(...s.peakRssMiB) / RSS_TARGET_MIB, 2), l(s)]);
    rows.push([`${who}, CPU per 1,000 events, start → lag 0`, `${f(s.cpuSecondsPer1000Events, 3)} CPU-s`, `${f(s.cpuSeconds, 1)} CPU-s over ${f(s.secondsFromStart, 1)} s`, "", l(s)]);
    rows.push([`${who}, CPU per 1,000 events, first indexed → lag 0`, `${f(s.cpuSecondsPer1000EventsFromFirstIndexed, 3)} CPU-s`, "", "", l(s)]);
    rows.push([`${who}, documents indexed / in engine / dead-lettered`, `${f(s.docs)} / ${f(s.indexedInEngine)} / ${f(s.deadLettered)}`, `${f(input.docs)} docs (a)`, "", l(s)]);
  }
  rows.push([`(d) ingest pipeline json + kv, ${peer.docsPerRequest} x ${peer.inFlight}`, `${f(peer.docsPerSecond)} events/s`, "", "", l(peer)]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(`\n${input.events} events (${input.fillers} join-cache fillers) from ${input.recordings} recordings no test uses; ${input.docs} documents of ${f(input.bytesPerDoc)} bytes`);
  for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join("  "));
  console.log(`\n${JSON.stringify(json)}\n`);

  return [
    { name: "engine ceiling (a), best request shape", value: Math.round(best.docsPerSecond), unit: "docs/s" },
    { name: "service, 1 replica, first indexed → lag 0 (b)", value: Math.round(one.docsPerSecondFromFirstIndexed), unit: "docs/s" },
    { name: "service/ceiling (c), 1 replica", value: Math.round(ratio(one) * 100) / 100, unit: "x", target: `>= ${RATIO_TARGET}`, ok: ratio(one) >= RATIO_TARGET },
    { name: "service/ceiling (c), 2 replicas", value: Math.round(ratio(two) * 100) / 100, unit: "x", target: `>= ${RATIO_TARGET}`, ok: ratio(two) >= RATIO_TARGET },
    { name: "service/ingest-pipeline peer (d), events/s, 1 replica", value: Math.round((one.eventsPerSecondFromFirstIndexed / peer.docsPerSecond) * 100) / 100, unit: "x", target: ">= 1", ok: one.eventsPerSecondFromFirstIndexed >= peer.docsPerSecond },
    { name: "service peak RSS (VmHWM), bundle + cache full", value: Math.round(peakRss), unit: "MiB", target: `<= ${RSS_TARGET_MIB}`, ok: peakRss <= RSS_TARGET_MIB },
    { name: "service CPU per 1,000 events, 1 replica", value: Math.round(one.cpuSecondsPer1000Events * 1000) / 1000, unit: "CPU-s" },
  ];
}
