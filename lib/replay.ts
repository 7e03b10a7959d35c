import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { NXLOG_ENVELOPE, type EventShape } from "../enrichment/transforms/shape.ts";
import { recordingLines } from "./datasets.ts";

/**
 * Replays Security-Datasets recordings (nxlog JSON lines) into Kafka, as nxlog or converted to the
 * winlogbeat 6 / 7 shapes. Messages are keyed by host, so one host's events stay in order on one partition
 * (the enrichment join relies on a process's creation coming before its connections).
 */
export interface ReplayOptions {
  brokers: string[];
  topic: string;
  /** Recording zip paths (see `lib/datasets.ts`). */
  recordings: string[];
  /** Shape to send. Default `nxlog` (as recorded). */
  shape?: EventShape;
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
  perRecording: { path: string; produced: number }[];
}

export async function replayRecordings(options: ReplayOptions): Promise<ReplayResult> {
  const kafka = new Kafka({ clientId: "helk-replay", brokers: options.brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    const result: ReplayResult = { produced: 0, perRecording: [] };
    for (const path of options.recordings) {
      const produced = await replayOne(producer, path, options, (n) => options.onProgress?.(result.produced + n));
      result.produced += produced;
      result.perRecording.push({ path, produced });
    }
    return result;
  } finally {
    await producer.disconnect();
  }
}

async function replayOne(producer: Producer, path: string, options: ReplayOptions, progress: (n: number) => void): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  const shape = options.shape ?? "nxlog";
  let batch: { key: string; value: string }[] = [];
  let batchChars = 0;
  let produced = 0;
  const send = async (): Promise<void> => {
    await producer.send({ topic: options.topic, acks: -1, messages: batch });
    produced += batch.length;
    batch = [];
    batchChars = 0;
    progress(produced);
  };
  for await (const line of recordingLines(path)) {
    // Read on rather than break: leaving recordingLines early closes the zip under a live stream (ESPIPE).
    if (options.limit !== undefined && produced + batch.length >= options.limit) continue;
    const event = JSON.parse(line) as Record<string, unknown>;
    const value = shape === "nxlog" ? line : JSON.stringify(convertNxlogEvent(event, shape));
    batch.push({ key: String(event.Hostname ?? "").toLowerCase(), value });
    batchChars += value.length;
    // One produce request becomes one record batch per partition, which must stay under the broker's 1 MB limit.
    if (batch.length >= batchSize || batchChars > MAX_BATCH_CHARS) await send();
  }
  if (batch.length > 0) await send();
  return produced;
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
    if (NXLOG_ENVELOPE.has(key) || v === null || v === undefined) continue;
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
  brokers: string[],
  topic: string,
  options: { partitions?: number; configEntries?: { name: string; value: string }[] } = {},
): Promise<boolean> {
  const admin = new Kafka({ clientId: "helk-replay", brokers, logLevel: logLevel.NOTHING }).admin();
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
