import { z } from "zod";
import { commaList, jsonText, parseEnv, type EnvValue } from "./env.ts";
import { DEFAULT_CONSUMER_GROUP, DEFAULT_DEAD_LETTER_TOPIC, DEFAULT_EVENT_TOPICS } from "./names.ts";

/** A topic the kafka-topics setup job creates (partitions grown, retention set; never deleted). */
export const topicSpecSchema = z
  .object({
    name: z.string().min(1),
    partitions: z.number().int().min(1),
    replicationFactor: z.number().int().min(1),
    retentionHours: z.number().int().min(1),
    /** Kafka's `retention.bytes`: most bytes one partition keeps (oldest segments go first); unset: time only. */
    retentionBytes: z.number().int().min(1).optional(),
  })
  .strict();

export type TopicSpec = z.output<typeof topicSpecSchema>;

const MiB = 1024 * 1024;

/**
 * `segment.bytes` of a topic with a size budget: Kafka deletes whole closed segments only, so a partition may hold
 * its `retention.bytes` plus one segment. A tenth of the budget (within Kafka's 1 MiB minimum and its 1 GiB default)
 * keeps that overshoot small.
 */
export function segmentBytes(retentionBytes: number): number {
  return Math.min(1024 * MiB, Math.max(MiB, Math.floor(retentionBytes / 10)));
}

/** Most bytes one partition of a topic with `retention.bytes` may hold on disk: the budget and the open segment. */
export function partitionCeilingBytes(retentionBytes: number): number {
  return retentionBytes + segmentBytes(retentionBytes);
}

/** Kafka topic configs the kafka-topics job sets: retention by time, and by size when the topic has a budget. */
export function topicConfigEntries(topic: TopicSpec): { name: string; value: string }[] {
  return [
    { name: "retention.ms", value: String(topic.retentionHours * 3_600_000) },
    // -1 (no size limit) written out, so that removing a budget from the config removes it from the topic.
    { name: "retention.bytes", value: String(topic.retentionBytes ?? -1) },
    ...(topic.retentionBytes === undefined ? [] : [{ name: "segment.bytes", value: String(segmentBytes(topic.retentionBytes)) }]),
  ];
}

/** How clients of ours reach Kafka, as the Kafka component describes it. */
export interface KafkaEndpoint {
  /** Bootstrap servers inside the stack, comma-separated (`host:9092,...`). */
  bootstrap: string;
  eventTopics: string[];
  deadLetterTopic: string;
  topics: TopicSpec[];
}

export const KAFKA_ENV = {
  brokers: "HELK_KAFKA_BROKERS",
  inputTopics: "HELK_INPUT_TOPICS",
  deadLetterTopic: "HELK_DEAD_LETTER_TOPIC",
  consumerGroup: "HELK_CONSUMER_GROUP",
  topics: "HELK_KAFKA_TOPICS",
} as const;

const brokerList = commaList("broker").refine((brokers) => brokers.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), "each broker must be host:port");

/** What a consumer of the event topics reads (the enrichment service; notebooks get brokers and topics). */
export const consumerEnvShape = {
  [KAFKA_ENV.brokers]: brokerList,
  [KAFKA_ENV.inputTopics]: commaList("topic").default(DEFAULT_EVENT_TOPICS),
  [KAFKA_ENV.deadLetterTopic]: z.string().min(1).default(DEFAULT_DEAD_LETTER_TOPIC),
  [KAFKA_ENV.consumerGroup]: z.string().min(1).default(DEFAULT_CONSUMER_GROUP),
} as const;

/** What the kafka-topics setup job reads: the brokers and the topics as a JSON list. */
export const topicsJobEnvSchema = z.object({
  [KAFKA_ENV.brokers]: brokerList,
  [KAFKA_ENV.topics]: jsonText(z.array(topicSpecSchema).min(1), "a list of topics"),
});

/** The env a consumer of the event topics gets; `consumerGroup` only for one that joins a group. */
export function toConsumerEnv(kafka: KafkaEndpoint, consumerGroup?: string): Record<string, EnvValue> {
  return {
    [KAFKA_ENV.brokers]: kafka.bootstrap,
    [KAFKA_ENV.inputTopics]: kafka.eventTopics.join(","),
    ...(consumerGroup === undefined ? {} : { [KAFKA_ENV.deadLetterTopic]: kafka.deadLetterTopic, [KAFKA_ENV.consumerGroup]: consumerGroup }),
  };
}

/** The env of the kafka-topics setup job. */
export function toTopicsJobEnv(kafka: KafkaEndpoint): Record<string, EnvValue> {
  return { [KAFKA_ENV.brokers]: kafka.bootstrap, [KAFKA_ENV.topics]: JSON.stringify(kafka.topics) };
}

/** Brokers and topics of the kafka-topics setup job. */
export function topicsJobFromEnv(env: Record<string, string | undefined> = process.env): { brokers: string[]; topics: TopicSpec[] } {
  const parsed = parseEnv(topicsJobEnvSchema, env, "kafka-topics job settings");
  return { brokers: parsed.HELK_KAFKA_BROKERS, topics: parsed.HELK_KAFKA_TOPICS };
}

/** What notebooks get: the brokers and event topics (and the engine client env, lib/contract/engine-env.ts). */
export const notebookKafkaEnvShape = {
  [KAFKA_ENV.brokers]: consumerEnvShape[KAFKA_ENV.brokers],
  [KAFKA_ENV.inputTopics]: consumerEnvShape[KAFKA_ENV.inputTopics],
} as const;
