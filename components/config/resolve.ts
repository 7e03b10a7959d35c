import type { TopicSpec } from "../../lib/contract/kafka-env.ts";
import { quantityToBytes } from "../model.ts";
import { credentialsSecretName } from "../names.ts";
import type { ParsedConfig } from "./schema.ts";

const defaultImages = {
  elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:9.1.5",
  opensearch: "opensearchproject/opensearch:2.19.3",
  kibana: "docker.elastic.co/kibana/kibana:9.1.5",
  "opensearch-dashboards": "opensearchproject/opensearch-dashboards:2.19.3",
} as const;

/** The validated deployment, with every engine-dependent default resolved. */
export type HelkConfig = Omit<ParsedConfig, "engine" | "dashboards" | "kafka" | "kubernetes"> & {
  kubernetes: ParsedConfig["kubernetes"] & { credentialsSecret: string };
  engine: ParsedConfig["engine"] & { image: string; security: boolean };
  dashboards: ParsedConfig["dashboards"] & { kind: "kibana" | "opensearch-dashboards"; image: string };
  kafka: Omit<ParsedConfig["kafka"], "topics"> & { topics: TopicSpec[] };
};

/** Host name clients on the Docker host use for published ports: the advertised host, else the bind address. */
export function publishedHost(config: HelkConfig): string {
  const bind = config.ports.bindAddress;
  if (config.ports.advertisedHost) return config.ports.advertisedHost;
  if (bind === "0.0.0.0" || bind === "::") return "127.0.0.1";
  return bind.includes(":") ? `[${bind}]` : bind;
}

export function matchingDashboards(kind: ParsedConfig["engine"]["kind"]): "kibana" | "opensearch-dashboards" {
  return kind === "elasticsearch" ? "kibana" : "opensearch-dashboards";
}

export function engineSecurityOn(config: ParsedConfig): boolean {
  return config.engine.security ?? config.engine.kind === "elasticsearch";
}

/** The derived values of a valid config: engine image and security, dashboards kind and image, replication, Secret name. */
export function resolveConfig(parsed: ParsedConfig): HelkConfig {
  const dashboardsKind = parsed.dashboards.kind ?? matchingDashboards(parsed.engine.kind);
  const defaultReplication = Math.min(3, parsed.kafka.brokers);
  return {
    ...parsed,
    kafka: {
      ...parsed.kafka,
      topics: parsed.kafka.topics.map((t) => resolveTopic(parsed, t, defaultReplication)),
    },
    engine: { ...parsed.engine, image: parsed.engine.image ?? defaultImages[parsed.engine.kind], security: engineSecurityOn(parsed) },
    dashboards: { ...parsed.dashboards, kind: dashboardsKind, image: parsed.dashboards.image ?? defaultImages[dashboardsKind] },
    kubernetes: { ...parsed.kubernetes, credentialsSecret: parsed.kubernetes.credentialsSecret ?? credentialsSecretName(parsed.name) },
  };
}

/** Hours an event topic keeps messages unless `retentionHours` says otherwise. */
const DEFAULT_TOPIC_RETENTION_HOURS = 168;

/**
 * A topic as the kafka-topics job creates it: replication defaulted, sizes in bytes, and the dead-letter topic's
 * retention taken from `helk:retention.deadLetters` (its size spread over the partitions).
 */
export function resolveTopic(parsed: ParsedConfig, topic: ParsedConfig["kafka"]["topics"][number], defaultReplication: number): TopicSpec {
  const deadLetters = topic.name === parsed.kafka.deadLetterTopic ? parsed.retention.deadLetters : undefined;
  const retentionBytes = deadLetters
    ? Math.ceil(quantityToBytes(deadLetters.size) / topic.partitions)
    : topic.retentionSizePerPartition === undefined
      ? undefined
      : quantityToBytes(topic.retentionSizePerPartition);
  return {
    name: topic.name,
    partitions: topic.partitions,
    replicationFactor: topic.replicationFactor ?? defaultReplication,
    retentionHours: topic.retentionHours ?? (deadLetters ? deadLetters.days * 24 : DEFAULT_TOPIC_RETENTION_HOURS),
    ...(retentionBytes === undefined ? {} : { retentionBytes }),
  };
}
