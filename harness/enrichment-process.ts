import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer, type Server, type Socket, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import { SERVICE_NODE_FLAGS } from "../enrichment/config.ts";
import { asClientSettings, type KafkaClientSettings, toKafkaConfig } from "../lib/contract/kafka-env.ts";
import { freePort } from "./process.ts";
import { projectRoot } from "../lib/data.ts";
import { createEngine, type Engine } from "../lib/engine.ts";
import { ensureTopic } from "../lib/replay.ts";
import { poll, RetryExhausted } from "../lib/retry.ts";

/** Fresh topic and group names for one test, so tests never see each other's messages or offsets. */
export function testNames(label: string) {
  const id = `${label}-${randomBytes(4).toString("hex")}`;
  return { input: `winlogbeat-${id}`, deadLetter: `dead-letter-${id}`, group: `enrichment-${id}` };
}

export async function createTopics(brokers: string[], names: ReturnType<typeof testNames>, partitions = 3): Promise<void> {
  // The input topic takes messages up to 4 MiB, so an oversized event reaches the service (which must reject it).
  await ensureTopic(brokers, names.input, { partitions, configEntries: [{ name: "max.message.bytes", value: String(4 * 1024 * 1024) }] });
  await ensureTopic(brokers, names.deadLetter, { partitions: 1 });
}

/** The enrichment service as a real child process (`node --import tsx enrichment/main.ts`). */
export class ServiceProcess {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly logFile: string,
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {}

  static async start(env: Record<string, string>): Promise<ServiceProcess> {
    const service = await ServiceProcess.spawn(env);
    await service.waitReady();
    return service;
  }

  /** Starts the process without waiting for it to be ready; `nodeFlags` come after the service's own V8 flags. */
  static async spawn(env: Record<string, string>, nodeFlags: string[] = []): Promise<ServiceProcess> {
    const port = await freePort();
    const logFile = join(tmpdir(), `helk-enrichment-test-${process.pid}-${port}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, ...nodeFlags, "--import", "tsx", "enrichment/main.ts"], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HELK_HTTP_PORT: String(port), HELK_LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    return new ServiceProcess(child, `http://127.0.0.1:${port}`, logFile, exited);
  }

  async waitReady(timeoutMs = 300_000): Promise<void> {
    const ready = async () => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`enrichment exited before ready:\n${this.logTail()}`);
      return (await fetch(`${this.url}/readyz`).then((r) => r.ok, () => false)) || undefined;
    };
    await poll("enrichment readiness", ready, { initialDelayMs: 250, maxDelayMs: 1_000, maxElapsedMs: timeoutMs }).catch((error: unknown) => {
      if (!(error instanceof RetryExhausted)) throw error;
      throw new Error(`enrichment not ready after ${timeoutMs} ms:\n${this.logTail()}`);
    });
  }

  /** Current value of a metric, summed over its label sets (or only those containing `labels`, e.g. `kind="event"`); 0 when not reported yet. */
  async metric(name: string, labels = ""): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    let sum = 0;
    for (const line of text.split("\n")) {
      const [series, value] = line.split(" ");
      if (series === undefined || value === undefined || series.split("{")[0] !== name || !series.includes(labels)) continue;
      sum += Number(value);
    }
    return sum;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, "utf8").trim().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }
}

export function serviceEnv(brokers: string[], engineUrl: string, names: ReturnType<typeof testNames>, extra: Record<string, string> = {}) {
  return {
    HELK_KAFKA_BROKERS: brokers.join(","),
    HELK_INPUT_TOPICS: names.input,
    HELK_DEAD_LETTER_TOPIC: names.deadLetter,
    HELK_CONSUMER_GROUP: names.group,
    HELK_ENGINE_KIND: "opensearch",
    HELK_ENGINE_URL: engineUrl,
    HELK_JOIN_WAIT_MS: "1000",
    HELK_RETRY_MAX_MS: "2000",
    ...extra,
  };
}

/** Deletes the enrichment indices (this suite's files run one at a time; each starts from empty indices). */
export async function resetIndices(engine: Engine): Promise<void> {
  for (const pattern of ["helk-events-*", "helk-process-network-*"]) {
    await engine.request({ method: "DELETE", path: `/${pattern}`, query: { expand_wildcards: "all", ignore_unavailable: true }, ignore: [404] });
  }
}

export async function countDocs(engine: Engine, pattern: string): Promise<number> {
  await engine.request({ method: "POST", path: `/${pattern}/_refresh`, query: { ignore_unavailable: true, allow_no_indices: true } });
  const res = await engine.request<{ count: number }>({ method: "GET", path: `/${pattern}/_count`, query: { ignore_unavailable: true, allow_no_indices: true } });
  return res.body.count;
}

/** Every document of an index pattern (`_source` fields asked for), paged with search_after. */
export async function allDocs<T>(engine: Engine, pattern: string, fields: string[]): Promise<T[]> {
  await engine.request({ method: "POST", path: `/${pattern}/_refresh`, query: { ignore_unavailable: true, allow_no_indices: true } });
  const out: T[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const res = await engine.request<{ hits: { hits: { _source: T; sort: unknown[] }[] } }>({
      method: "POST",
      path: `/${pattern}/_search`,
      query: { ignore_unavailable: true, allow_no_indices: true },
      body: { size: 5000, _source: fields, sort: [{ _id: "asc" }], ...(after ? { search_after: after } : {}) },
    });
    const hits = res.body.hits.hits;
    out.push(...hits.map((h) => h._source));
    if (hits.length < 5000) return out;
    after = hits[hits.length - 1]!.sort;
  }
}

export interface DeadLetterRecord {
  reason: string;
  stage: string;
  source: { topic: string; partition: number; offset: string };
  raw: string;
  raw_bytes: number;
}

/** Every message of the (test's own) dead-letter topic. */
export async function readDeadLetters(
  client: string[] | KafkaClientSettings,
  topic: string,
  expected: number,
  timeoutMs = 60_000,
): Promise<DeadLetterRecord[]> {
  const kafka = new Kafka(toKafkaConfig(asClientSettings(client), { clientId: "helk-test-dl", logLevel: logLevel.NOTHING }));
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString("hex")}` });
  const records: DeadLetterRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void records.push(JSON.parse(message.value!.toString()) as DeadLetterRecord) });
    // After `timeoutMs`, what arrived is the answer (the caller compares it with `expected`).
    await poll("dead letters", async () => (records.length >= expected || undefined), { initialDelayMs: 200, maxDelayMs: 1_000, maxElapsedMs: timeoutMs }).catch(
      (error: unknown) => {
        if (!(error instanceof RetryExhausted)) throw error;
      },
    );
    await sleep(500); // anything beyond `expected` would show up now
    return records;
  } finally {
    await consumer.disconnect();
  }
}

/** Sum of a topic's partition high watermarks: how many messages it ever received. */
export async function topicMessageCount(brokers: string[], topic: string): Promise<number> {
  const admin = new Kafka({ clientId: "helk-test-admin", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Polls `check` until it returns true; fails with `describe()` after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, describe: () => Promise<string> | string): Promise<void> {
  await poll("wait", async () => (await check()) || undefined, { initialDelayMs: 1_000, maxDelayMs: 1_000, maxElapsedMs: timeoutMs }).catch(async (error: unknown) => {
    if (!(error instanceof RetryExhausted)) throw error;
    throw new Error(`timed out after ${timeoutMs} ms: ${await describe()}`);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The test's engine client; a loaded shared machine can keep OpenSearch from answering a refresh within 30 s. */
export function engineAt(url: string): Engine {
  return createEngine({ kind: "opensearch", url, requestTimeoutMs: 180_000 });
}

/**
 * A loopback TCP proxy in front of a server that can be cut: while cut, open connections are destroyed and new
 * ones closed at once, as when the server is unreachable.
 */
export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<CuttableProxy> {
    const port = await freePort();
    let proxy!: CuttableProxy;
    const server = createServer((client) => {
      if (proxy.cut) return void client.destroy();
      const upstream = connect(target.port, target.host);
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on("close", () => proxy.sockets.delete(s));
        s.on("error", () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    proxy = new CuttableProxy(server, port);
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.setCut(true);
    await new Promise((r) => this.server.close(r));
  }
}
