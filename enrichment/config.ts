import { z } from "zod";
import { DEFAULT_JOIN_OPTIONS, DEFAULT_KNOWN_CHANNELS, DEFAULT_MAX_EVENT_BYTES } from "./transforms/index.ts";

const list = (what: string) =>
  z
    .string()
    .transform((s) => s.split(",").map((x) => x.trim()).filter((x) => x !== ""))
    .refine((items) => items.length > 0, `must list at least one ${what} (comma-separated)`);

const brokerList = list("broker").refine((brokers) => brokers.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), "each broker must be host:port");

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** Every setting, from environment variables (names in the common contract, issue 4). */
const schema = z.object({
  HELK_KAFKA_BROKERS: brokerList,
  HELK_INPUT_TOPICS: list("topic").default(["winlogbeat"]),
  HELK_DEAD_LETTER_TOPIC: z.string().min(1).default("helk-dead-letter"),
  HELK_CONSUMER_GROUP: z.string().min(1).default("helk-enrichment"),
  HELK_ENGINE_KIND: z.enum(["elasticsearch", "opensearch"]),
  HELK_ENGINE_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  HELK_ENGINE_USERNAME: z.string().min(1).optional(),
  HELK_ENGINE_PASSWORD: z.string().optional(),
  HELK_ENGINE_INSECURE_TLS: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  /** ATT&CK STIX bundle (path or URL, gz or plain); without it technique context is "unknown". */
  HELK_ATTACK_BUNDLE: z.string().min(1).optional(),
  HELK_HTTP_HOST: z.string().min(1).default("127.0.0.1"),
  HELK_HTTP_PORT: integer(0, 65535).default(8080),
  HELK_KNOWN_CHANNELS: list("channel").default(DEFAULT_KNOWN_CHANNELS),
  HELK_MAX_EVENT_BYTES: integer(1024).default(DEFAULT_MAX_EVENT_BYTES),
  HELK_JOIN_CACHE_ENTRIES: integer(1).default(DEFAULT_JOIN_OPTIONS.maxEntries),
  HELK_JOIN_MAX_AGE_MS: integer(1).default(DEFAULT_JOIN_OPTIONS.maxAgeMs),
  HELK_JOIN_WAIT_MS: integer(0).default(DEFAULT_JOIN_OPTIONS.waitMs),
  HELK_JOIN_MAX_WAITING: integer(1).default(DEFAULT_JOIN_OPTIONS.maxWaiting),
  /** Documents per bulk request at most (requests pack documents of any number of Kafka batches). */
  HELK_BULK_MAX_DOCS: integer(1).default(2000),
  /** Bulk request body size at most, in bytes (characters) of NDJSON. */
  HELK_BULK_MAX_BYTES: integer(1024, 100 * 1024 * 1024).default(5 * 1024 * 1024),
  /** Bulk requests in flight at most: the engine indexes one while the next is sent and the one after is packed. */
  HELK_BULK_IN_FLIGHT: integer(1, 64).default(3),
  /** Longest pause between retries of an engine or Kafka write that got no (or a 429/5xx) answer. */
  HELK_RETRY_MAX_MS: integer(10).default(10_000),
  HELK_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/**
 * V8 flags the service runs with (the Dockerfile's CMD repeats them; keep both in step): a bounded heap keeps
 * the resident size under the 256 MiB target with the join cache full (see bench/enrichment.bench.ts).
 */
export const SERVICE_NODE_FLAGS = ["--max-old-space-size=144", "--max-semi-space-size=8"];

export type EnrichmentConfig = z.output<typeof schema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads and validates the configuration; the error names every bad variable and why. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): EnrichmentConfig {
  const relevant = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith("HELK_") && v !== ""));
  const parsed = schema.safeParse(relevant);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? "?");
    const shown = relevant[variable] === undefined ? "not set" : variable.includes("PASSWORD") ? "set" : `"${relevant[variable]}"`;
    return `${variable} (${shown}): ${relevant[variable] === undefined && issue.code === "invalid_type" ? "required" : issue.message}`;
  });
  throw new ConfigError(`invalid enrichment configuration:\n  ${problems.join("\n  ")}`);
}
