import { z } from "zod";
import { attackEnvShape } from "../lib/contract/attack-env.ts";
import { engineEnvShape } from "../lib/contract/engine-env.ts";
import { enrichmentMemoryEnvShape } from "../lib/contract/enrichment-env.ts";
import { commaList, EnvContractError, parseEnv, wholeNumber } from "../lib/contract/env.ts";
import { geoipEnvShape } from "../lib/contract/geoip-env.ts";
import { consumerEnvShape, kafkaClientSettings, type KafkaClientSettings } from "../lib/contract/kafka-env.ts";
import { DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS, DEFAULT_JOIN_OPTIONS, DEFAULT_KNOWN_CHANNELS, DEFAULT_MAX_EVENT_BYTES } from "./transforms/index.ts";

/** Every setting, from environment variables (the shared parts from lib/contract/). */
export const enrichmentEnvSchema = z.object({
  ...consumerEnvShape,
  ...engineEnvShape,
  ...attackEnvShape,
  ...geoipEnvShape,
  ...enrichmentMemoryEnvShape,
  HELK_HTTP_HOST: z.string().min(1).default("127.0.0.1"),
  HELK_HTTP_PORT: wholeNumber(0, 65535).default(8080),
  HELK_KNOWN_CHANNELS: commaList("channel").default(DEFAULT_KNOWN_CHANNELS),
  HELK_MAX_EVENT_BYTES: wholeNumber(1024).default(DEFAULT_MAX_EVENT_BYTES),
  HELK_JOIN_CACHE_ENTRIES: wholeNumber(1).default(DEFAULT_JOIN_OPTIONS.maxEntries),
  HELK_JOIN_MAX_AGE_MS: wholeNumber(1).default(DEFAULT_JOIN_OPTIONS.maxAgeMs),
  HELK_JOIN_WAIT_MS: wholeNumber(0).default(DEFAULT_JOIN_OPTIONS.waitMs),
  HELK_JOIN_MAX_WAITING: wholeNumber(1).default(DEFAULT_JOIN_OPTIONS.maxWaiting),
  /** Events whose own time is further than this from their shipper's are flagged `clock_skewed`. */
  HELK_CLOCK_SKEW_THRESHOLD_SECONDS: wholeNumber(1).default(DEFAULT_CLOCK_SKEW_THRESHOLD_SECONDS),
  /** Documents per bulk request at most (requests pack documents of any number of Kafka batches). */
  HELK_BULK_MAX_DOCS: wholeNumber(1).default(2000),
  /** Bulk request body size at most, in bytes (characters) of NDJSON. */
  HELK_BULK_MAX_BYTES: wholeNumber(1024, 100 * 1024 * 1024).default(5 * 1024 * 1024),
  /** Bulk requests in flight at most: the engine indexes one while the next is sent and the one after is packed. */
  HELK_BULK_IN_FLIGHT: wholeNumber(1, 64).default(3),
  /** Longest pause between retries of an engine or Kafka write that got no (or a 429/5xx) answer. */
  HELK_RETRY_MAX_MS: wholeNumber(10).default(10_000),
  /**
   * A document the engine keeps refusing for this long (item 429/5xx other than a disk block) is dead-lettered
   * with the engine's last reason instead of being retried on (5 minutes).
   */
  HELK_RETRY_GIVE_UP_MS: wholeNumber(1000).default(300_000),
  /**
   * Writes failing (or nothing written while work waits) for this long mark the pipeline stalled: `/readyz`
   * answers 503 with the reason, `helk_enrichment_stalled` is 1 and the log says why (30 s, so within a minute).
   */
  HELK_STALL_AFTER_MS: wholeNumber(1000).default(30_000),
  HELK_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/**
 * V8 flags the service runs with (the Dockerfile's CMD repeats them; keep both in step): a bounded heap keeps
 * the resident size under the 256 MiB target with the join cache full (see bench/enrichment.bench.ts).
 */
export const SERVICE_NODE_FLAGS = ["--max-old-space-size=144", "--max-semi-space-size=8"];

/** The settings, with the Kafka client's read and checked (CA and password files loaded). */
export type EnrichmentConfig = z.output<typeof enrichmentEnvSchema> & { kafka: KafkaClientSettings };

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads and validates the configuration; the error names every bad variable and why. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EnrichmentConfig {
  const parsed = parseEnv(enrichmentEnvSchema, env, "enrichment configuration", (message) => new ConfigError(message));
  try {
    return { ...parsed, kafka: kafkaClientSettings(parsed.HELK_KAFKA_BROKERS, parsed) };
  } catch (error) {
    throw error instanceof EnvContractError ? new ConfigError(error.message) : error;
  }
}
