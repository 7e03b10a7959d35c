import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { asClientSettings, type KafkaClientSettings, toKafkaConfig } from "./contract/kafka-env.ts";
import { NXLOG_ENVELOPE, SYSMON_EVENT_TYPES } from "./contract/shipper-events.ts";
import { recordingLines } from "./datasets.ts";

/** What a replay sends: nxlog as recorded, or converted to what winlogbeat 6 / 7 would have shipped. */
export type ReplayShape = "nxlog" | "winlogbeat6" | "winlogbeat7";

/** The `recordings` entry that stands for standard input. */
export const STDIN = "-";

/**
 * Replays event files into Kafka: Security-Datasets recordings (zips of nxlog JSON lines), plain JSON-lines
 * files, or standard input. nxlog events go as recorded or converted to the winlogbeat 6 / 7 shapes; events of
 * other shapes go as they are, and so does a line that is not JSON (the service dead-letters it, the replay goes
 * on). Messages are keyed by host, so one host's events stay in order on one partition (the enrichment join
 * relies on a process's creation coming before its connections).
 */
/** Where to produce: brokers, and the CA and login of a secured cluster (lib/contract/kafka-env.ts). */
export interface ReplayOptions extends KafkaClientSettings {
  topic: string;
  /** Recording zips, JSON-lines files (told apart by their first bytes), or {@link STDIN}. */
  recordings: string[];
  /** Shape nxlog events are sent in. Default `nxlog` (as recorded). */
  shape?: ReplayShape;
  /** Read for {@link STDIN}. Default `process.stdin`. */
  stdin?: Readable;
  /** Stop after this many events per recording. */
  limit?: number;
  /** Messages per produce request. Default 500. */
  batchSize?: number;
  /** Called after each produce request with the running total. */
  onProgress?: (produced: number) => void;
}

const MAX_BATCH_CHARS = 256 * 1024;

export interface ReplayResult {
  produced: number;
  /** Per input: messages produced, and how many of them were lines that are not JSON (sent as they are). */
  perRecording: { path: string; produced: number; notJson: number }[];
}

export async function replayRecordings(options: ReplayOptions): Promise<ReplayResult> {
  const kafka = new Kafka(toKafkaConfig(options, { clientId: "helk-replay", logLevel: logLevel.NOTHING }));
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const result: ReplayResult = { produced: 0, perRecording: [] };
    for (const path of options.recordings) {
      const counts = await replayOne(producer, path, options, (n) => options.onProgress?.(result.produced + n));
      result.produced += counts.produced;
      result.perRecording.push({ path, ...counts });
    }
    return result;
  } finally {
    await producer.disconnect();
  }
}

async function replayOne(producer: Producer, path: string, options: ReplayOptions, progress: (n: number) => void): Promise<{ produced: number; notJson: number }> {
  const batchSize = options.batchSize ?? 500;
  const shape = options.shape ?? "nxlog";
  let batch: { key: string; value: string }[] = [];
  let batchChars = 0;
  let produced = 0;
  let notJson = 0;
  const send = async (): Promise<void> => {
    await producer.send({ topic: options.topic, acks: -1, messages: batch });
    produced += batch.length;
    batch = [];
    batchChars = 0;
    progress(produced);
  };
  for await (const line of inputLines(path, options.stdin ?? process.stdin)) {
    // Read on rather than break: leaving recordingLines early closes the zip under a live stream (ESPIPE).
    if (options.limit !== undefined && produced + batch.length >= options.limit) continue;
    const message = replayMessage(line, shape);
    if (message.notJson) notJson++;
    batch.push(message);
    batchChars += message.value.length;
    // One produce request becomes one record batch per partition, which must stay under the broker's 1 MB limit.
    if (batch.length >= batchSize || batchChars > MAX_BATCH_CHARS) await send();
  }
  if (batch.length > 0) await send();
  return { produced, notJson };
}

/** The Kafka message for one input line: keyed by the event's host; a line that is not JSON goes as it is. */
export function replayMessage(line: string, shape: ReplayShape): { key: string; value: string; notJson: boolean } {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return { key: "", value: line, notJson: true };
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) return { key: "", value: line, notJson: false };
  const fields = event as Record<string, unknown>;
  const isNxlog = "Hostname" in fields && "Channel" in fields && "EventID" in fields;
  const value = shape === "nxlog" || !isNxlog ? line : JSON.stringify(convertNxlogEvent(fields, shape));
  return { key: eventHost(fields).toLowerCase(), value, notJson: false };
}

/** The host an event of any shape the service reads comes from ("" when it names none). */
function eventHost(event: Record<string, unknown>): string {
  const nested = (outer: unknown, field: string) => (typeof outer === "object" && outer !== null ? (outer as Record<string, unknown>)[field] : undefined);
  const host = event.Hostname ?? event.computer_name ?? event.Computer ?? nested(event.winlog, "computer_name") ?? nested(event.host, "name");
  return typeof host === "string" ? host : "";
}

/** Zip files start with a local file header (or, when empty, the end-of-central-directory record). */
const ZIP_MAGIC = [Buffer.from("PK\x03\x04", "latin1"), Buffer.from("PK\x05\x06", "latin1")];

/** Non-empty lines of a recording zip, a plain JSON-lines file, or `stdin` for {@link STDIN}. */
export async function* inputLines(path: string, stdin: Readable): AsyncGenerator<string> {
  if (path !== STDIN && (await startsWithZipMagic(path))) {
    yield* recordingLines(path);
    return;
  }
  const lines = createInterface({ input: path === STDIN ? stdin : createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== "") yield line;
}

async function startsWithZipMagic(path: string): Promise<boolean> {
  const file = await open(path, "r");
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await file.read(head, 0, 4, 0);
    return bytesRead === 4 && ZIP_MAGIC.some((magic) => magic.equals(head));
  } finally {
    await file.close();
  }
}

/**
 * An nxlog flat event as winlogbeat would have shipped the same Windows event: 6.x (`log_name`,
 * `event_data`, `computer_name`, string `record_number`) or 7+ (`winlog.*`, `host.name`). Event data values
 * become strings, as Windows (and winlogbeat) write them.
 */
export function convertNxlogEvent(event: Record<string, unknown>, shape: "winlogbeat6" | "winlogbeat7"): Record<string, unknown> {
  const eventData: Record<string, string> = {};
  for (const key in event) {
    const v = event[key];
    if (v === null || v === undefined) continue;
    // nxlog writes Sysmon's own EventType (registry, WMI) over its envelope field of that name.
    if (NXLOG_ENVELOPE.has(key) && !(key === "EventType" && typeof v === "string" && SYSMON_EVENT_TYPES.test(v))) continue;
    eventData[key] = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  const user = event.UserID === undefined ? undefined : { identifier: event.UserID, name: event.AccountName, domain: event.Domain, type: event.AccountType };
  const timestamp = event["@timestamp"] ?? event.TimeCreated;
  if (shape === "winlogbeat6") {
    return {
      "@timestamp": timestamp,
      beat: { name: "winlogbeat", version: "6.8.23", hostname: event.Hostname },
      type: "wineventlog",
      log_name: event.Channel,
      event_id: event.EventID,
      computer_name: event.Hostname,
      record_number: event.RecordNumber === undefined ? undefined : String(event.RecordNumber),
      source_name: event.SourceName,
      provider_guid: event.ProviderGuid,
      process_id: event.ExecutionProcessID,
      thread_id: event.ThreadID,
      task: event.Category,
      opcode: event.Opcode,
      level: event.Severity ?? event.Level,
      message: event.Message,
      user,
      event_data: eventData,
    };
  }
  return {
    "@timestamp": timestamp,
    agent: { type: "winlogbeat", version: "7.17.0", hostname: event.Hostname },
    ecs: { version: "1.12.0" },
    host: { name: event.Hostname },
    event: { code: event.EventID, provider: event.SourceName, kind: "event" },
    log: { level: String(event.Severity ?? event.Level ?? "information").toLowerCase() },
    message: event.Message,
    winlog: {
      api: "wineventlog",
      channel: event.Channel,
      event_id: event.EventID,
      computer_name: event.Hostname,
      record_id: event.RecordNumber,
      provider_name: event.SourceName,
      provider_guid: event.ProviderGuid,
      process: event.ExecutionProcessID === undefined ? undefined : { pid: event.ExecutionProcessID, thread: { id: event.ThreadID } },
      task: event.Category,
      opcode: event.Opcode,
      user,
      event_data: eventData,
    },
  };
}

/** How long a new topic may take to have a leader for every partition (a busy machine takes seconds). */
const TOPIC_LEADERS_TIMEOUT_MS = 60_000;

/**
 * Creates `topic` when it does not exist (for labs and tests; a deployed stack's topics come from its setup job)
 * and waits until every partition has a leader. The wait is ours: kafkajs' own (`waitForLeaders`) gives up after
 * 5 s and can then crash the process with an unhandled rejection.
 */
export async function ensureTopic(
  kafka: string[] | KafkaClientSettings,
  topic: string,
  options: { partitions?: number; configEntries?: { name: string; value: string }[] } = {},
): Promise<boolean> {
  const admin = new Kafka(toKafkaConfig(asClientSettings(kafka), { clientId: "helk-replay", logLevel: logLevel.NOTHING })).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      waitForLeaders: false,
      topics: [{ topic, numPartitions: options.partitions ?? 3, replicationFactor: 1, configEntries: options.configEntries }],
    });
    const deadline = Date.now() + TOPIC_LEADERS_TIMEOUT_MS;
    for (;;) {
      const leaders = await admin.fetchTopicMetadata({ topics: [topic] }).then(
        ({ topics }) => {
          const partitions = topics[0]?.partitions ?? [];
          return partitions.length >= (created ? (options.partitions ?? 3) : 1) && partitions.every((p) => p.leader >= 0);
        },
        () => false,
      );
      if (leaders) return created;
      if (Date.now() > deadline) throw new Error(`Kafka topic ${topic}: partitions without a leader after ${TOPIC_LEADERS_TIMEOUT_MS / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await admin.disconnect();
  }
}
