import kafkajs, { type Admin, type Producer } from "kafkajs";
import type { Logger } from "pino";
import type { PipelineHealth } from "./health.ts";
import type { Metrics } from "./metrics.ts";
import { retrying, type RetryOptions } from "./retry.ts";

// kafkajs is CommonJS: its enums come through the default export under ESM.
const { ConfigResourceTypes } = kafkajs;

/** Where a message came from in Kafka. */
export interface MessageRef {
  topic: string;
  partition: number;
  offset: string;
  /** Kafka message time (ms since epoch, as a string like kafkajs gives it). */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface DeadLetter {
  source: MessageRef;
  /** `parse`: a transform rejected the message; `index`: the engine rejected the document. */
  stage: "parse" | "index";
  reason: string;
  /** What to keep when the message's own bytes are not at hand (a joined document). */
  document?: unknown;
}

/** Raw bytes kept in a dead letter at most, whatever room the topic gives. */
export const MAX_DEAD_LETTER_RAW_BYTES = 256 * 1024;

/** Characters of the reason kept in a dead letter; one that must shrink to fit keeps {@link SHORT_REASON_CHARS}. */
const MAX_REASON_CHARS = 16 * 1024;
const SHORT_REASON_CHARS = 1000;

/**
 * What Kafka adds to a record's key, value and headers (length varints, attributes, deltas; generous), and to a
 * record batch (its 61-byte header; generous). The topic's `max.message.bytes` bounds a whole batch.
 */
const RECORD_OVERHEAD_BYTES = 64;
export const BATCH_OVERHEAD_BYTES = 256;

/** Kafka's default `message.max.bytes` (1 MiB + 12), what a topic without its own `max.message.bytes` takes. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** Room for one dead letter (and for a batch of them) on a topic whose `max.message.bytes` is `topicMax`. */
export function deadLetterBudget(topicMax: number): number {
  return Math.max(MIN_DEAD_LETTER_BYTES, topicMax - BATCH_OVERHEAD_BYTES);
}

/** The least room a dead letter is given: its reason (cut), source and times fit; the raw bytes may not. */
export const MIN_DEAD_LETTER_BYTES = 4096;

export interface DeadLetterMessage {
  key: Buffer | null;
  value: string;
  headers: Record<string, string>;
}

/** Bytes a dead letter takes in a record batch (an upper bound). */
export function recordBytes(message: DeadLetterMessage): number {
  let bytes = RECORD_OVERHEAD_BYTES + (message.key?.byteLength ?? 0) + Buffer.byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers)) bytes += 8 + Buffer.byteLength(name) + Buffer.byteLength(value);
  return bytes;
}

/**
 * The dead-letter message: JSON with the reason, the source topic/partition/offset, and the original message
 * (UTF-8 text, or base64 when it is not text; at most {@link MAX_DEAD_LETTER_RAW_BYTES}). The reason and source
 * are also headers, for tools that route on headers. The record never takes more than `maxBytes`
 * ({@link recordBytes}; the topic's `max.message.bytes` less the batch overhead): a joined document goes first,
 * then the raw bytes are cut (`raw_truncated`, `raw_bytes` keep the original size), then the reason; the source
 * and the stage always stay.
 */
export function deadLetterMessage(letter: DeadLetter, options: { maxBytes?: number; now?: Date } = {}): DeadLetterMessage {
  const { source } = letter;
  const maxBytes = options.maxBytes ?? deadLetterBudget(KAFKA_DEFAULT_MAX_MESSAGE_BYTES);
  const raw = source.value ?? Buffer.alloc(0);
  const isText = letter.stage === "index" || isUtf8(raw.subarray(0, textCut(raw, MAX_DEAD_LETTER_RAW_BYTES)));
  const failedAt = (options.now ?? new Date()).toISOString();
  const build = (rawBytes: number, withDocument: boolean, reasonChars: number): DeadLetterMessage => {
    const kept = raw.subarray(0, isText ? textCut(raw, rawBytes) : rawBytes);
    const reason = cut(letter.reason, reasonChars);
    const value = {
      reason,
      stage: letter.stage,
      source: { topic: source.topic, partition: source.partition, offset: source.offset, timestamp: source.timestamp },
      raw: isText ? kept.toString("utf8") : kept.toString("base64"),
      raw_encoding: isText ? "utf8" : "base64",
      raw_bytes: raw.byteLength,
      raw_truncated: kept.byteLength < raw.byteLength,
      ...(letter.document === undefined ? {} : withDocument ? { document: letter.document } : { document_dropped: true }),
      failed_at: failedAt,
    };
    return {
      key: source.key,
      value: JSON.stringify(value),
      headers: {
        "helk-reason": cut(reason, SHORT_REASON_CHARS),
        "helk-stage": letter.stage,
        "helk-source-topic": source.topic,
        "helk-source-partition": String(source.partition),
        "helk-source-offset": source.offset,
      },
    };
  };
  const fits = (m: DeadLetterMessage) => recordBytes(m) <= maxBytes;
  const rawBytes = Math.min(raw.byteLength, MAX_DEAD_LETTER_RAW_BYTES);
  const whole = build(rawBytes, true, MAX_REASON_CHARS);
  if (fits(whole)) return whole;
  const noDocument = build(rawBytes, false, MAX_REASON_CHARS);
  if (fits(noDocument)) return noDocument;
  for (const reasonChars of [MAX_REASON_CHARS, SHORT_REASON_CHARS]) {
    if (!fits(build(0, false, reasonChars))) continue;
    // The most raw bytes that fit: JSON escaping and base64 make the size grow unevenly with them.
    let low = 0;
    let high = rawBytes;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (fits(build(mid, false, reasonChars))) low = mid;
      else high = mid - 1;
    }
    return build(low, false, reasonChars);
  }
  return build(0, false, SHORT_REASON_CHARS);
}

/** `text` cut to `chars` characters, saying how long it was. */
function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars)}… (${text.length} characters)`;
}

/** The longest prefix of at most `bytes` bytes that does not end inside a UTF-8 character. */
function textCut(bytes: Buffer, limit: number): number {
  if (limit >= bytes.byteLength) return bytes.byteLength;
  let end = limit;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return end;
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Whether Kafka refused a send as too large for the topic (kafkajs wraps the protocol error without its type). */
export function isTooLarge(err: unknown): boolean {
  for (let e = err as { type?: string; message?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.type === "MESSAGE_TOO_LARGE" || e.type === "RECORD_LIST_TOO_LARGE") return true;
    if (/larger than the max message size|message batch larger than the configured segment size/.test(e.message ?? "")) return true;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return false;
}

/**
 * Writes dead letters to their topic, each and every batch within the topic's `max.message.bytes` (read from the
 * topic; halved again whenever Kafka still says a batch is too large). Other failures are retried with backoff
 * and reported to the pipeline's health (a dead letter that cannot be written holds its offsets back).
 */
export class DeadLetterSink {
  /** Room for one batch of dead letters (bytes). */
  private maxBytes = deadLetterBudget(KAFKA_DEFAULT_MAX_MESSAGE_BYTES);

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly options: { metrics: Metrics; log: Logger; retry: Omit<RetryOptions, "log">; health: PipelineHealth },
  ) {}

  /** Reads the topic's `max.message.bytes` (its own, else the broker's); keeps the current room when it cannot. */
  async readTopicLimit(admin: Admin): Promise<void> {
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: this.topic, configNames: ["max.message.bytes"] }],
      });
      const value = Number(resources[0]?.configEntries.find((e) => e.configName === "max.message.bytes")?.configValue);
      if (Number.isInteger(value) && value > 0) this.maxBytes = deadLetterBudget(value);
      this.options.log.info({ topic: this.topic, maxMessageBytes: value, deadLetterBytes: this.maxBytes }, "dead-letter topic limit read");
    } catch (err) {
      this.options.log.warn({ topic: this.topic, err: (err as Error).message, deadLetterBytes: this.maxBytes }, "could not read the dead-letter topic's max.message.bytes; assuming Kafka's default");
    }
  }

  /** Sends the letters (acks from all in-sync replicas), in batches that fit the topic, retrying until Kafka takes them. */
  async send(letters: DeadLetter[]): Promise<void> {
    let pending = letters;
    while (pending.length > 0) {
      const { messages, count } = this.batch(pending);
      const what = `dead-letter write of ${count} messages`;
      try {
        await retrying(what, () => this.producer.send({ topic: this.topic, acks: -1, messages }), (err) => !isTooLarge(err), {
          ...this.options.retry,
          log: this.options.log,
          onRetry: (reason) => this.options.health.failed("dead-letter topic", reason),
        });
      } catch (err) {
        if (!isTooLarge(err) || this.maxBytes <= MIN_DEAD_LETTER_BYTES) throw err;
        // The topic's limit is lower than read (changed since, or a broker-wide one): make room and write again.
        this.maxBytes = Math.max(MIN_DEAD_LETTER_BYTES, Math.floor(this.maxBytes / 2));
        this.options.log.warn({ topic: this.topic, deadLetterBytes: this.maxBytes, err: (err as Error).message }, "Kafka refused dead letters as too large; cutting them smaller");
        continue;
      }
      this.options.health.succeeded("dead-letter topic");
      for (const l of pending.slice(0, count)) {
        this.options.metrics.deadLettered.inc({ stage: l.stage });
        this.options.log.warn({ stage: l.stage, reason: l.reason.slice(0, 2000), topic: l.source.topic, partition: l.source.partition, offset: l.source.offset }, "dead-lettered");
      }
      pending = pending.slice(count);
    }
  }

  /** The first letters that fit one batch together (at least one). */
  private batch(letters: DeadLetter[]): { messages: DeadLetterMessage[]; count: number } {
    const messages: DeadLetterMessage[] = [];
    let bytes = 0;
    for (const letter of letters) {
      const message = deadLetterMessage(letter, { maxBytes: this.maxBytes });
      const size = recordBytes(message);
      if (messages.length > 0 && bytes + size > this.maxBytes) break;
      messages.push(message);
      bytes += size;
    }
    return { messages, count: messages.length };
  }
}
