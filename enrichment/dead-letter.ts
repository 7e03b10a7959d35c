import type { Producer } from "kafkajs";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.ts";
import { retrying, type RetryOptions } from "./retry.ts";

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

/** Raw bytes kept in a dead letter at most, so a dead letter always fits Kafka's default 1 MB message limit. */
export const MAX_DEAD_LETTER_RAW_BYTES = 256 * 1024;

/**
 * The dead-letter message: JSON with the reason, the source topic/partition/offset, and the original message
 * (UTF-8 text, or base64 when it is not text; cut at {@link MAX_DEAD_LETTER_RAW_BYTES}). The reason and source
 * are also headers, for tools that route on headers.
 */
export function deadLetterMessage(letter: DeadLetter, now = new Date()) {
  const { source } = letter;
  const raw = source.value ?? Buffer.alloc(0);
  const kept = raw.subarray(0, MAX_DEAD_LETTER_RAW_BYTES);
  const isText = letter.stage === "index" || isUtf8(kept);
  const value = {
    reason: letter.reason,
    stage: letter.stage,
    source: { topic: source.topic, partition: source.partition, offset: source.offset, timestamp: source.timestamp },
    raw: isText ? kept.toString("utf8") : kept.toString("base64"),
    raw_encoding: isText ? "utf8" : "base64",
    raw_bytes: raw.byteLength,
    raw_truncated: kept.byteLength < raw.byteLength,
    ...(letter.document === undefined ? {} : { document: letter.document }),
    failed_at: now.toISOString(),
  };
  return {
    key: source.key,
    value: JSON.stringify(value),
    headers: {
      "helk-reason": letter.reason.slice(0, 1000),
      "helk-stage": letter.stage,
      "helk-source-topic": source.topic,
      "helk-source-partition": String(source.partition),
      "helk-source-offset": source.offset,
    },
  };
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export class DeadLetterSink {
  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly options: { metrics: Metrics; log: Logger; retry: Omit<RetryOptions, "log"> },
  ) {}

  /** Sends the letters (acks from all in-sync replicas), retrying until Kafka takes them. */
  async send(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const messages = letters.map((l) => deadLetterMessage(l));
    await retrying(
      `dead-letter write of ${letters.length} messages`,
      () => this.producer.send({ topic: this.topic, acks: -1, messages }),
      () => true,
      { ...this.options.retry, log: this.options.log },
    );
    for (const l of letters) {
      this.options.metrics.deadLettered.inc({ stage: l.stage });
      this.options.log.warn({ stage: l.stage, reason: l.reason, topic: l.source.topic, partition: l.source.partition, offset: l.source.offset }, "dead-lettered");
    }
  }
}
