import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import type { KafkaConfig } from "kafkajs";
import { z } from "zod";
import { commaList, EnvContractError, jsonText, parseEnv, type EnvValue } from "./env.ts";
import type { KafkaAclScope } from "./kafka-acls.ts";
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
  caFile: "HELK_KAFKA_CA_FILE",
  saslUsername: "HELK_KAFKA_SASL_USERNAME",
  saslPasswordFile: "HELK_KAFKA_SASL_PASSWORD_FILE",
  /** Never read: named so that a password given as a value is refused with a pointer to the file variable. */
  saslPassword: "HELK_KAFKA_SASL_PASSWORD",
} as const;

const brokerList = commaList("broker").refine((brokers) => brokers.every((b) => /^[^\s:]+:\d{1,5}$/.test(b)), "each broker must be host:port");

const absoluteFile = (what: string) => z.string().startsWith("/", `must be an absolute path of ${what}`);

/**
 * How every client of ours secures its Kafka connection. Unset: plaintext, no login (the lab's default). With
 * `HELK_KAFKA_CA_FILE`: TLS, the brokers' certificates verified against that CA (never skipped). With the
 * SASL pair as well: SCRAM-SHA-512 login, the password read from a file (secrets are files, never env values).
 */
export const kafkaSecurityEnvShape = {
  [KAFKA_ENV.caFile]: absoluteFile("a PEM file of the CA certificate(s) that issued the brokers' certificates").optional(),
  [KAFKA_ENV.saslUsername]: z.string().min(1).optional(),
  [KAFKA_ENV.saslPasswordFile]: absoluteFile("a file holding the SCRAM password").optional(),
  [KAFKA_ENV.saslPassword]: z
    .never({ error: `passwords are read from files only: write it to a file of mode 0600 and set ${KAFKA_ENV.saslPasswordFile}` })
    .optional(),
} as const;

const kafkaSecurityEnvSchema = z.object(kafkaSecurityEnvShape);

/** The one SASL mechanism our clients and brokers use. */
export const KAFKA_SASL_MECHANISM = "scram-sha-512";

/** How to reach Kafka, read and checked: brokers, and the CA and login when the cluster is secured. */
export interface KafkaClientSettings {
  brokers: string[];
  /** TLS with certificate verification against `ca` (PEM, from `caFile`). */
  tls?: { caFile: string; ca: string };
  sasl?: { mechanism: typeof KAFKA_SASL_MECHANISM; username: string; password: string };
}

/** What a client of ours writes into its env to reach a secured cluster: paths of files mounted into it. */
export interface KafkaClientSecurity {
  caFile: string;
  sasl?: { username: string; passwordFile: string };
}

/** The env of a client's security settings (none for a plaintext cluster). */
export function toSecurityEnv(security: KafkaClientSecurity | undefined): Record<string, EnvValue> {
  if (security === undefined) return {};
  return {
    [KAFKA_ENV.caFile]: security.caFile,
    ...(security.sasl ? { [KAFKA_ENV.saslUsername]: security.sasl.username, [KAFKA_ENV.saslPasswordFile]: security.sasl.passwordFile } : {}),
  };
}

/**
 * Client settings from parsed variables: checks that the SASL pair comes whole and only over TLS, and reads the
 * CA and password files. Throws {@link EnvContractError} naming every variable and file at fault.
 */
export function kafkaClientSettings(
  brokers: string[],
  parsed: z.output<typeof kafkaSecurityEnvSchema>,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): KafkaClientSettings {
  const problems: string[] = [];
  const read = (variable: string, path: string): string | undefined => {
    try {
      return readFile(path);
    } catch (error) {
      problems.push(`${variable} (${path}): cannot read the file: ${(error as Error).message}`);
      return undefined;
    }
  };
  const caFile = parsed[KAFKA_ENV.caFile];
  const username = parsed[KAFKA_ENV.saslUsername];
  const passwordFile = parsed[KAFKA_ENV.saslPasswordFile];

  let tls: KafkaClientSettings["tls"];
  if (caFile !== undefined) {
    const ca = read(KAFKA_ENV.caFile, caFile);
    if (ca !== undefined) {
      const problem = certificatesProblem(ca);
      if (problem) problems.push(`${KAFKA_ENV.caFile} (${caFile}): ${problem}`);
      else tls = { caFile, ca };
    }
  }

  let sasl: KafkaClientSettings["sasl"];
  if ((username === undefined) !== (passwordFile === undefined)) {
    const [given, missing] = username === undefined ? [KAFKA_ENV.saslPasswordFile, KAFKA_ENV.saslUsername] : [KAFKA_ENV.saslUsername, KAFKA_ENV.saslPasswordFile];
    problems.push(`${missing} (not set): required with ${given}: a SCRAM login needs both the user name and the password file`);
  } else if (username !== undefined && passwordFile !== undefined) {
    if (caFile === undefined)
      problems.push(`${KAFKA_ENV.caFile} (not set): required with ${KAFKA_ENV.saslUsername}: logins are sent over TLS only`);
    const content = read(KAFKA_ENV.saslPasswordFile, passwordFile);
    // Files written by editors and `echo` end with a newline that is not part of the password.
    const password = content?.replace(/\r?\n$/, "");
    if (password === "") problems.push(`${KAFKA_ENV.saslPasswordFile} (${passwordFile}): the file is empty`);
    else if (password !== undefined) sasl = { mechanism: KAFKA_SASL_MECHANISM, username, password };
  }
  if (problems.length > 0) throw new EnvContractError(`invalid Kafka client settings:\n  ${problems.join("\n  ")}`);
  return { brokers, ...(tls ? { tls } : {}), ...(sasl ? { sasl } : {}) };
}

/** Why `pem` is not a list of certificates to trust, or undefined when it is one. */
function certificatesProblem(pem: string): string | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) return "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file";
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (error) {
      return `certificate ${i + 1} of ${blocks.length} does not parse: ${(error as Error).message}`;
    }
  }
  return undefined;
}

/** What every client of ours reads to reach Kafka: brokers and security. */
export const kafkaClientEnvShape = { [KAFKA_ENV.brokers]: brokerList, ...kafkaSecurityEnvShape } as const;

/** Client settings of a process whose Kafka settings come from env only (brokers from a flag win). */
export function clientFromEnv(env: Record<string, string | undefined> = process.env, flags: { brokers?: string } = {}): KafkaClientSettings {
  const parsed = parseEnv(z.object(kafkaClientEnvShape), { ...env, [KAFKA_ENV.brokers]: flags.brokers ?? env[KAFKA_ENV.brokers] }, "Kafka client settings");
  return kafkaClientSettings(parsed[KAFKA_ENV.brokers], parsed);
}

/** Settings of a plaintext cluster given as its brokers, or settings as they are (for helpers taking either). */
export function asClientSettings(kafka: readonly string[] | KafkaClientSettings): KafkaClientSettings {
  return Array.isArray(kafka) ? { brokers: [...kafka] } : (kafka as KafkaClientSettings);
}

/**
 * The kafkajs client configuration for `settings`: the one place TLS and SASL options are made, so no client
 * of ours can turn certificate verification off.
 */
export function toKafkaConfig(settings: KafkaClientSettings, options: Omit<KafkaConfig, "brokers" | "ssl" | "sasl">): KafkaConfig {
  return {
    ...options,
    brokers: settings.brokers,
    ...(settings.tls ? { ssl: { ca: [settings.tls.ca], rejectUnauthorized: true } } : {}),
    ...(settings.sasl ? { sasl: { mechanism: settings.sasl.mechanism, username: settings.sasl.username, password: settings.sasl.password } } : {}),
  };
}

/** What a consumer of the event topics reads (the enrichment service; notebooks get brokers and topics). */
export const consumerEnvShape = {
  ...kafkaClientEnvShape,
  [KAFKA_ENV.inputTopics]: commaList("topic").default(DEFAULT_EVENT_TOPICS),
  [KAFKA_ENV.deadLetterTopic]: z.string().min(1).default(DEFAULT_DEAD_LETTER_TOPIC),
  [KAFKA_ENV.consumerGroup]: z.string().min(1).default(DEFAULT_CONSUMER_GROUP),
} as const;

/** What the kafka-topics setup job reads: the brokers and the topics as a JSON list. */
export const topicsJobEnvSchema = z.object({
  ...kafkaClientEnvShape,
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

/** Client settings and topics of the kafka-topics setup job. */
export function topicsJobFromEnv(env: Record<string, string | undefined> = process.env): { kafka: KafkaClientSettings; topics: TopicSpec[] } {
  const parsed = parseEnv(topicsJobEnvSchema, env, "kafka-topics job settings");
  return { kafka: kafkaClientSettings(parsed.HELK_KAFKA_BROKERS, parsed), topics: parsed.HELK_KAFKA_TOPICS };
}

/** What the kafka-acls setup job reads: a super user's client settings and the names the ACLs are written for. */
export const aclsJobEnvSchema = z.object({
  ...kafkaClientEnvShape,
  [KAFKA_ENV.inputTopics]: consumerEnvShape[KAFKA_ENV.inputTopics],
  [KAFKA_ENV.deadLetterTopic]: consumerEnvShape[KAFKA_ENV.deadLetterTopic],
  [KAFKA_ENV.consumerGroup]: consumerEnvShape[KAFKA_ENV.consumerGroup],
});

/** Client settings and ACL scope of the kafka-acls setup job. */
export function aclsJobFromEnv(env: Record<string, string | undefined> = process.env): { kafka: KafkaClientSettings; scope: KafkaAclScope } {
  const parsed = parseEnv(aclsJobEnvSchema, env, "kafka-acls job settings");
  return {
    kafka: kafkaClientSettings(parsed.HELK_KAFKA_BROKERS, parsed),
    scope: { eventTopics: parsed.HELK_INPUT_TOPICS, deadLetterTopic: parsed.HELK_DEAD_LETTER_TOPIC, consumerGroup: parsed.HELK_CONSUMER_GROUP },
  };
}

/** What notebooks get: the brokers and event topics (and the engine client env, lib/contract/engine-env.ts). */
export const notebookKafkaEnvShape = {
  [KAFKA_ENV.brokers]: consumerEnvShape[KAFKA_ENV.brokers],
  [KAFKA_ENV.inputTopics]: consumerEnvShape[KAFKA_ENV.inputTopics],
} as const;
